"""Customer value: RFM scores (recency, frequency, monetary value of orders) and segments."""
