"""Embeddable request forms: the builder, the hosted and iframe pages, embed.js and the submission API."""
