"""Tickets: requests from every channel, their conversations, attachments and history."""
