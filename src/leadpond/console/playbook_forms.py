"""The playbook as forms: each section of the parsed document as rows of fields, and the edits a
form makes (set a field, add, remove, reorder) applied to that same document.

The YAML tab and the forms edit one document, read with ruamel.yaml's round trip: a form edit
changes only the values it touches, and the comments, blank lines, ``{...}`` layout and quoting of
everything else are written back as they were. Plain scalars mean what they mean to the playbook
loader (YAML 1.2 booleans: a rule's ``on:`` is text). Nothing is validated here:
``playbooks.service.validate_playbook`` checks what the forms wrote, and its errors name the paths
the fields carry (``score_models[0].rules[2].points``). Conditions are YAML snippets of the
condition language.
"""

import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import StringIO
from typing import Any, ClassVar, Literal

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import ScalarString
from ruamel.yaml.tokens import CommentToken

from leadpond.conditions.source import Path, SourceError, _Loader, format_path, load_located

FieldKind = Literal["text", "number", "flag", "words", "yaml", "stage"]

# Mappings a rule needs even when empty (a tag rule's ``then``); other emptied ones are dropped.
_KEPT_EMPTY = frozenset({"then"})
_NAME_SUFFIX = re.compile(r"-(\d+)$")
_LAST_STEP = re.compile(r"(\.[^.\[]+|\[\d+\])$")
# A key whose value starts on the next line (``rules:``, ``- on:  # note``); group 1 ends at it.
_OPENING = re.compile(r"^([ -]*)[^\s#'\"{\[][^:#]*:\s*(?:#.*)?$")
# What comes before the document's content: comments, directives and the ``---`` line.
_PREAMBLE = re.compile(r"(?:[ \t]*(?:[#%].*)?\n)*---[ \t]*(?:#.*)?\n")
_NO_NOTES = (None, None, None, None)


class SnippetError(ValueError):
    """A condition or mapping typed into a form is not YAML (or not the shape it must be)."""


@dataclass(frozen=True)
class FormField:
    """One input of a form row: ``key`` is dotted below the item (``on.event``, ``cap.per``)."""

    key: str
    label: str
    kind: FieldKind = "text"

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))


@dataclass(frozen=True)
class Section:
    """A list of the playbook shown as form rows; ``children`` are lists inside each row."""

    key: str
    title: str
    fields: tuple[FormField, ...]
    new_item: dict[str, Any]
    name_key: str | None = None  # the field that names an item; new items get a unique value
    children: tuple["Section", ...] = field(default=())


_KEY = FormField("key", "Key")
_ID = FormField("id", "Rule id")
_NAME = FormField("name", "Display name")
_DESCRIPTION = FormField("description", "Description")
_TRIGGER = (
    FormField("on.event", "On events (comma-separated)", "words"),
    FormField("on.where", "Event properties (YAML)", "yaml"),
)
_IF = FormField("if", "Condition (YAML)", "yaml")

