"""What both SMS providers share: the per-number daily limit and the template parameters.

Both Aliyun and Tencent refuse more than a set number of messages a day to one number (10 by
default, changed in their consoles). A sender has no database and many deliverers run at once,
so it cannot count; core's limits count a number's messages of the day in the outbox against
:func:`sms_daily_limit` and hold the rest before they reach the provider.
"""

from collections.abc import Mapping
from typing import Any

# The providers' default per-number limit (Aliyun and Tencent consoles).
DEFAULT_DAILY_LIMIT_PER_NUMBER = 10


def sms_daily_limit(settings: Mapping[str, Any]) -> int:
    """How many messages a day the workspace's SMS provider takes for one number."""
    return int(settings.get("daily_limit_per_number") or DEFAULT_DAILY_LIMIT_PER_NUMBER)


def template_values(params: Any) -> list[tuple[str, str]]:
    """Template parameters as (name, text) pairs in their given order; providers take text only.

    A dict keeps its key order; a list is positional (names "1", "2", … as Tencent numbers them).
    """
    if params is None:
        return []
    if isinstance(params, Mapping):
        return [(str(name), _text(value)) for name, value in params.items()]
    if isinstance(params, list | tuple):
        return [(str(place), _text(value)) for place, value in enumerate(params, start=1)]
    raise ValueError("template parameters must be an object or a list")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
