"""The playbook as forms: each section of the parsed document as rows of fields, and the edits a
form makes (set a field, add, remove, reorder) applied to that same document.

The YAML tab and the forms edit one document, read with ruamel.yaml's round trip: a form edit
changes only the values it touches, and the comments, blank lines, ``{...}`` layout and quoting of
everything else are written back as they were. Plain scalars mean what they mean to the playbook
loader (YAML 1.2 booleans: a rule's ``on:`` is text). Nothing is validated here:
``playbooks.service.validate_playbook`` checks what the forms wrote, and its errors name the paths
the fields carry (``score_models[0].rules[2].points``). Conditions are YAML snippets of the
condition language. A display name (``name``, ``description``) has a field per language: one
text for every language stays one text until another language's is typed.
"""

import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import ScalarString

from leadpond.conditions.source import Path, SourceError, format_path, load_located
from leadpond.console.i18n import Translate
from leadpond.console.playbook_yaml import (
    TextLayout,
    comments_to_their_rows,
    drop_entry,
    dump_yaml,
    emptied,
    insert_entry,
    lines_below_kept,
    plain,
    round_trip,
    styled,
    update_entry,
)
from leadpond.kit import yaml
from leadpond.kit.names import LANGUAGES

FieldKind = Literal["text", "number", "flag", "words", "yaml", "stage", "named"]

# Mappings a rule needs even when empty (a tag rule's ``then``); other emptied ones are dropped.
_KEPT_EMPTY = frozenset({"then"})
_NAME_SUFFIX = re.compile(r"-(\d+)$")
_LAST_STEP = re.compile(r"(\.[^.\[]+|\[\d+\])$")


class SnippetError(ValueError):
    """A condition or mapping typed into a form is not YAML (or not the shape it must be).
    ``words`` is a message id of the console catalogs, its ``params`` filled in by ``said``."""

    def __init__(self, words: str, **params: Any) -> None:
        super().__init__(words.format(**params))
        self.words, self.params = words, params

    @classmethod
    def unreadable(cls, exc: SourceError) -> "SnippetError":
        """The YAML cannot be read, with the line it goes wrong on."""
        line = exc.details.get("line")
        if isinstance(line, int):
            return cls("The YAML cannot be read (line {line}).", line=line)
        return cls("The YAML cannot be read.")

    def said(self, translate: Translate) -> str:
        """The problem in the viewer's language."""
        return translate(self.words).format(**self.params)


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
_NAME = (
    FormField("name.zh", "Display name (Chinese)", "named"),
    FormField("name.en", "Display name (English)", "named"),
)
_DESCRIPTION = (
    FormField("description.zh", "Description (Chinese)", "named"),
    FormField("description.en", "Description (English)", "named"),
)
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
        *_NAME,
        FormField("phase", "Phase"),
        FormField("detour", "Detour (outside the order)", "flag"),
        FormField("sticky", "Sticky", "flag"),
    ),
    {"key": "new-stage"},
    "key",
)
TAG_CATEGORIES = Section(
    "tag_categories",
    "Tag categories",
    (_KEY, *_NAME, *_DESCRIPTION, FormField("values", "Value names (YAML: value: name)", "yaml")),
    {"key": "new-category"},
    "key",
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
        *_NAME,
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
    (_KEY, *_NAME, *_DESCRIPTION, _IF),
    {"key": "new-persona", "if": {"trait": "title", "exists": True}},
    "key",
)
SECTIONS = (STAGES, TAG_CATEGORIES, TAG_RULES, SCORE_MODELS, STAGE_RULES, KEY_EVENTS, PERSONAS)


def snippet(value: Any) -> str:
    """A condition (or mapping) as the short YAML a form field shows, its strings quoted as the
    playbook quotes them (``matches: '(?i)CIO|CTO'`` stays quoted)."""
    if value is None:
        return ""
    if _has_quoted(value):
        return dump_yaml(_with_quotes(value)).rstrip("\n")
    text = yaml.dump(plain(value), flow=None, width=90)
    return text.removesuffix("...\n").rstrip("\n")


def parse_snippet(text: str) -> Any:
    """The data of a YAML snippet typed in a form (with the playbook loader's rules), its
    quoted strings kept quoted: the document writes them as they were typed."""
    try:
        data = load_located(text).data
    except SourceError as exc:
        raise SnippetError.unreadable(exc) from None
    if data is not None and not isinstance(data, dict):
        raise SnippetError("Expected a mapping such as {example}.", example="{tag: vip}")
    try:
        typed = round_trip(TextLayout()).load(text)
    except (YAMLError, ValueError):  # read by the loader above, not by the round trip
        return data
    return _quoted_like(data, typed)


