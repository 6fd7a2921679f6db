"""Issue #20: a condition's refusal reads in the viewer's language. ``ConditionError`` (and a
duration's ``DurationError``) carry their reason as a message id with ``{named}`` fields; the
console translates it, while the REST API and the CLI keep the English ``message``."""

import ast
import re
import string
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from leadpond.conditions.evaluate import ConditionContext, UnknownReference
from leadpond.conditions.parse import ConditionError, parse_condition, with_stage_keys
from leadpond.console.i18n import catalog, translator
from leadpond.console.pages.errors_words import (
    error_words,
    located_problem,
    playbook_problems,
    refusal_words,
)
from leadpond.playbooks.service import PlaybookInvalid, default_source, validate_playbook
from tests.console.catalogs import missing_words

SOURCE = Path(__file__).resolve().parents[2] / "src" / "leadpond"
CJK = re.compile(r"[\u3400-\u9fff]")
# Three English words in a row: a sentence left untranslated.
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?: +[A-Za-z]{2,}){2,}")
# The default playbook's first persona's condition (a title that matches a pattern).
PERSONA_IF = re.compile(r'if: \{trait: title, matches: "[^"]*"\}')
STAGES = [("opportunity", "商机"), ("opportunity", "Opportunity"), ("visit", "访问")]

# One bad condition for each refusal of the parser (parse.py) and of durations.py.
BAD: list[Any] = [
    "- {tag: vip}",
    "{colour: red}",
    "{tag: vip, count: 3}",
    "{all: {tag: vip}}",
    "{event: Demo Requested, count: {gte: 1, lte: 3}}",
    "{event: Demo Requested, within: 3 days}",
    "{event: ''}",
    "{event: Demo Requested, where: 3}",
    "{event: Demo Requested, where: {3: x}}",
    "{trait: title}",
    "{trait: 3, eq: CIO}",
    "{trait: 'a..b', eq: 1}",
    "{trait: title, resembles: CIO}",
    "{stage: {resembles: opportunity}}",
    "{trait: title, exists: 3}",
    "{trait: title, in: []}",
    "{trait: title, contains: 3}",
    "{trait: age, gt: true}",
    "{trait: title, matches: '(a'}",
    "{trait: age, eq: .nan}",
    "{trait: age, eq: {a: 1}}",
    "{trait: title, in: [[CIO]]}",
    "{trait: title, eq: null}",
    {"trait": "signed_up", "eq": date(2026, 12, 1)},  # not from YAML or JSON: given by code
    "{tag: ''}",
    "{score: 5}",
    "{score: {'': {gte: 1}}}",
    "{score: {fit: {gte: high}}}",
    "{grade: B}",
    "{grade: {fit: {eq: 3}}}",
    "{grade: {'': [A]}}",
    "{stage: {gte: 3}}",
    "{stage: {}}",
    "{persona: ''}",
    "{segment: 3}",
    "{account: {}}",
    "{account_people: {tag: vip}}",
    "{account_people: {any: {event: Demo Requested}}}",
]


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _words_in(path: Path) -> tuple[set[str], list[str]]:
    """The message ids a module gives ``ConditionError``/``DurationError`` (directly, through
    ``_text`` and ``expected``, or as a reference's ``(words, {values})`` problem), and the
    calls that build their words at run time (an f-string: English the console cannot say)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    built: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in ("ConditionError", "DurationError"):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant):
                found.add(str(first.value))
            elif not isinstance(first, ast.Name | ast.Attribute | ast.Subscript):
                built.append(f"{path.name}:{node.lineno}")
        elif isinstance(node, ast.Call) and _name(node.func) == "_text" and len(node.args) == 3:
            if isinstance(node.args[2], ast.Constant):
                found.add(str(node.args[2].value))
        elif isinstance(node, ast.Assign) and _name(node.targets[0]) == "expected":
            texts = [n.value for n in ast.walk(node.value) if isinstance(n, ast.Constant)]
            found |= {str(t) for t in texts if str(t).startswith("expected ")}
        elif (
            isinstance(node, ast.Tuple)
            and len(node.elts) == 2
            and isinstance(node.elts[0], ast.Constant)
            and isinstance(node.elts[1], ast.Dict)
        ):
            found.add(str(node.elts[0].value))
    return found, built


def _raising_modules() -> list[Path]:
    return [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if "console" not in path.parts
        and re.search(r"\b(Condition|Duration)Error\(", path.read_text(encoding="utf-8"))
    ]


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_condition_refusal_has_chinese_and_english_words() -> None:
    modules = _raising_modules()
    assert {p.name for p in modules} >= {"parse.py", "durations.py", "definitions.py"}
    words: set[str] = set()
    for path in modules:
        found, built = _words_in(path)
        assert built == [], "words built at run time cannot be translated"
        words |= found
    assert len(words) > 60
    assert missing_words(words) == {"zh_CN": [], "en": []}
    chinese = catalog("zh_CN")
    # A translation fills in no value the English does not have (it may leave one out).
    assert sorted(w for w in words if not _fields(chinese[w]) <= _fields(w)) == []


def test_every_parser_refusal_reads_in_chinese_and_the_api_keeps_english() -> None:
    zh, en = translator("zh_CN"), translator("en")
    reached: set[str] = set()
    for text in BAD:
        with pytest.raises(ConditionError) as raised:
            parse_condition(text)
        exc = raised.value
        reached.add(exc.words)
        assert exc.message.endswith(exc.reason) and not CJK.search(exc.message), text
        said = refusal_words(zh, exc.words, exc.params)
        assert CJK.search(said), (text, said)
        if exc.words.startswith("the pattern"):  # RE2's own account, inside a Chinese sentence
            assert said.startswith("正则表达式无效：not a valid regular expression"), said
        else:
            assert not ENGLISH_SENTENCE.search(said), (text, said)
        assert error_words(exc, zh).endswith(said)
        assert error_words(exc, en).startswith("The condition is not valid.")
    with pytest.raises(ConditionError) as raised:
        with_stage_keys(parse_condition("{stage: {in: [访问, 商机们]}}"), STAGES)
    reached.add(raised.value.words)
    assert raised.value.reason.startswith("no such stage: '商机们'; the stages are opportunity")
    assert refusal_words(zh, raised.value.words, raised.value.params) == (
        "没有这个阶段：'商机们'；现有阶段：opportunity (商机 / Opportunity), visit (访问)"
    )
    parser = _words_in(SOURCE / "conditions" / "parse.py")[0]
    durations = _words_in(SOURCE / "conditions" / "durations.py")[0]
    assert sorted((parser | durations) - reached) == []


def _playbook_errors(condition: str) -> list[dict[str, Any]]:
    """The errors of the default playbook with its first persona's condition replaced."""
    source, replaced = PERSONA_IF.subn(f"if: {condition}", default_source(), count=1)
    assert replaced == 1
    with pytest.raises(PlaybookInvalid) as raised:
        validate_playbook(source)
    errors: list[dict[str, Any]] = raised.value.details["errors"]
    return errors


