"""The segment builder's visual atoms, written as the condition language's YAML (never parsed
here: ``leadpond.conditions`` parses and checks what the builder writes)."""

from dataclasses import dataclass
from typing import Any

import yaml

ATOM_KINDS = ("tag", "stage", "score", "event", "persona")


@dataclass
class Atom:
    """One common condition: has a tag, is in a stage, scores at least, did an event, persona."""

    kind: str
    value: str = ""
    model: str = ""
    number: float = 0.0
    within: str = ""

    def as_data(self) -> dict[str, Any] | None:
        value = self.value.strip()
        if self.kind == "tag" and value:
            return {"tag": value}
        if self.kind == "stage" and value:
            return {"stage": {"in": [v.strip() for v in value.split(",") if v.strip()]}}
        if self.kind == "score" and self.model.strip():
            return {"score": {self.model.strip(): {"gte": self.number}}}
        if self.kind == "event" and value:
            atom: dict[str, Any] = {"event": value, "count": {"gte": max(int(self.number), 1)}}
            if self.within.strip():
                atom["within"] = self.within.strip()
            return atom
        if self.kind == "persona" and value:
            return {"persona": value}
        return None


def to_yaml(atoms: list[Atom], match: str) -> str:
    """The condition the atoms describe (``match`` is ``all`` or ``any``) as YAML text."""
    parts = [data for data in (a.as_data() for a in atoms) if data is not None]
    if not parts:
        return ""
    condition = parts[0] if len(parts) == 1 else {match: parts}
    return yaml.safe_dump(condition, allow_unicode=True, sort_keys=False, default_flow_style=None)
