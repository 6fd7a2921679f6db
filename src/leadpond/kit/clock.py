"""One place that knows what time it is and how timestamps are parsed."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (what we store on both databases)."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 string (``Z`` or offset allowed) as naive UTC; None when absent, unreadable, or
    outside what a datetime can hold once its offset is applied (year 1 at +01:00)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            return None
    return parsed


def naive_utc(value: datetime) -> datetime:
    """An aware datetime in naive UTC; a naive one is taken to be UTC already."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def isoformat(value: datetime | None) -> str | None:
    """A stored naive-UTC datetime as ISO-8601 with ``Z``."""
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"


def sqlite_datetime(moment: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format (always six fractional digits), for values
    written by a driver-level executemany."""
    text = moment.isoformat(" ")
    return text if len(text) > 19 else text + ".000000"
