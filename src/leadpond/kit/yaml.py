"""YAML read and written one way everywhere: ruamel.yaml under YAML 1.2's core schema.

YAML 1.2 is what playbooks and conditions are documented in: only ``true``/``false`` are booleans
(a rule's ``on:`` key and ``yes``/``no`` are text), ``010`` is ten (``0o10`` is octal), ``1:30``
is text and ``1e3`` a number. The safe loader and dumper are ruamel's pure-Python ones because
its C parser resolves scalars as YAML 1.1.
"""

from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.emitter import Emitter, RoundTripEmitter
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "YamlSyntaxError",
    "dump",
    "load",
    "load_with_nodes",
    "round_trip",
]


class YamlSyntaxError(ValueError):
    """The text is not YAML (or uses a tag the safe loader refuses); ``line`` is 1-based,
    ``problem`` is the parser's account and ``message`` it with its line. ``words`` (a message
    id of the console catalogs, ``params`` its values) says a common mistake in a sentence with
    its line and column; None leaves the parser's account."""

    def __init__(
        self,
        problem: str,
        line: int | None = None,
        words: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.message = problem if line is None else f"line {line}: {problem}"
        super().__init__(self.message)
        self.problem, self.line = problem, line
        self.words, self.params = words, params or {}


# The parser's common complaints in words: where the mistake is (the quote or bracket left open,
# else where the parser stopped) and what it is.
_AT = "the YAML cannot be read at line {line}, column {column}: "
TAB = _AT + "a tab cannot indent YAML; indent with spaces"
OPEN_QUOTE = _AT + "this quote is never closed"
OPEN_BRACKET = _AT + "this bracket is never closed"
UNCLOSED_AT_END = _AT + "the text ends before a bracket is closed"
INDENTATION = _AT + "the indentation does not line up (or a value holding a colon needs quotes)"


def _syntax_error(exc: MarkedYAMLError) -> YamlSyntaxError:
    """The parser's error, with words for a tab, an unclosed quote or bracket, or a colon or
    indentation out of place (the mistakes people make typing YAML in a box)."""
    problem, context = str(exc.problem), str(exc.context or "")
    mark, opened = exc.problem_mark, exc.context_mark
    if mark is None:
        return YamlSyntaxError(problem)
    line = mark.line + 1
    words, at = None, mark
    if "'\\t'" in problem:
        words = TAB
    elif "quoted scalar" in context and opened is not None:
        words, at = OPEN_QUOTE, opened
    elif problem.startswith(("expected ',' or '}'", "expected ',' or ']'")) and opened is not None:
        words, at = OPEN_BRACKET, opened
    elif "'<stream end>'" in problem and "flow" in context:
        words = UNCLOSED_AT_END
    elif problem == "mapping values are not allowed here" or "expected <block end>" in problem:
        words = INDENTATION
    if words is None:
        return YamlSyntaxError(problem, line)
    return YamlSyntaxError(problem, line, words, {"line": at.line + 1, "column": at.column + 1})


class _SafeEmitter(Emitter):
    """YAML 1.2 lets ``{tag: role:cio}`` be plain, but people (and YAML 1.1 tools) read it as a
    nested mapping: a colon keeps a scalar in ``{...}`` quoted, as ``{tag: 'role:cio'}``."""

    def analyze_scalar(self, scalar: Any) -> Any:
        analysis = super().analyze_scalar(scalar)
        if ":" in scalar:
            analysis.allow_flow_plain = False
        return analysis


def load_with_nodes(text: str) -> tuple[Any, Node | None]:
    """The data of a YAML (or JSON) text and its node tree, whose ``start_mark`` give each
    node's 0-based line and column; (None, None) for an empty document."""
    safe = YAML(typ="safe", pure=True)
    safe.allow_duplicate_keys = True  # readers that care name the repeated key and its line
    try:
        node = safe.compose(text)
        data = safe.constructor.construct_document(node) if node is not None else None
    except MarkedYAMLError as exc:
        raise _syntax_error(exc) from exc
    except (YAMLError, ValueError) as exc:  # ValueError: a value its type cannot hold (2024-13-45)
        raise YamlSyntaxError(f"not valid YAML: {exc}") from exc
    return data, node


def load(text: str) -> Any:
    """The data of a YAML (or JSON) text: dicts, lists and scalars."""
    return load_with_nodes(text)[0]


def dump(data: Any, *, flow: bool | None = False, width: int = 4096) -> str:
    """Plain data as YAML text, keys in their order; ``flow=None`` writes a collection of
    scalars on one line (``{tag: vip}``) and anything deeper in blocks. Lines are folded past
    ``width``, where ruamel puts a word longer than the line on a line of its own."""
    safe = YAML(typ="safe", pure=True)
    safe.Emitter = _SafeEmitter
    safe.default_flow_style = flow
    safe.width = width
    safe.representer.sort_base_mapping_type_on_output = False  # made with the settings above
    text = StringIO()
    safe.dump(data, text)
    return text.getvalue()


class _RoundTripEmitter(RoundTripEmitter):
    """ruamel.yaml 0.19 keeps "no line break: just after ``- ``" past the comment that ends a
    ``- {...}  # note`` row, and then writes the next row's first two keys on one line."""

    def write_post_comment(self, event: Any) -> bool:
        written: bool = super().write_post_comment(event)
        if written:
            self.no_newline = False
        return written


def round_trip(mapping: int = 2, sequence: int = 4, offset: int = 2) -> YAML:
    """A loader/dumper that keeps comments, quotes and ``{...}`` layout as the author wrote them,
    indented by ``mapping`` (nested mappings) and ``sequence``/``offset`` (lists, their dash)."""
    kept = YAML()
    kept.Emitter = _RoundTripEmitter
    kept.indent(mapping=mapping, sequence=sequence, offset=offset)
    kept.width = 4096  # a long flow line is the author's: written back unbroken
    kept.preserve_quotes = True
    kept.brace_single_entry_mapping_in_flow_sequence = True  # [{tag: x}], not [tag: x]
    return kept
