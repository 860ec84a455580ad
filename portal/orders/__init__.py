"""Orders: received from shops by API or CSV, shown to customers and staff, tracked by guests."""
