"""SLA: business calendars, policies, the clock and its warnings (see docs/sla.md)."""