def _has_quoted(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_quoted(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_quoted(v) for v in value)
    return isinstance(value, ScalarString)


def _with_quotes(value: Any) -> Any:
    """Document nodes as plain containers whose strings keep their quoting."""
    if isinstance(value, dict):
        return {plain(k): _with_quotes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_quotes(v) for v in value]
    return value if isinstance(value, ScalarString) else plain(value)


def _quoted_like(data: Any, typed: Any) -> Any:
    """``data`` (the loader's reading) with each string that was typed in quotes as the round
    trip read it, quotes and all."""
    if isinstance(data, dict):
        return {
            k: _quoted_like(v, typed.get(k) if isinstance(typed, dict) else None)
            for k, v in data.items()
        }
    if isinstance(data, list):
        inner = typed if isinstance(typed, list) and len(typed) == len(data) else [None] * len(data)
        return [_quoted_like(v, t) for v, t in zip(data, inner, strict=True)]
    if isinstance(data, str) and isinstance(typed, ScalarString) and str(typed) == data:
        return typed
    return data


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
    if form_field.kind == "named":
        value = _names(item.get(form_field.parts[0])).get(form_field.parts[1])
    if form_field.kind == "yaml":
        return snippet(value)
    value = plain(value)
    if form_field.kind == "flag":
        return bool(value)
    if form_field.kind == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if form_field.kind == "words":
        return ", ".join(_words(value)) if value is not None else ""
    return "" if value is None else str(value)


def stored(form_field: FormField, raw: Any) -> Any:
    """The document value of what was typed; ``None`` means the key is left out."""
    if form_field.kind == "flag":
        return True if raw else None
    if form_field.kind == "number":
        try:
            return _number(raw)
        except (TypeError, ValueError):
            raise SnippetError("Expected a number.") from None
    if form_field.kind == "words":
        words = _words(raw)
        if form_field.key == "on.event" and len(words) == 1:
            return words[0]
        return words or None
    if form_field.kind == "yaml":
        return parse_snippet(str(raw or ""))
    text = str(raw or "").strip()
    return text or None


def _names(name: Any) -> dict[str, str]:
    """A display name by language; one text for every language is shown as the Chinese. The
    texts stay as the document holds them (quoted ones keep their quotes when rewritten)."""
    if isinstance(name, dict):
        return {str(k): v for k, v in name.items() if isinstance(v, str)}
    return {"zh": name} if isinstance(name, str) and name else {}


def renamed(current: Any, language: str, text: str | None) -> Any:
    """A display name with ``language``'s text set (``None``: taken away); ``None`` when no
    language has one. One text stays one text while no other language's is given."""
    names = _names(current)
    if text is None:
        names.pop(language, None)
    else:
        names[language] = text
    if not names:
        return None
    if not isinstance(current, dict) and set(names) == {"zh"}:
        return names["zh"]
    return {lang: names[lang] for lang in LANGUAGES if lang in names}


def input_for(error_path: str, inputs: Collection[str]) -> str | None:
    """The field an error is about: its own path, or the nearest field above it
    (``score_models[0].rules[2].if.all[1]`` is about ``score_models[0].rules[2].if``; a name's
    is about its Chinese field)."""
    path = error_path
    while path:
        if path in inputs:
            return path
        if f"{path}.{LANGUAGES[0]}" in inputs:
            return f"{path}.{LANGUAGES[0]}"
        shorter = _LAST_STEP.sub("", path)
        if shorter == path:
            return None
        path = shorter
    return None


class PlaybookDraft:
    """The parsed playbook the forms edit, and the snippets that could not be read yet."""

    def __init__(self, document: dict[str, Any], layout: TextLayout = TextLayout()) -> None:
        self.document: CommentedMap = (
            document if isinstance(document, CommentedMap) else styled(document, flow=False)
        )
        self.layout = layout
        self.snippet_problems: dict[str, str] = {}
        # How a snippet's problem is said: the page sets its viewer's translation.
        self.translate: Translate = str

    @classmethod
    def from_yaml(cls, text: str) -> "PlaybookDraft":
        """The draft of a playbook's text; raises ``SnippetError`` when it is not a mapping."""
        try:
            data = load_located(text).data
        except SourceError as exc:
            raise SnippetError.unreadable(exc) from None
        if not isinstance(data, dict):
            raise SnippetError(
                "A playbook is a mapping that starts with {example}.", example="version: 1"
            )
        layout = TextLayout.of(text)
        try:
            document = round_trip(layout).load(text[len(layout.preamble) :])
        except (YAMLError, ValueError):  # read by the safe loader, not the round trip
            raise SnippetError("The forms cannot read this YAML; edit it as YAML.") from None
        comments_to_their_rows(document)
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
            self.snippet_problems[where] = exc.said(self.translate)
            return
        self.snippet_problems.pop(where, None)
        item = self._get(item_path)
        top, *inner = form_field.parts
        if not isinstance(item, CommentedMap) or (value is None and top not in item):
            return
        if form_field.kind == "named":
            new = renamed(item.get(top), form_field.parts[1], value)
        else:
            new = _with(plain(item.get(top)), inner, value)
        if inner and not new and top not in _KEPT_EMPTY:
            new = None
        if new is None:
            if top in item:
                drop_entry(item, top)
        elif top in item:
            update_entry(item, top, new)
        else:
            insert_entry(item, _position(item, top, _order(section)), top, new)

    def add(self, list_path: Path, section: Section) -> int:
        """Append a new row (with a unique key or id), in the style of the row above; returns
        its index."""
        found = self._get(list_path)
        if not isinstance(found, CommentedSeq):
            found = self._make_list(list_path, section)
        item = plain(section.new_item)
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
            found.append(styled(item, flow))
        self._forget(list_path)
        return len(found) - 1

    def remove(self, list_path: Path, index: int) -> None:
        """Remove a row with the comment lines above it; the other rows keep theirs."""
        found = self._get(list_path)
        if isinstance(found, CommentedSeq) and 0 <= index < len(found):
            with self._lines_after_list_kept(list_path):
                del found[index]
                if not found:
                    emptied(self._get(list_path[:-1]), str(list_path[-1]))
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
            raise SnippetError("{path} is not a mapping.", path=format_path(list_path[:-1]))
        key = str(list_path[-1])
        holder = next((s for s in SECTIONS if section in s.children), None)
        order = _order(holder) if holder else ["version", *(s.key for s in SECTIONS)]
        insert_entry(parent, _position(parent, key, order), key, [])
        found: CommentedSeq = parent[key]
        return found

    @contextmanager
    def _lines_after_list_kept(self, list_path: Path) -> Iterator[None]:
        """The lines below a list (about what follows it) stay there, whatever its rows do."""
        with lines_below_kept(self._get(list_path[:-1]), list_path[-1]):
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
