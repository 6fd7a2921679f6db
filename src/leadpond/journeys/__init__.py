"""Journeys: trigger → wait → branch → act, advanced set-wise from rows (docs/journeys.md)."""