def test_a_playbooks_condition_errors_carry_their_words_for_the_console() -> None:
    (error,) = _playbook_errors("{tag: vip, count: 3}")
    assert error["message"] == "'tag' conditions do not take ['count']"  # the API's words
    assert error["words"] == "{head!r} conditions do not take {extra}"
    assert error["params"] == {"head": "tag", "extra": ["count"]}
    (said,) = playbook_problems([error], translator("zh_CN"))
    assert said["message"] == "'tag' 条件不接受 count"
    (said,) = playbook_problems([error], translator("en"))
    assert said["message"] == "'tag' conditions do not take count"

    (error,) = _playbook_errors("{stage: 商机}")
    assert error["message"] == "stages are named by their key: use 'opportunity' for '商机'"
    (said,) = playbook_problems([error], translator("zh_CN"))
    assert said["message"] == "阶段请用其标识表示：'商机' 请写成 'opportunity'"


def test_a_playbooks_zero_duration_is_said_in_words() -> None:
    source = default_source().replace("once_per: 30d", "once_per: 0d", 1)
    assert source != default_source()
    with pytest.raises(PlaybookInvalid) as raised:
        validate_playbook(source)
    (error,) = raised.value.details["errors"]
    assert error["message"].endswith("a duration is written like 30m, 12h, 7d or 2w, not '0d'")
    (said,) = playbook_problems([error], translator("zh_CN"))
    assert said["message"] == "时长应写成 30m、12h、7d 或 2w 这样的形式，不能是 '0d'"


def test_a_value_that_is_not_one_is_said_in_yamls_words() -> None:
    zh, en = translator("zh_CN"), translator("en")
    said = {}
    for text in ("{trait: title, eq: [CIO]}", "{trait: title, eq: {a: 1}}", "{trait: x, eq: ~}"):
        with pytest.raises(ConditionError) as raised:
            parse_condition(text)
        exc = raised.value
        said[exc.reason] = (
            refusal_words(zh, exc.words, exc.params),
            refusal_words(en, exc.words, {}),
        )
    assert said == {
        "expected a string, number or boolean, not a list": (
            "应为文本、数字或 true/false，不能是列表",
            "expected a string, number or boolean, not a list",
        ),
        "expected a string, number or boolean, not a mapping": (
            "应为文本、数字或 true/false，不能是键值映射",
            "expected a string, number or boolean, not a mapping",
        ),
        "expected a string, number or boolean, not null": (
            "应为文本、数字或 true/false，不能是空值",
            "expected a string, number or boolean, found nothing",
        ),
    }


def test_a_playbook_errors_line_reads_naturally_in_both_languages() -> None:
    error = {"path": "journeys[0].key", "line": 190, "message": "'trial' is defined twice"}
    assert (
        located_problem(error, translator("en"))
        == "line 190: journeys[0].key 'trial' is defined twice"
    )
    (said,) = playbook_problems(
        [{**error, "words": "{key!r} is defined twice", "params": {"key": "trial"}}],
        translator("zh_CN"),
    )
    assert (
        located_problem(said, translator("zh_CN"))
        == "第 190 行：journeys[0].key 'trial' 重复定义了"
    )
    # An error with no line (a form's own check) is its place and words alone.
    assert located_problem({**said, "line": None}, translator("zh_CN")) == (
        "journeys[0].key 'trial' 重复定义了"
    )


@pytest.mark.parametrize(
    ("ask", "english", "chinese"),
    [
        (lambda c: c.persona("cio"), "no such persona: 'cio'", "没有这个用户画像：'cio'"),
        (lambda c: c.segment("vip"), "no such segment: 'vip'", "没有这个细分：'vip'"),
        (
            lambda c: c.grade_table("fit"),
            "score model 'fit' has no grades",
            "评分模型 'fit' 没有等级",
        ),
    ],
)
def test_a_condition_naming_something_undefined_says_what_in_chinese(
    ask: Any, english: str, chinese: str
) -> None:
    with pytest.raises(UnknownReference) as raised:
        ask(ConditionContext())
    assert raised.value.message == english  # the API's words
    said = error_words(raised.value, translator("zh_CN"))
    assert said == f"条件中引用的对象不存在。{chinese}", said
