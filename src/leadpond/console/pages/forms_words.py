"""How the form builder says what cannot be saved: the place by the builder's own labels ("第 2
个字段 · 中文标签") and the reason in the viewer's language, never pydantic's or the API's
English. Every text here is a message id of the console catalogs."""

import re
from collections.abc import Sequence

from leadpond.console.i18n import Translate
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.words import schema_error_words
from leadpond.kit.errors import LeadpondError

# A form's inputs by the schema's names, as the builder labels them.
FORM_INPUTS = {
    "key": "Key",
    "name_zh": "Name (Chinese)",
    "name_en": "Name (English)",
    "status": "Status",
    "intro_zh": "Introduction (Chinese)",
    "intro_en": "Introduction (English)",
    "success_zh": "Success message (Chinese)",
    "success_en": "Success message (English)",
    "redirect_url": "Or redirect to (http/https)",
    "conversion_event": "Also send an event",
    "progressive_max": "Ask at most (empty: all)",
    "min_fill_seconds": "Minimum fill seconds",
    "posts_per_minute": "Posts per minute per address",
    "dedupe_hours": "Same post counted once within hours",
    "captcha": "Captcha",
}
# A field's and a consent's inputs.
ROW_INPUTS = {
    "key": "Field key",
    "type": "Type",
    "label_zh": "Label (Chinese)",
    "label_en": "Label (English)",
    "maps_to": "Fills trait",
    "required": "Required",
    "options": "Options, one a line: value|中文|English",
    "channel": "Channel",
    "wording_zh": "Wording shown (Chinese)",
    "wording_en": "Wording shown (English)",
}
ROWS = {"fields": "Field {number} · {input}", "consents": "Consent {number} · {input}"}
_PART = re.compile(r"[^.\[\]]+")


def form_place(_: Translate, where: str | Sequence[str | int]) -> str:
    """Where in the form (``fields[2].label_zh`` or pydantic's ``('fields', 2, 'label_zh')``)
    as the builder labels it; a name it has no label for as it is."""
    parts = _PART.findall(where) if isinstance(where, str) else [str(p) for p in where]
    if not parts:
        return ""
    if parts[0] in ROWS and len(parts) > 1 and parts[1].isdigit():
        name = next((p for p in reversed(parts[2:]) if not p.isdigit()), "key")
        shown = ROW_INPUTS.get(name)
        if parts[0] == "consents" and name == "key":
            shown = "Key"
        return _(ROWS[parts[0]]).format(number=int(parts[1]) + 1, input=_(shown) if shown else name)
    shown = FORM_INPUTS.get(parts[-1])
    return _(shown) if shown else ".".join(parts)


def placed(_: Translate, place: str, problem: str) -> str:
    """A problem said with its place ("第 2 个字段 · 中文标签：必填")."""
    return _("{place}: {problem}").format(place=place, problem=problem) if place else problem


def schema_problem(_: Translate, error: dict[str, object]) -> str:
    """A pydantic error of the form as typed, in words, with its place."""
    loc = error.get("loc")
    where = [p for p in loc if isinstance(p, str | int)] if isinstance(loc, tuple) else []
    return placed(_, form_place(_, where), schema_error_words(_, error))


def refusal_problem(_: Translate, exc: LeadpondError) -> str:
    """The forms service's refusal in words, with the place its field names."""
    field = exc.details.get("field")
    return placed(_, form_place(_, field) if isinstance(field, str) else "", error_words(exc, _))