STAGES = Section(
    "stages",
    "Stages",
    (
        _KEY,
        _NAME,
        FormField("phase", "Phase"),
        FormField("detour", "Detour (outside the order)", "flag"),
        FormField("sticky", "Sticky", "flag"),
    ),
    {"key": "new-stage"},
    "key",
)
TAG_CATEGORIES = Section(
    "tag_categories", "Tag categories", (_KEY, _NAME, _DESCRIPTION), {"key": "new-category"}, "key"
)
TAG_RULES = Section(
    "tag_rules",
    "Tag rules",
    (
        _ID,
        *_TRIGGER,
        _IF,
        FormField("then.add_tags", "Add tags (comma-separated)", "words"),
        FormField("then.remove_tags", "Remove tags (comma-separated)", "words"),
    ),
    {"id": "new-tag-rule", "then": {}},
    "id",
)
THRESHOLDS = Section(
    "thresholds",
    "Thresholds",
    (
        FormField("at", "At points", "number"),
        FormField("emit", "Emit event"),
        FormField("once_per", "Once per (e.g. 30d)"),
    ),
    {"at": 10, "emit": "Threshold Reached"},
)
SCORE_RULES = Section(
    "rules",
    "Score rules",
    (
        _ID,
        *_TRIGGER,
        _IF,
        FormField("points", "Points", "number"),
        FormField("once", "Once per person", "flag"),
        FormField("cap.points", "Cap (points)", "number"),
        FormField("cap.per", "Cap per (e.g. 7d)"),
        FormField("reason", "Reason"),
    ),
    {"id": "new-score-rule", "points": 1},
    "id",
)
SCORE_MODELS = Section(
    "score_models",
    "Score models",
    (
        _KEY,
        _NAME,
        FormField("half_life", "Half-life (e.g. 90d)"),
        FormField("grades", "Grades (YAML, e.g. {A: 60, B: 40})", "yaml"),
    ),
    {"key": "new-model", "rules": []},
    "key",
    (THRESHOLDS, SCORE_RULES),
)
STAGE_RULES = Section(
    "stage_rules",
    "Stage rules",
    (
        _ID,
        FormField("to", "To stage", "stage"),
        _IF,
        FormField("idle", "After idle for (e.g. 90d)"),
        FormField("allow_regress", "May go back", "flag"),
    ),
    {"to": ""},
)
KEY_EVENTS = Section(
    "key_events",
    "Key events",
    (_ID, FormField("emit", "Emit event"), *_TRIGGER, _IF, FormField("once_per", "Once per")),
    {"id": "new-key-event", "emit": "New Key Event", "if": {"event": "Page Viewed"}},
    "id",
)
PERSONAS = Section(
    "personas",
    "Personas",
    (_KEY, _NAME, _DESCRIPTION, _IF),
    {"key": "new-persona", "if": {"trait": "title", "exists": True}},
    "key",
)
SECTIONS = (STAGES, TAG_CATEGORIES, TAG_RULES, SCORE_MODELS, STAGE_RULES, KEY_EVENTS, PERSONAS)


class _Dumper(yaml.SafeDumper):
    """Snippets (short and without comments) as the forms have always shown them: safe dumping
    with the playbook loader's YAML 1.2 booleans, so ``on`` and ``yes`` are written plain."""


_Dumper.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}
_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def snippet(value: Any) -> str:
    """A condition (or mapping) as the short YAML a form field shows."""
    if value is None:
        return ""
    text = yaml.dump(
        _plain(value),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=90,
    )
    return text.removesuffix("...\n").rstrip("\n")


def parse_snippet(text: str) -> Any:
    """The data of a YAML snippet typed in a form (with the playbook loader's rules)."""
    try:
        data = load_located(text).data
    except SourceError as exc:
        raise SnippetError(exc.message) from None
    if data is not None and not isinstance(data, dict):
        raise SnippetError("expected a mapping such as {tag: vip}")
    return data


@dataclass(frozen=True)
class TextLayout:
    """How a playbook's text is laid out where ruamel.yaml does not remember it."""

    mapping: int = 2  # spaces a nested mapping is indented by
    offset: int = 2  # spaces before a list's dash, under its key
    preamble: str = ""  # comments and directives up to a ``---`` line, written back as they were

    @classmethod
    def of(cls, text: str) -> "TextLayout":
        """Guessed from the first nested mapping and list, as most files indent alike."""
        mapping: int | None = None
        offset: int | None = None
        opened: int | None = None
        for line in text.splitlines():
            stripped = line.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            column = len(line) - len(stripped)
            if opened is not None and stripped.startswith("- ") and offset is None:
                offset = max(column - opened, 0)
            elif opened is not None and column > opened and mapping is None:
                mapping = column - opened
            opening = _OPENING.match(line)
            opened = len(opening.group(1)) if opening else None
        preamble = _PREAMBLE.match(text)
        return cls(mapping or 2, 2 if offset is None else offset, preamble[0] if preamble else "")


class _LoaderScalars(VersionedResolver):
    """Plain scalars resolve as ``load_located`` resolves them, so the draft reads what the loader
    reads, and a string the loader would take for something else is written quoted."""

    table: ClassVar[dict[Any, Any]] = {
        first: list(found) for first, found in _Loader.yaml_implicit_resolvers.items()
    }

    @property
    def versioned_resolver(self) -> Any:
        return self.table


