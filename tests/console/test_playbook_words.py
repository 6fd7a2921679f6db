"""Issue #20: a playbook's schema refusals (a validator's ``ValueError`` or ``RefusedValue``) read
in the viewer's language on the playbook page and in the journey builder; the REST API keeps
pydantic's English message."""

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from leadpond.console.i18n import translator
from leadpond.console.pages.errors_words import located_problem, playbook_problems
from leadpond.console.pages.words import validation_problem
from leadpond.kit.names import Name
from leadpond.playbooks.service import PlaybookInvalid, default_source, validate_playbook
from tests.console.catalogs import missing_words

SOURCE = Path(__file__).resolve().parents[2] / "src" / "leadpond"
# The modules whose refusals a playbook's validation reports, and validate_playbook's own.
SCHEMAS = [SOURCE / "rules" / "playbook.py", SOURCE / "kit" / "names.py"]
CJK = re.compile(r"[\u3400-\u9fff]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?: +[A-Za-z]{2,}){2,}")


def _refusals(path: Path) -> tuple[set[str], list[str]]:
    """The constant messages of a module's ``ValueError``s and ``RefusedValue``s, and the ones
    built at run time (an f-string the console cannot say)."""
    found: set[str] = set()
    built: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id in ("ValueError", "RefusedValue") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant):
                found.add(str(first.value))
            else:
                built.append(f"{path.name}:{node.lineno}")
    return found, built


def test_every_playbook_schema_refusal_has_chinese_and_english_words() -> None:
    words: set[str] = {"a playbook is a mapping with version: 1"}
    for path in SCHEMAS:
        found, built = _refusals(path)
        assert built == [], "words built at run time cannot be translated"
        words |= found
    assert len(words) > 20
    assert missing_words(words) == {"zh_CN": [], "en": []}


def _said(old: str, new: str) -> list[tuple[dict[str, Any], str]]:
    """The default playbook's errors once ``old`` reads ``new``: each error and how the
    Chinese console says it (its line, place and reason)."""
    source = default_source().replace(old, new, 1)
    assert source != default_source()
    with pytest.raises(PlaybookInvalid) as raised:
        validate_playbook(source)
    errors: list[dict[str, Any]] = raised.value.details["errors"]
    zh = translator("zh_CN")
    said = playbook_problems(errors, zh)
    return [(e, located_problem(s, zh)) for e, s in zip(errors, said, strict=True)]


@pytest.mark.parametrize(
    ("old", "new", "english", "chinese"),
    [
        (
            'cron: "0 10 * * 1"',
            'cron: "every monday"',
            "not a five-field cron expression: 'every monday'",
            "不是五段式 cron 表达式：'every monday'",
        ),
        (
            "wait: 1d}",
            "wait: 1d, set_stage: visit}",
            "a step is exactly one of",
            "一个步骤只能是 ",
        ),
        (
            "name: {zh: 关注, en: Aware}",
            "name: {zh: 关注, fr: Attentif}",
            "unknown language 'fr': a name's languages are zh, en",
            "不认识的语言 'fr'：名称的语言只能是 zh、en",
        ),
        (
            "name: {zh: 关注, en: Aware}",
            "name: {}",
            "a name in languages gives at least one of zh, en",
            "分语言的名称至少要给出 zh、en 中的一个",
        ),
        (
            "trigger: {schedule:",
            "trigger: {api: true, schedule:",
            "a trigger is exactly one of",
            "触发方式只能是 ",
        ),
    ],
)
def test_a_playbooks_schema_refusal_reads_in_chinese_and_the_api_keeps_english(
    old: str, new: str, english: str, chinese: str
) -> None:
    said = _said(old, new)
    assert said, "the edit is refused"
    for error, line in said:
        if english in error["message"]:
            assert re.fullmatch(rf"第 \d+ 行：\S+ {re.escape(chinese)}.*", line), line
            assert not ENGLISH_SENTENCE.search(line.split(" ", 3)[-1]), line
            break
    else:
        pytest.fail(f"no error says {english!r}: {said}")
    assert all(CJK.search(line) for _error, line in said), said


class _Named(BaseModel):
    name: Name


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ({"fr": "Bienvenue"}, "不认识的语言 'fr'：名称的语言只能是 zh、en"),
        ({"zh": " "}, "zh 名称应为文本（不能为空）"),
        (["欢迎"], "名称应为文本，或 {zh: …, en: …} 这样的键值映射"),
    ],
)
def test_a_forms_refused_name_is_said_in_chinese(name: Any, said: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _Named.model_validate({"name": name})
    field, chinese = validation_problem(translator("zh_CN"), raised.value)
    assert (field, chinese) == ("name", f"名称：{said}")
    english = raised.value.errors()[0]["msg"].removeprefix("Value error, ")
    assert validation_problem(translator("en"), raised.value)[1] == f"The name: {english}"


def test_a_playbook_yaml_cannot_read_is_said_in_words_with_its_line() -> None:
    zh, en = translator("zh_CN"), translator("en")
    said = []
    for source in (default_source() + "\nversion: 2\n", "version: 1\nstages: [\n"):
        with pytest.raises(PlaybookInvalid) as raised:
            validate_playbook(source)
        (error,) = raised.value.details["errors"]
        assert error["message"].startswith(f"line {error['line']}: "), error  # the API's English
        (zh_error,) = playbook_problems([error], zh)
        (en_error,) = playbook_problems([error], en)
        said.append((located_problem(zh_error, zh), located_problem(en_error, en)))
    (repeated_zh, repeated_en), (unread_zh, unread_en) = said
    assert re.fullmatch(r"第 \d+ 行：version （顶层） 中的键 'version' 重复了", repeated_zh)
    assert re.fullmatch(r"line \d+: version key 'version' repeated in \(top level\)", repeated_en)
    assert unread_zh == (
        "第 3 行：（顶层） YAML 无法读取（第 3 行第 1 列）：括号还没闭合，文本就结束了"
    )
    assert unread_en == (
        "line 3: (top level) the YAML cannot be read at line 3, column 1: "
        "the text ends before a bracket is closed"
    )
