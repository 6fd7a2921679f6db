"""A YAML/JSON loader that remembers where every key came from, so errors name the line."""

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from leadpond.kit.errors import InvalidInput

Path = tuple[str | int, ...]


class YamlLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so a rule's ``on:`` key stays the string "on"."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class SourceError(InvalidInput):
    """The text is not valid YAML/JSON (or repeats a key)."""

    code = "invalid_yaml"


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
    """Parse YAML (JSON is YAML) safely and record the line of every key."""
    try:
        loader = YamlLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise SourceError(f"line {line}: {exc.problem}", line=line) from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"not valid YAML: {exc}") from exc
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
                raise SourceError(
                    f"line {line}: key {key!r} repeated in {format_path(path)}",
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