class _Emitter(RoundTripEmitter):
    """ruamel.yaml 0.19 keeps "no line break: just after ``- ``" past the comment that ends a
    ``- {...}  # note`` row, and then writes the next row's first two keys on one line."""

    def write_post_comment(self, event: Any) -> bool:
        written: bool = super().write_post_comment(event)
        if written:
            self.no_newline = False
        return written


def _round_trip(layout: TextLayout) -> YAML:
    round_trip = YAML()
    round_trip.Resolver = _LoaderScalars
    round_trip.Emitter = _Emitter
    round_trip.indent(mapping=layout.mapping, sequence=layout.offset + 2, offset=layout.offset)
    round_trip.width = 4096  # a long flow line is the author's: written back unbroken
    round_trip.preserve_quotes = True
    round_trip.brace_single_entry_mapping_in_flow_sequence = True  # [{tag: x}], not [tag: x]
    return round_trip


def dump_yaml(data: Any, layout: TextLayout = TextLayout()) -> str:
    """A playbook (or a part of it) as the forms write it: what was read is written as it was."""
    text = StringIO()
    text.write(layout.preamble)
    nodes = data if isinstance(data, CommentedMap | CommentedSeq) else _styled(data)
    _round_trip(layout).dump(nodes, text)
    return text.getvalue()


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _words(text: Any) -> list[str]:
    if isinstance(text, list):
        return [str(word) for word in text]
    return [word.strip() for word in str(text or "").split(",") if word.strip()]


def shown(item: dict[str, Any], form_field: FormField) -> Any:
    """What the field's input shows for this item."""
    value: Any = item
    for part in form_field.parts:
        value = value.get(part) if isinstance(value, dict) else None
    value = _plain(value)
    if form_field.kind == "flag":
        return bool(value)
    if form_field.kind == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if form_field.kind == "words":
        return ", ".join(_words(value)) if value is not None else ""
    if form_field.kind == "yaml":
        return snippet(value)
    return "" if value is None else str(value)


def stored(form_field: FormField, raw: Any) -> Any:
    """The document value of what was typed; ``None`` means the key is left out."""
    if form_field.kind == "flag":
        return True if raw else None
    if form_field.kind == "number":
        try:
            return _number(raw)
        except (TypeError, ValueError):
            raise SnippetError("expected a number") from None
    if form_field.kind == "words":
        words = _words(raw)
        if form_field.key == "on.event" and len(words) == 1:
            return words[0]
        return words or None
    if form_field.kind == "yaml":
        return parse_snippet(str(raw or ""))
    text = str(raw or "").strip()
    return text or None


def input_for(error_path: str, inputs: Collection[str]) -> str | None:
    """The field an error is about: its own path, or the nearest field above it
    (``score_models[0].rules[2].if.all[1]`` is about ``score_models[0].rules[2].if``)."""
    path = error_path
    while path:
        if path in inputs:
            return path
        shorter = _LAST_STEP.sub("", path)
        if shorter == path:
            return None
        path = shorter
    return None


