"""Segments: dynamic (a condition) and static (a hand-kept list), kept live and exportable."""
