"""Tags: one vocabulary of labels for customers, orders, tickets and articles."""
