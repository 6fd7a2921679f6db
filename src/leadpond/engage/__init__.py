"""Engagement: forms a marketer builds and hosts, and events (conferences, salons, webinars)
with registration, badges and check-in."""
