"""Durations as marketers write them: ``30m``, ``12h``, ``7d``, ``2w``."""

import re
from datetime import timedelta

from leadpond.kit.errors import RefusedValue

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class DurationError(RefusedValue):
    """Not a duration (its ``words`` and ``params`` as ``ConditionError``'s)."""


def parse_duration(text: object) -> timedelta:
    """``7d`` as a timedelta; raises DurationError (a ValueError) with a readable message."""
    found = _DURATION.match(text) if isinstance(text, str) else None
    if found is None or int(found.group(1)) == 0:
        raise DurationError(
            "a duration is written like 30m, 12h, 7d or 2w, not {given!r}", given=text
        )
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration (the inverse of ``parse_duration``)."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