class PlaybookDraft:
    """The parsed playbook the forms edit, and the snippets that could not be read yet."""

    def __init__(self, document: dict[str, Any], layout: TextLayout = TextLayout()) -> None:
        self.document: CommentedMap = (
            document if isinstance(document, CommentedMap) else _styled(document, flow=False)
        )
        self.layout = layout
        self.snippet_problems: dict[str, str] = {}

    @classmethod
    def from_yaml(cls, text: str) -> "PlaybookDraft":
        """The draft of a playbook's text; raises ``SnippetError`` when it is not a mapping."""
        try:
            data = load_located(text).data
        except SourceError as exc:
            raise SnippetError(exc.message) from None
        if not isinstance(data, dict):
            raise SnippetError("a playbook is a mapping with version: 1")
        layout = TextLayout.of(text)
        try:
            document = _round_trip(layout).load(text[len(layout.preamble) :])
        except (YAMLError, ValueError) as exc:  # a scalar the loader reads and ruamel cannot
            raise SnippetError(f"the forms cannot read this YAML: {exc}") from None
        _comments_to_their_rows(document)
        return cls(document, layout)

    def to_yaml(self) -> str:
        return dump_yaml(self.document, self.layout)

    def rows(self, list_path: Path) -> list[tuple[int, dict[str, Any]]]:
        """(index, item) of a list's mappings (anything else is for the YAML tab)."""
        found = self._get(list_path)
        if not isinstance(found, list):
            return []
        return [(index, item) for index, item in enumerate(found) if isinstance(item, dict)]

    def stage_keys(self) -> list[str]:
        """The stages' keys, for pickers."""
        return [str(s["key"]) for _, s in self.rows(("stages",)) if s.get("key")]

    def problems(self) -> list[dict[str, Any]]:
        """Snippets that are not YAML, as the service reports errors."""
        return [
            {"path": path, "line": None, "message": message}
            for path, message in sorted(self.snippet_problems.items())
        ]

    def edit(self, item_path: Path, section: Section, form_field: FormField, raw: Any) -> None:
        """Store what a field holds, changing nothing else of the text; a snippet that is not
        YAML is remembered, not stored."""
        where = format_path((*item_path, *form_field.parts))
        try:
            value = stored(form_field, raw)
        except SnippetError as exc:
            self.snippet_problems[where] = str(exc)
            return
        self.snippet_problems.pop(where, None)
        item = self._get(item_path)
        top, *inner = form_field.parts
        if not isinstance(item, CommentedMap) or (value is None and top not in item):
            return
        new = _with(_plain(item.get(top)), inner, value)
        if inner and not new and top not in _KEPT_EMPTY:
            new = None
        if new is None:
            if top in item:
                _drop(item, top)
        elif top in item:
            _update(item, top, new)
        else:
            _insert(item, _position(item, top, _order(section)), top, new)

    def add(self, list_path: Path, section: Section) -> int:
        """Append a new row (with a unique key or id), in the style of the row above; returns
        its index."""
        found = self._get(list_path)
        if not isinstance(found, CommentedSeq):
            found = self._make_list(list_path, section)
        item = _plain(section.new_item)
        if section.name_key:
            item[section.name_key] = self._unique(
                section.name_key, list_path, str(item[section.name_key])
            )
        if section is STAGE_RULES:
            item["to"] = next(iter(self.stage_keys()), "")
        above = found[-1] if found else None
        flow = above.fa.flow_style() if isinstance(above, CommentedMap) else None
        with self._lines_after_list_kept(list_path):
            if not found:
                found.fa.set_block_style()
            found.append(_styled(item, flow))
        self._forget(list_path)
        return len(found) - 1

    def remove(self, list_path: Path, index: int) -> None:
        """Remove a row with the comment lines above it; the other rows keep theirs."""
        found = self._get(list_path)
        if isinstance(found, CommentedSeq) and 0 <= index < len(found):
            with self._lines_after_list_kept(list_path):
                del found[index]
                if not found:
                    _emptied(self._get(list_path[:-1]), str(list_path[-1]))
            self._forget(list_path)

    def move(self, list_path: Path, index: int, offset: int) -> int:
        """Move a row up (``offset`` -1) or down (+1) with its comments; returns where it is
        now."""
        found = self._get(list_path)
        rows = found if isinstance(found, CommentedSeq) else CommentedSeq()
        target = index + offset
        if not (0 <= index < len(rows) and 0 <= target < len(rows)):
            return index
        with self._lines_after_list_kept(list_path):
            rows[index], rows[target] = rows[target], rows[index]
            notes = rows.ca.items  # a row's own comments, by index
            swapped = {target: notes.pop(index, None), index: notes.pop(target, None)}
            notes.update({at: row_notes for at, row_notes in swapped.items() if row_notes})
        self._forget(list_path)
        return target

    def _get(self, path: Path) -> Any:
        node: Any = self.document
        for part in path:
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            else:
                node = node.get(part) if isinstance(node, dict) else None
        return node

    def _make_list(self, list_path: Path, section: Section) -> CommentedSeq:
        parent = self._get(list_path[:-1])
        if not isinstance(parent, CommentedMap):
            raise SnippetError(f"{format_path(list_path[:-1])} is not a mapping")
        key = str(list_path[-1])
        holder = next((s for s in SECTIONS if section in s.children), None)
        order = _order(holder) if holder else ["version", *(s.key for s in SECTIONS)]
        _insert(parent, _position(parent, key, order), key, [])
        found: CommentedSeq = parent[key]
        return found

    @contextmanager
    def _lines_after_list_kept(self, list_path: Path) -> Iterator[None]:
        """The lines below a list (about what follows it) stay there, whatever its rows do."""
        with _lines_below_kept(self._get(list_path[:-1]), list_path[-1]):
            yield

    def _forget(self, list_path: Path) -> None:
        """Rows moved: the remembered snippet problems below the list no longer line up."""
        prefix = format_path(list_path) + "["
        for path in [p for p in self.snippet_problems if p.startswith(prefix)]:
            del self.snippet_problems[path]

    def _unique(self, name_key: str, list_path: Path, wanted: str) -> str:
        taken = {str(item.get(name_key)) for _, item in self.rows(list_path)}
        if name_key == "id":
            taken |= self._rule_ids()
        name, number = wanted, 1
        while name in taken:
            number += 1
            name = f"{_NAME_SUFFIX.sub('', wanted)}-{number}"
        return name

    def _rule_ids(self) -> set[str]:
        """Rule ids are unique across the whole playbook."""
        lists: list[Path] = [("tag_rules",), ("stage_rules",), ("key_events",)]
        lists += [("score_models", index, "rules") for index, _ in self.rows(("score_models",))]
        return {str(item["id"]) for path in lists for _, item in self.rows(path) if "id" in item}


