"""The segment builder's visual atoms, written as the condition language's YAML and read back
from it when a condition is made only of atoms (``leadpond.conditions`` parses and checks what
the builder writes; nothing here decides what a condition means).

People segments use person atoms. Account segments hold the accounts whose linked people match
(``account_match``: any/all/none, see docs/segments.md); their atoms each speak of the account:
its fields (``{account: …}``) or someone at it (``{account_people: {any: …}}``).
"""

import re
from dataclasses import dataclass
from typing import Any

from leadpond.conditions.source import SourceError, load_located
from leadpond.kit import yaml

PERSON, ACCOUNT = "person", "account"
PERSON_ATOMS = ("tag", "stage", "score", "event", "persona")
ACCOUNT_ATOMS = ("account_field", "people_tag", "people_stage", "people_title", "people_score")
ATOM_KINDS = {PERSON: PERSON_ATOMS, ACCOUNT: ACCOUNT_ATOMS}
# English labels (the page translates them).
ATOM_LABELS = {
    "tag": "tag",
    "stage": "stage",
    "score": "score",
    "event": "event",
    "persona": "persona",
    "account_field": "company field",
    "people_tag": "someone tagged",
    "people_stage": "someone in stage",
    "people_title": "someone's title mentions",
    "people_score": "someone scoring",
}
# The account's columns; any other field name is one of its traits.
ACCOUNT_COLUMNS = ("industry", "name", "domain", "uscc")
ACCOUNT_FIELDS = ("industry", "size", "name", "domain", "uscc")
FIELD_OPS = ("eq", "in", "contains")
MEMBER_COLUMNS = {
    PERSON: (
        ("id", "id"),
        ("name", "name"),
        ("email", "email"),
        ("company", "company"),
        ("title", "title"),
    ),
    ACCOUNT: (
        ("id", "id"),
        ("name", "Company name"),
        ("domain", "Domain"),
        ("industry", "Industry"),
    ),
}
_CASELESS = "(?i)"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_UNESCAPE = re.compile(r"\\(.)")


@dataclass
class Atom:
    """One common condition: has a tag, is in a stage, scores at least, did an event, persona;
    for accounts: a field of the account, or someone at it with a tag, stage, title or score."""

    kind: str
    value: str = ""
    model: str = ""
    number: float = 0.0
    within: str = ""
    field: str = "industry"
    op: str = "eq"

    def as_data(self) -> dict[str, Any] | None:
        """The atom as condition data, or None while it is incomplete."""
        if self.kind in ACCOUNT_ATOMS:
            return self._account_data()
        inner = self._person_data(self.kind)
        if self.kind == "event" and inner is not None and self.within.strip():
            inner["within"] = self.within.strip()
        return inner

    def _person_data(self, kind: str) -> dict[str, Any] | None:
        value = self.value.strip()
        if kind == "tag" and value:
            return {"tag": value}
        if kind == "stage" and comma_words(value):
            return {"stage": {"in": comma_words(value)}}
        if kind == "score" and self.model.strip():
            return {"score": {self.model.strip(): {"gte": _plain(self.number)}}}
        if kind == "event" and value:
            return {"event": value, "count": {"gte": max(int(self.number), 1)}}
        if kind == "persona" and value:
            return {"persona": value}
        if kind == "title" and comma_words(value):
            pattern = "|".join(re.escape(word) for word in comma_words(value))
            return {"trait": "title", "matches": _CASELESS + pattern}
        return None

    def _account_data(self) -> dict[str, Any] | None:
        if self.kind == "account_field":
            field, words = self.field.strip(), comma_words(self.value)
            if not field or not words:
                return None
            values = [_typed(field, word) for word in words]
            test: Any = values[0]
            if self.op == "in":
                test = {"in": values}
            elif self.op == "contains":
                test = {"contains": self.value.strip()}
            return {"account": {field: test}}
        inner = self._person_data(self.kind.removeprefix("people_"))
        return None if inner is None else {"account_people": {"any": inner}}


def comma_words(text: str) -> list[str]:
    """The words of a comma-separated input (Chinese commas and 、 separate too)."""
    return [word.strip() for word in re.split(r"[,，、]", text) if word.strip()]


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else number


