"""The playbook's text as ruamel.yaml's round trip keeps it: the layout ruamel does not remember,
and edits of the document tree that keep every comment and blank line where the author put it.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import ScalarString
from ruamel.yaml.tokens import CommentToken

from leadpond.kit import yaml

# A key whose value starts on the next line (``rules:``, ``- on:  # note``); group 1 ends at it.
_OPENING = re.compile(r"^([ -]*)[^\s#'\"{\[][^:#]*:\s*(?:#.*)?$")
# What comes before the document's content: comments, directives and the ``---`` line.
_PREAMBLE = re.compile(r"(?:[ \t]*(?:[#%].*)?\n)*---[ \t]*(?:#.*)?\n")
_NO_NOTES = (None, None, None, None)


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


def round_trip(layout: TextLayout) -> YAML:
    """The round trip indented as the text was (plain scalars read as ``load_located`` reads
    them: both are YAML 1.2)."""
    return yaml.round_trip(layout.mapping, layout.offset + 2, layout.offset)


def dump_yaml(data: Any, layout: TextLayout = TextLayout()) -> str:
    """A playbook (or a part of it) as the forms write it: what was read is written as it was."""
    text = StringIO()
    text.write(layout.preamble)
    nodes = data if isinstance(data, CommentedMap | CommentedSeq) else styled(data)
    round_trip(layout).dump(nodes, text)
    return text.getvalue()


def plain(value: Any) -> Any:
    """Document nodes as plain data: dict, list, str, int, float, bool, None."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def styled(value: Any, flow: bool | None = None) -> Any:
    """Plain data as document nodes: ``{...}`` when ``flow`` asks, blocks when it forbids, else a
    collection of scalars on one line and anything deeper in blocks (as ``yaml.dump`` writes)."""
    if not isinstance(value, dict | list):
        return value
    inner = value.values() if isinstance(value, dict) else value
    if flow is None:
        flow = not any(isinstance(v, dict | list) for v in inner)
    below = True if flow else None
    node: CommentedMap | CommentedSeq
    if isinstance(value, dict):
        node = CommentedMap((k, styled(v, below)) for k, v in value.items())
    else:
        node = CommentedSeq(styled(v, below) for v in value)
    if flow:
        node.fa.set_flow_style()
    else:
        node.fa.set_block_style()
    return node


def update_entry(node: Any, key: Any, value: Any) -> None:
    """Set an entry to ``value``, keeping what did not change as it was written."""
    old = node[key]
    with lines_below_kept(node, key):
        if isinstance(old, CommentedMap) and isinstance(value, dict):
            for gone in [k for k in old if k not in value]:
                drop_entry(old, gone)
            for k, v in value.items():
                if k in old:
                    update_entry(old, k, v)
                else:
                    insert_entry(old, len(old), k, v)
        elif isinstance(old, CommentedSeq) and isinstance(value, list):
            del old[len(value) :]
            for index, v in enumerate(value):
                if index < len(old):
                    update_entry(old, index, v)
                else:  # quoted like the one before it, as in ["a", "b"]
                    like = old[-1] if old and isinstance(v, str) else None
                    old.append(type(like)(v) if isinstance(like, ScalarString) else styled(v))
        elif old != value or isinstance(old, bool) is not isinstance(value, bool):
            flow = old.fa.flow_style() if isinstance(old, CommentedMap | CommentedSeq) else None
            node[key] = styled(value, flow)


def insert_entry(node: CommentedMap, position: int, key: str, value: Any) -> None:
    """A new entry at ``position``; the lines above the entry it pushes down stay above that."""
    keys = list(node)
    above = _take_lines_below(node, keys[position - 1]) if position > 0 else ""
    node.insert(position, key, styled(value))
    _put_lines_below(node, key, above)


def drop_entry(node: CommentedMap, key: str) -> None:
    """Remove an entry with the lines above it (about it); the lines below it stay."""
    keys = list(node)
    position = keys.index(key)
    below = _take_lines_below(node, key)
    if position > 0:
        _take_lines_below(node, keys[position - 1])
    del node[key]
    if position > 0:
        _put_lines_below(node, keys[position - 1], below)


def emptied(holder: CommentedMap, key: str) -> None:
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
def lines_below_kept(node: Any, key: Any) -> Iterator[None]:
    lines = _take_lines_below(node, key)
    yield
    _put_lines_below(node, key, lines)


def comments_to_their_rows(node: Any) -> None:
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
            comments_to_their_rows(child)


def _comment_tokens(lines: str) -> list[CommentToken]:
    return [
        CommentToken(line.lstrip(" ") + "\n", CommentMark(len(line) - len(line.lstrip(" "))))
        for line in lines.splitlines()
    ]
