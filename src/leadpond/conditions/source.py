"""A YAML/JSON loader that remembers where every key came from, so errors name the line."""

from dataclasses import dataclass, field
from typing import Any

from leadpond.kit.errors import InvalidInput
from leadpond.kit.yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    YamlSyntaxError,
    load_with_nodes,
)

Path = tuple[str | int, ...]


class SourceError(InvalidInput):
    """The text is not valid YAML/JSON (or repeats a key); ``words`` and ``params`` say why
    (as ``ConditionError``'s do), ``message`` is it in English with its line."""

    code = "invalid_yaml"
    words: str  # always given

    def __init__(self, message: str, words: str, params: dict[str, Any], **details: Any) -> None:
        super().__init__(message, **details)
        self.words, self.params = words, params


@dataclass
class Located:
    """Parsed data and the 1-based line of every mapping key and list item, by path."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of the deepest known prefix of ``path``."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def format_path(path: Path) -> str:
    """``('tag_rules', 2, 'if', 'all', 0)`` as ``tag_rules[2].if.all[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


def load_located(text: str) -> Located:
    """Parse YAML 1.2 (JSON is YAML) safely and record the line of every key."""
    try:
        data, node = load_with_nodes(text)
    except YamlSyntaxError as exc:
        details = {} if exc.line is None else {"line": exc.line}
        words, params = "the YAML cannot be read: {problem}", {"problem": exc.problem}
        if exc.words is not None:
            words, params = exc.words, exc.params
        raise SourceError(exc.message, words, params, **details) from exc
    located = Located(data=data)
    if node is not None:
        _index(node, (), located.lines)
    return located


def _index(node: Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in seen:
                words = "key {key!r} repeated in {mapping}"
                params = {"key": key, "mapping": format_path(path)}
                raise SourceError(
                    f"line {line}: {words.format(**params)}",
                    words,
                    params,
                    line=line,
                    path=format_path((*path, key)),
                )
            seen.add(key)
            lines[(*path, key)] = line
            _index(value_node, (*path, key), lines)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _index(item, (*path, index), lines)
