"""``matches``: user-supplied regular expressions, run on RE2 so that no pattern can take more
than linear time (a backtracking engine takes minutes on ``^(a+)+$`` over a 25-character text).

The same pattern runs in three places: here in Python (the real-time evaluator), as SQLite's
``regexp`` function (registered on every connection, also RE2) and as PostgreSQL's ``~``. So that
PostgreSQL's own engine gives the same answers, a pattern must also stay within the syntax both
engines read alike (``portability_problem``), and ``postgres_pattern`` spells the few constructs
whose meaning differs (``.``, ``\\d``, ``\\w``, ``\\s``, ``\\b``) the way RE2 means them: ASCII
classes, and ``.`` not matching a newline.
"""

import re
from functools import lru_cache
from typing import Protocol, cast

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the user, not logged by RE2

# PostgreSQL repeats at most 255 times ({n,m}); RE2 allows 1000.
MAX_REPEAT = 255
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_LEADING_FLAGS = re.compile(r"\(\?([is]+)\)")
_WORD = "0-9A-Za-z_"
_SPACE = "\\t\\n\\f\\r "
# Escapes that mean the same to both engines once ``postgres_pattern`` spells the classes out.
_CLASS_IN_BRACKETS = {
    "d": "0-9",
    "w": _WORD,
    "s": _SPACE,
    **{letter: "\\" + letter for letter in "ntrfv"},
}
_CLASS = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "b": f"(?:(?<![{_WORD}])(?=[{_WORD}])|(?<=[{_WORD}])(?![{_WORD}]))",
    "B": f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))",
    "A": "^",
    "z": "$",
    "n": "\\n",
    "t": "\\t",
    "r": "\\r",
    "f": "\\f",
    "v": "\\v",
}


class PatternError(ValueError):
    """A pattern RE2 cannot compile, or one PostgreSQL would read differently."""


class Regex(Protocol):
    """What is used of a compiled RE2 pattern (the bindings ship no types)."""

    def search(self, text: str) -> object | None: ...


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Regex:
    """The RE2 form of a ``matches`` pattern, or PatternError saying why it is refused."""
    problem = portability_problem(pattern)
    if problem:
        raise PatternError(problem)
    try:
        return cast(Regex, re2.compile(pattern, options=_OPTIONS))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode() if isinstance(reason, bytes) else str(reason)
        raise PatternError(f"not a valid regular expression: {text}") from exc


def search(pattern: str, text: str) -> bool:
    """Whether the pattern occurs anywhere in ``text`` (what ``matches`` means)."""
    return compile_pattern(pattern).search(text) is not None


def sqlite_regexp(pattern: str | None, text: object) -> bool | None:
    """SQLite's ``pattern REGEXP text`` (the form SQLAlchemy's ``regexp_match`` emits)."""
    if pattern is None or not isinstance(text, str):
        return None
    return search(pattern, text)


def _flags(pattern: str) -> tuple[str, str]:
    found = _LEADING_FLAGS.match(pattern)
    return (found.group(1), pattern[found.end() :]) if found else ("", pattern)


def portability_problem(pattern: str) -> str | None:
    """Why PostgreSQL would not read the pattern as RE2 does, or None."""
    _flags_text, body = _flags(pattern)
    in_brackets = False
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1 : index + 2]
            if not escaped:
                return "a pattern may not end with a backslash"
            allowed = _CLASS_IN_BRACKETS if in_brackets else _CLASS
            if escaped.isalnum() and escaped not in allowed:
                return f"the escape \\{escaped} is not supported in matches patterns"
            index += 2
            continue
        if in_brackets:
            if body.startswith(("[:", "[=", "[."), index):
                return "character class names like [:alpha:] are not supported; list the characters"
            if char == "]":
                in_brackets = False
        elif char == "[":
            in_brackets = True
            index += 1
            if body[index : index + 1] == "^":
                index += 1
            if body[index : index + 1] == "]":  # a leading ] is a literal
                index += 1
            continue
        elif char == "(" and body.startswith("(?", index) and not body.startswith("(?:", index):
            return "only (?:…) groups and leading (?i) / (?s) flags are supported"
        elif char == "{":
            repeat = _REPEAT.match(body, index)
            if repeat and max(int(n) for n in repeat.groups() if n) > MAX_REPEAT:
                return f"a repeat count may be at most {MAX_REPEAT}"
        index += 1
    return None


@lru_cache(maxsize=4096)
def postgres_pattern(pattern: str) -> str:
    """The pattern for PostgreSQL's ``~``, spelled so that it matches what RE2 matches."""
    flags, body = _flags(pattern)
    out: list[str] = [f"(?{flags.replace('s', '')})" if "i" in flags else ""]
    dot = "." if "s" in flags else "[^\\n]"
    in_brackets = False
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            table = _CLASS_IN_BRACKETS if in_brackets else _CLASS
            out.append(table.get(escaped, "\\" + escaped))
            index += 2
            continue
        if in_brackets:
            out.append(char)
            if char == "]":
                in_brackets = False
        elif char == "[":
            in_brackets = True
            start = index + 1
            if body[start : start + 1] == "^":
                start += 1
            if body[start : start + 1] == "]":
                start += 1
            out.append(body[index:start])
            index = start
            continue
        else:
            out.append(dot if char == "." else char)
        index += 1
    return "".join(out)


__all__ = ["PatternError", "compile_pattern", "portability_problem", "postgres_pattern", "search"]
