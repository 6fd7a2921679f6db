"""The visual journey builder's model: one journey of the playbook's ``journeys:`` section as
plain data the builder's cards edit, the edits a card makes (add a step after another or in an
arm, delete, move), and the journey spliced back into the playbook's text.

The builder edits the same document as the YAML: a journey read into the model and written back
unedited is the same data (keys the builder does not know — a step kind added later, a step's
``name`` — stay as they are), and the splice goes through ruamel's round trip, so comments and
layout outside the edited values are kept. Nothing is validated here: ``validate_playbook``
(``journeys.definitions.compile_journeys``) checks what the builder wrote, and its error paths
are mapped to the card or field they name.
"""

import copy
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from leadpond.console.playbook_forms import PlaybookDraft
from leadpond.console.playbook_yaml import (
    insert_entry,
    lines_below_kept,
    plain,
    styled,
    update_entry,
)

EXIT = "exit"
# The step kinds the builder draws with fields, by the document key that makes them.
STEP_KEYS = {
    "send": "send",
    "send_winner": "send_winner",
    "wait": "wait",
    "wait_for": "wait_for",
    "wait_until": "wait_until",
    "branch": "branch",
    "split": "split",
    "add_tags": "tags",
    "remove_tags": "tags",
    "add_points": "points",
    "set_stage": "stage",
    "set_trait": "trait",
    "send_content": "send_content",
    "webhook": "webhook",
    "notify": "notify",
    "assign_owner": "owner",
    "enroll": "enroll",
    "exit": "exit",
}
STEP_KINDS: tuple[str, ...] = ("send", "send_content", "wait", "wait_for", "wait_until")
STEP_KINDS += ("wait_condition", "branch", "split", "tags", "points", "stage", "trait")
STEP_KINDS += ("owner", "notify", "webhook", "enroll", "send_winner", "exit")
# Trigger kinds the builder draws with fields (others — added later — are a YAML snippet).
TRIGGER_KINDS: tuple[str, ...] = ("event", "tag", "tag_removed", "stage", "segment")
TRIGGER_KINDS += ("segment_exited", "score", "schedule", "api")
_STEP_PATH = re.compile(r"^journeys\[(\d+)\]\.steps\[(\d+)\](.*)$")
_JOURNEY_PATH = re.compile(r"^journeys\[(\d+)\]\.?(.*)$")
_SUFFIX = re.compile(r"-(\d+)$")
# Steps that do not run into the following one by ``next``.
_ARMED = ("branch", "split", "exit")


def step_kind(step: dict[str, Any]) -> str:
    """The kind the builder edits this step as; ``yaml`` when it is none it knows (or several)."""
    kinds = {STEP_KEYS[k] for k in step if k in STEP_KEYS and step[k] not in (None, False)}
    if kinds == {"wait_until"} and not isinstance(step["wait_until"], str):
        # Until a condition holds (a mapping with ``if``); another shape is edited as YAML.
        until = step["wait_until"]
        return "wait_condition" if isinstance(until, dict) and "if" in until else "yaml"
    if kinds == {"owner"} and not _plain_owner(step["assign_owner"]):
        return "yaml"  # round-robin users with WeCom userids: edited as YAML
    return kinds.pop() if len(kinds) == 1 else "yaml"


def _plain_owner(assign: Any) -> bool:
    """True when the builder's fields show all of an ``assign_owner``: the account's owner, or
    a round robin of users by email only."""
    if not isinstance(assign, dict):
        return False
    listed = assign.get("round_robin")
    return listed is None or (isinstance(listed, list) and all(isinstance(u, str) for u in listed))


def trigger_kind(trigger: Any) -> str:
    """The trigger's kind, or ``yaml`` when the builder does not know its shape."""
    if not isinstance(trigger, dict):
        return "yaml"
    named = [k for k in TRIGGER_KINDS if k in trigger and trigger[k] not in (None, False)]
    allowed = {named[0], "where"} if named == ["event"] else set(named)
    if len(named) != 1 or not set(trigger) <= allowed:
        return "yaml"
    return named[0]


