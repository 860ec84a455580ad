"""Satisfaction surveys: CSAT after a solved request, NPS and custom survey campaigns,
surveys after delivery, the fatigue rule, opt-outs and the results (see docs/surveys.md)."""