def _order(section: Section) -> list[str]:
    """An item's keys in the form's order."""
    return [f.parts[0] for f in section.fields] + [c.key for c in section.children]


def _position(node: CommentedMap, key: str, order: Sequence[str]) -> int:
    """Where a new key goes: after the keys the form shows before it, before unknown ones."""
    rank = {name: i for i, name in enumerate(dict.fromkeys(order))}
    wanted = rank.get(key, len(rank))
    before = [i for i, name in enumerate(node) if rank.get(name, len(rank)) < wanted]
    return before[-1] + 1 if before else 0


def _with(current: Any, parts: Sequence[str], value: Any) -> Any:
    """``current`` with ``value`` at ``parts`` (``None`` leaves it out); an emptied mapping goes
    too, unless a rule needs it (a tag rule's ``then``)."""
    if not parts:
        return value
    mapping = dict(current) if isinstance(current, dict) else {}
    inner = _with(mapping.get(parts[0]), parts[1:], value)
    if inner is None or (len(parts) > 1 and not inner and parts[0] not in _KEPT_EMPTY):
        mapping.pop(parts[0], None)
    else:
        mapping[parts[0]] = inner
    return mapping


def _plain(value: Any) -> Any:
    """Document nodes as plain data: dict, list, str, int, float, bool, None."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def _styled(value: Any, flow: bool | None = None) -> Any:
    """Plain data as document nodes: ``{...}`` when ``flow`` asks, blocks when it forbids, else a
    collection of scalars on one line and anything deeper in blocks (as PyYAML writes)."""
    if not isinstance(value, dict | list):
        return value
    inner = value.values() if isinstance(value, dict) else value
    if flow is None:
        flow = not any(isinstance(v, dict | list) for v in inner)
    below = True if flow else None
    node: CommentedMap | CommentedSeq
    if isinstance(value, dict):
        node = CommentedMap((k, _styled(v, below)) for k, v in value.items())
    else:
        node = CommentedSeq(_styled(v, below) for v in value)
    if flow:
        node.fa.set_flow_style()
    else:
        node.fa.set_block_style()
    return node


def _update(node: Any, key: Any, value: Any) -> None:
    """Set an entry to ``value``, keeping what did not change as it was written."""
    old = node[key]
    with _lines_below_kept(node, key):
        if isinstance(old, CommentedMap) and isinstance(value, dict):
            for gone in [k for k in old if k not in value]:
                _drop(old, gone)
            for k, v in value.items():
                if k in old:
                    _update(old, k, v)
                else:
                    _insert(old, len(old), k, v)
        elif isinstance(old, CommentedSeq) and isinstance(value, list):
            del old[len(value) :]
            for index, v in enumerate(value):
                if index < len(old):
                    _update(old, index, v)
                else:  # quoted like the one before it, as in ["a", "b"]
                    like = old[-1] if old and isinstance(v, str) else None
                    old.append(type(like)(v) if isinstance(like, ScalarString) else _styled(v))
        elif old != value or isinstance(old, bool) is not isinstance(value, bool):
            flow = old.fa.flow_style() if isinstance(old, CommentedMap | CommentedSeq) else None
            node[key] = _styled(value, flow)


def _insert(node: CommentedMap, position: int, key: str, value: Any) -> None:
    """A new entry at ``position``; the lines above the entry it pushes down stay above that."""
    keys = list(node)
    above = _take_lines_below(node, keys[position - 1]) if position > 0 else ""
    node.insert(position, key, _styled(value))
    _put_lines_below(node, key, above)


def _drop(node: CommentedMap, key: str) -> None:
    """Remove an entry with the lines above it (about it); the lines below it stay."""
    keys = list(node)
    position = keys.index(key)
    below = _take_lines_below(node, key)
    if position > 0:
        _take_lines_below(node, keys[position - 1])
    del node[key]
    if position > 0:
        _put_lines_below(node, keys[position - 1], below)


def _emptied(holder: CommentedMap, key: str) -> None:
    """A list whose last row went is written ``[]``, and the comment lines above its rows go."""
    holder[key].fa.set_flow_style()
    holder[key].ca.comment = None
    holder.ca.items.setdefault(key, list(_NO_NOTES))[3] = None
    _take_lines_below(holder, key)


# ruamel.yaml keeps a comment as the text after a value up to the next entry: the comment on the
# value's line, then the lines below it (blank, or comments about what comes next), held at the
# entry's last line. When an entry goes, moves or gets a neighbour, those lines must stay put.


def _end_of(node: Any, key: Any) -> tuple[list[Any], int]:
    """Where the comment after an entry is held: at its last line (inside a block value)."""
    value = node[key]
    if isinstance(value, CommentedMap | CommentedSeq) and value and not value.fa.flow_style():
        return _end_of(value, next(reversed(value)) if isinstance(value, dict) else len(value) - 1)
    notes: list[Any] = node.ca.items.setdefault(key, list(_NO_NOTES))
    return notes, 2 if isinstance(node, dict) else 0


def _take_lines_below(node: Any, key: Any) -> str:
    """Detach the lines below an entry, leaving the comment on its last line."""
    notes, at = _end_of(node, key)
    if notes[at] is None:
        return ""
    line, newline, below = str(notes[at].value).partition("\n")
    notes[at].value = line + newline
    return below


def _put_lines_below(node: Any, key: Any, lines: str) -> None:
    if not lines:
        return
    notes, at = _end_of(node, key)
    if notes[at] is None:
        notes[at] = CommentToken("\n" + lines, CommentMark(0))
    else:
        notes[at].value = str(notes[at].value).removesuffix("\n") + "\n" + lines


@contextmanager
def _lines_below_kept(node: Any, key: Any) -> Iterator[None]:
    lines = _take_lines_below(node, key)
    yield
    _put_lines_below(node, key, lines)


def _comments_to_their_rows(node: Any) -> None:
    """Lines between two rows of a list go with the row below, as its own comment: they move
    with it and go when it is removed, instead of trailing the row above."""
    if isinstance(node, CommentedSeq) and not node.fa.flow_style():
        for index in range(len(node) - 1):
            lines = _take_lines_below(node, index)
            if lines:
                notes = node.ca.items.setdefault(index + 1, list(_NO_NOTES))
                notes[1] = [*_comment_tokens(lines), *(notes[1] or [])]
    for child in node.values() if isinstance(node, dict) else node:
        if isinstance(child, dict | list):
            _comments_to_their_rows(child)


def _comment_tokens(lines: str) -> list[CommentToken]:
    return [
        CommentToken(line.lstrip(" ") + "\n", CommentMark(len(line) - len(line.lstrip(" "))))
        for line in lines.splitlines()
    ]