def _typed(field: str, word: str) -> str | int | float:
    """Columns hold text; a trait that looks like a number is compared as one (``size: 500``)."""
    if field in ACCOUNT_COLUMNS or not _NUMBER.match(word):
        return word
    return _plain(float(word))


def to_data(atoms: list[Atom], match: str) -> dict[str, Any] | None:
    """The condition the atoms describe (``match`` is ``all`` or ``any``)."""
    parts = [data for data in (a.as_data() for a in atoms) if data is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {match: parts}


def to_yaml(atoms: list[Atom], match: str) -> str:
    """The condition the atoms describe as YAML text (empty when no atom is complete)."""
    condition = to_data(atoms, match)
    if condition is None:
        return ""
    return yaml.dump(condition, flow=None)


def from_yaml(text: str, level: str) -> tuple[str, list[Atom]] | None:
    """(match, atoms) when the condition is exactly what the builder writes for this level;
    None when it has parts only YAML can say (then the builder leaves it to the YAML editor)."""
    if not text.strip():
        return "all", []
    try:
        data = load_located(text).data
    except SourceError:
        return None
    match, items = "all", [data]
    if isinstance(data, dict) and len(data) == 1 and set(data) <= {"all", "any"}:
        match, listed = next(iter(data.items()))
        items = listed if isinstance(listed, list) and len(listed) > 1 else [None]
    atoms = [_atom(item, level) for item in items]
    found = [a for a in atoms if a is not None]
    if len(found) != len(items) or to_data(found, match) != data:
        return None
    return match, found


def _atom(data: Any, level: str) -> Atom | None:
    if not isinstance(data, dict) or (len(data) != 1 and "event" not in data):
        return None
    if level == ACCOUNT:
        if isinstance(data.get("account"), dict) and len(data["account"]) == 1:
            return _field_atom(data["account"])
        inner = data.get("account_people")
        if isinstance(inner, dict) and set(inner) == {"any"}:
            atom = _person_atom(inner["any"])
            if atom is not None and f"people_{atom.kind}" in ACCOUNT_ATOMS:
                atom.kind = f"people_{atom.kind}"
                return atom
        return None
    atom = _person_atom(data)
    return atom if atom is not None and atom.kind in PERSON_ATOMS else None


def _field_atom(fields: dict[str, Any]) -> Atom | None:
    field, test = next(iter(fields.items()))
    if isinstance(test, dict) and set(test) == {"in"} and isinstance(test["in"], list):
        return Atom("account_field", ", ".join(map(str, test["in"])), field=field, op="in")
    if isinstance(test, dict) and set(test) == {"contains"}:
        return Atom("account_field", str(test["contains"]), field=field, op="contains")
    if isinstance(test, str | int | float) and not isinstance(test, bool):
        return Atom("account_field", str(test), field=field, op="eq")
    return None


def _person_atom(data: Any) -> Atom | None:
    if not isinstance(data, dict):
        return None
    if set(data) == {"tag"}:
        return Atom("tag", str(data["tag"]))
    if set(data) == {"stage"} and isinstance(data["stage"], dict) and set(data["stage"]) == {"in"}:
        return Atom("stage", ", ".join(map(str, data["stage"]["in"] or [])))
    if set(data) == {"score"} and isinstance(data["score"], dict) and len(data["score"]) == 1:
        model, test = next(iter(data["score"].items()))
        if isinstance(test, dict) and set(test) == {"gte"} and _is_number(test["gte"]):
            return Atom("score", model=str(model), number=float(test["gte"]))
    if set(data) <= {"event", "count", "within"} and "event" in data:
        count = data.get("count", {}).get("gte") if isinstance(data.get("count"), dict) else None
        if isinstance(count, int | float) and not isinstance(count, bool):
            return Atom("event", str(data["event"]), number=float(count), within=_within(data))
    if set(data) == {"persona"}:
        return Atom("persona", str(data["persona"]))
    if set(data) == {"trait", "matches"} and data["trait"] == "title":
        pattern = str(data["matches"])
        if pattern.startswith(_CASELESS):
            words = pattern.removeprefix(_CASELESS).split("|")
            return Atom("title", ", ".join(_UNESCAPE.sub(r"\1", w) for w in words))
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _within(data: dict[str, Any]) -> str:
    return str(data.get("within") or "")