def new_trigger(kind: str) -> dict[str, Any]:
    """A trigger of this kind with the fields to fill in."""
    if kind == "score":
        return {"score": {"model": "", "gte": 0}}
    if kind == "schedule":
        return {"schedule": {"cron": "0 9 * * 1", "segment": ""}}
    if kind == "api":
        return {"api": True}
    return {kind: ""}


@dataclass
class JourneyModel:
    """One journey: its entries other than ``steps`` as written, and its steps as mappings."""

    header: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # the journey's keys as written

    @classmethod
    def of(cls, journey: dict[str, Any]) -> "JourneyModel":
        data = plain(journey)
        steps = data.pop("steps", None)
        listed = [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []
        return cls(data, listed, list(journey))

    @classmethod
    def blank(cls, key: str) -> "JourneyModel":
        """A new journey: an event trigger and one step to start from."""
        return cls(
            {"key": key, "name": "", "trigger": {"event": ""}},
            [{"id": "wait-1", "wait": "1d"}],
            ["key", "name", "trigger", "steps"],
        )

    @property
    def key(self) -> str:
        return str(self.header.get("key") or "")

    def to_data(self) -> dict[str, Any]:
        """The journey as document data, its keys in their written order (new ones last)."""
        data = {k: v for k, v in self.header.items() if v not in (None, "", {}) or k == "key"}
        data["steps"] = self.steps
        ordered = {k: data[k] for k in self.order if k in data}
        return {**ordered, **{k: v for k, v in data.items() if k not in ordered}}

    def ids(self) -> list[str]:
        return [str(s.get("id", "")) for s in self.steps]

    def unique_id(self, wanted: str) -> str:
        taken, name, number = set(self.ids()), wanted, 1
        while name in taken or name == EXIT:
            number += 1
            name = f"{_SUFFIX.sub('', wanted)}-{number}"
        return name

    def following(self, index: int) -> str | None:
        """The step after ``index`` in the list, where a step without ``next`` goes."""
        return str(self.steps[index + 1]["id"]) if index + 1 < len(self.steps) else None

    def successor(self, index: int) -> str:
        """Where someone leaving step ``index`` goes when it has no arms: ``next`` or the
        following step (``exit`` after the last)."""
        step = self.steps[index]
        if step_kind(step) == "exit":
            return EXIT
        return str(step.get("next") or self.following(index) or EXIT)

    def new_step(self, kind: str, index: int, templates: dict[str, list[str]]) -> dict[str, Any]:
        """A step of ``kind`` with sensible values, to go at ``index``: its arms go where the
        step at ``index`` is now (or exit)."""
        onward = str(self.steps[index]["id"]) if index < len(self.steps) else EXIT
        body: dict[str, Any]
        if kind == "send":
            channel = next((c for c in ("email", "sms", "wecom") if templates.get(c)), "email")
            listed = templates.get(channel) or ["welcome"]
            body = {"send": {"channel": channel, "template": listed[0]}}
        elif kind == "wait":
            body = {"wait": "1d"}
        elif kind == "wait_for":
            body = {"wait_for": {"event": "Email Clicked", "timeout": "3d"}}
        elif kind == "wait_until":
            body = {"wait_until": "09:00"}
        elif kind == "branch":
            body = {"branch": [{"if": {"tag": "vip"}, "goto": onward}, {"goto": onward}]}
        elif kind == "split":
            body = {
                "split": [
                    {"variant": "A", "weight": 50, "goto": onward},
                    {"variant": "B", "weight": 50, "goto": onward},
                ]
            }
        elif kind == "tags":
            body = {"add_tags": ["journey:" + (self.key or "new")]}
        elif kind == "points":
            body = {"add_points": {"engagement": 5}}
        elif kind == "stage":
            body = {"set_stage": "engaged"}
        elif kind == "trait":
            body = {"set_trait": {"lead_status": "nurtured"}}
        elif kind == "send_winner":
            body = {"send_winner": {"split": "", "by": "clicks", "after": "24h"}}
        elif kind == "send_content":
            channel = next((c for c in ("email", "wechat", "sms") if templates.get(c)), "email")
            listed = templates.get(channel) or ["content"]
            body = {"send_content": {"channel": channel, "template": listed[0], "limit": 1}}
        elif kind == "wait_condition":
            body = {"wait_until": {"if": {"tag": "vip"}, "timeout": "3d"}}
        elif kind == "owner":
            body = {"assign_owner": {"from": "account"}}
        elif kind == "notify":
            listed = templates.get("email") or ["owner_note"]
            body = {"notify": {"channel": "email", "template": listed[0], "to": "owner"}}
        elif kind == "webhook":
            listed = templates.get("webhook") or ["webhook"]
            body = {"webhook": {"template": listed[0]}}
        elif kind == "enroll":
            body = {"enroll": {"journey": ""}}
        else:
            body = {"exit": True}
        return {"id": self.unique_id(kind.replace("_", "-")), **body}

    def add_after(self, index: int, kind: str, templates: dict[str, list[str]]) -> int:
        """A new step run right after step ``index`` (-1: first); returns its index. A step
        that jumped on (``next``) now goes to the new one, which goes where it jumped."""
        at = index + 1
        step = self.new_step(kind, at, templates)
        if index >= 0:
            before = self.steps[index]
            jump = before.get("next")
            if jump is not None and step_kind(before) not in _ARMED:
                _onward(step, str(jump), None)
                before["next"] = step["id"]
        self.steps.insert(at, step)
        return at

    def add_in_arm(self, index: int, arm: int, kind: str, templates: dict[str, list[str]]) -> int:
        """A new step on arm ``arm`` of branch or split ``index``, before where the arm went;
        returns its index. It goes right after the branch, so a branch without a fallback arm
        gets one that keeps people whom no arm takes going where they went."""
        step = self.steps[index]
        kind_of = step_kind(step)
        arms: list[dict[str, Any]] = step[kind_of]
        was = str(arms[arm].get("goto") or EXIT)
        if kind_of == "branch" and arms and "if" in arms[-1]:
            arms.append({"goto": self.following(index) or EXIT})
        new = self.new_step(kind, index + 1, templates)
        _onward(new, was, self.following(index))
        arms[arm]["goto"] = new["id"]
        self.steps.insert(index + 1, new)
        return index + 1

    def delete(self, index: int) -> None:
        """Remove a step; jumps to it go where it went (exit when it was the last), and the
        step before it, if it ran into it, goes there too."""
        gone = self.steps[index]
        name, following = str(gone.get("id")), self.following(index)
        arms = step_kind(gone) in ("branch", "split")
        onward = following if arms or gone.get("next") is None else str(gone["next"])
        if step_kind(gone) == "exit":
            onward = EXIT
        if index > 0:
            before = self.steps[index - 1]
            if before.get("next") is None and step_kind(before) not in _ARMED:
                if onward is None:
                    before.pop("next", None)
                else:
                    _set_next(before, onward, following)
        del self.steps[index]
        for step in self.steps:
            rename_jumps(step, name, onward or EXIT)

    def move(self, index: int, offset: int) -> int:
        """Swap a step with its neighbour (the validation says if a jump now goes backward)."""
        target = index + offset
        if 0 <= index < len(self.steps) and 0 <= target < len(self.steps):
            self.steps[index], self.steps[target] = self.steps[target], self.steps[index]
            return target
        return index


def _onward(step: dict[str, Any], target: str, natural: str | None) -> None:
    """A new step goes on to ``target``: by ``next``, or by its arms (an exit stays one)."""
    kind = step_kind(step)
    if kind in ("branch", "split"):
        for arm in step[kind]:
            arm["goto"] = target
    elif kind != "exit":
        _set_next(step, target, natural)


def _set_next(step: dict[str, Any], target: str, natural: str | None) -> None:
    """``next`` written only when it is not where the list order goes anyway."""
    if target == natural:
        step.pop("next", None)
    else:
        step["next"] = target


# The inner jumps of a step (besides ``next`` and the arms): inner mapping -> its key.
_INNER_JUMPS: tuple[tuple[str, str], ...] = (("wait_for", "goto_timeout"),)
_INNER_JUMPS += (("wait_until", "goto_timeout"), ("send_content", "fallback"))


def rename_jumps(step: dict[str, Any], old: str, new: str, *, split_too: bool = False) -> None:
    """Every jump of ``step`` to ``old`` goes to ``new`` instead (``split_too``: a winner's
    split named ``old`` as well — on a rename, not when ``old`` is deleted)."""
    if step.get("next") == old:
        step["next"] = new
    for kind in ("branch", "split"):
        for arm in step.get(kind) or []:
            if isinstance(arm, dict) and arm.get("goto") == old:
                arm["goto"] = new
    inner = _INNER_JUMPS + ((("send_winner", "split"),) if split_too else ())
    for holder_key, key in inner:
        holder = step.get(holder_key)
        if isinstance(holder, dict) and holder.get(key) == old:
            holder[key] = new


# -- the playbook document -------------------------------------------------------------------


def journeys_of(draft: PlaybookDraft) -> list[dict[str, Any]]:
    found = draft.document.get("journeys")
    return [j for j in found if isinstance(j, dict)] if isinstance(found, list) else []


def index_of(draft: PlaybookDraft, key: str) -> int | None:
    found = draft.document.get("journeys")
    for index, journey in enumerate(found if isinstance(found, list) else []):
        if isinstance(journey, dict) and journey.get("key") == key:
            return index
    return None


def spliced(text: str, model: JourneyModel, original_key: str | None) -> tuple[str, int]:
    """The playbook's text with the journey put in (in place of ``original_key``'s, else at the
    end); every other line as it was. Returns the text and the journey's index."""
    draft = PlaybookDraft.from_yaml(text)
    data = copy.deepcopy(model.to_data())
    found = draft.document.get("journeys")
    if not isinstance(found, CommentedSeq):
        insert_entry(draft.document, len(draft.document), "journeys", [])
        found = draft.document["journeys"]
        found.fa.set_block_style()
    index = index_of(draft, original_key) if original_key else None
    if index is None:
        with lines_below_kept(draft.document, "journeys"):  # they are about what follows
            found.append(_styled_journey(data))
        index = len(found) - 1
    else:
        update_entry(found, index, data)
    return draft.to_yaml(), index


def _styled_journey(data: dict[str, Any]) -> CommentedMap:
    """A new journey laid out as the default playbook writes them: one line per step."""
    node: CommentedMap = styled(data, flow=False)
    for key in ("trigger", "limits"):
        if isinstance(data.get(key), dict):
            node[key] = styled(data[key], flow=True)
    node["steps"] = CommentedSeq(styled(s, flow=True) for s in data["steps"])
    node["steps"].fa.set_block_style()
    return node


def diff(before: str, after: str) -> str:
    """What saving changes in the playbook's text, as a unified diff."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        "playbook (current)",
        "playbook (saved)",
        n=2,
    )
    return "".join(lines)


@dataclass(frozen=True)
class Placed:
    """Where a validation error belongs: a step's card (its index), or the journey's settings
    (``step`` None), and the rest of the path inside it (``send.template``)."""

    step: int | None
    inner: str
    message: str


def place_errors(
    errors: list[dict[str, Any]], index: int
) -> tuple[list[Placed], list[dict[str, Any]]]:
    """The errors about journey ``index`` placed on its cards; the other errors as they are."""
    placed: list[Placed] = []
    elsewhere: list[dict[str, Any]] = []
    for error in errors:
        path, message = str(error.get("path") or ""), str(error.get("message") or "")
        step = _STEP_PATH.match(path)
        journey = _JOURNEY_PATH.match(path)
        if step and int(step.group(1)) == index:
            placed.append(Placed(int(step.group(2)), step.group(3).lstrip("."), message))
        elif journey and int(journey.group(1)) == index:
            placed.append(Placed(None, journey.group(2), message))
        else:
            elsewhere.append(error)
    return placed, elsewhere
