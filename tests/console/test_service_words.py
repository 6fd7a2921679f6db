"""Issue #20: the refusals the channels, forms and events services build with the request's
values (a template's key, a Jinja error's part and line, a form's repeated key) and the YAML
parser's common complaints read in the viewer's language; the REST API's message stays English.
A refusal carries a ``RefusedValue``'s words (a message id) and values, as a condition's does."""

import ast
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from nicegui.testing import User
from pydantic import ValidationError

from leadpond.channels import service
from leadpond.channels.render import check_template
from leadpond.channels.schemas import NAME_LENGTH, TemplateBody, TemplateCreate
from leadpond.channels.senders.base import Outcome, Result
from leadpond.channels.settings import schema_of, set_channel
from leadpond.conditions.source import SourceError, load_located
from leadpond.console.i18n import translator
from leadpond.console.pages import channels as channels_page
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.forms_words import refusal_problem, schema_problem
from leadpond.console.pages.words import schema_error_words, validation_problem
from leadpond.db.engine import unit_of_work
from leadpond.engage import forms
from leadpond.engage.events_schemas import EventBody
from leadpond.engage.forms_schemas import FormCreate
from leadpond.kit import yaml
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.console.catalogs import missing_words
from tests.console.test_channels_page import eventually, one, set_value
from tests.console.test_pages import anyio_backend, log_in, user
from tests.console.test_templates_page import person_id, save_template, template_keys

SOURCE = Path(__file__).resolve().parents[2] / "src" / "leadpond"
ZH, EN = translator("zh_CN"), translator("en")
__all__ = ["anyio_backend", "user"]


def _refused_words() -> set[str]:
    """The words of every ``RefusedValue`` made in src/leadpond with a constant message id."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "RefusedValue"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(str(node.args[0].value))
    return found


def test_every_refused_values_words_have_chinese_and_english() -> None:
    words = _refused_words() | {
        yaml.TAB,
        yaml.OPEN_QUOTE,
        yaml.OPEN_BRACKET,
        yaml.UNCLOSED_AT_END,
        yaml.INDENTATION,
    }
    assert len(words) > 25
    assert missing_words(words) == {"zh_CN": [], "en": []}


def test_a_template_that_does_not_compile_names_its_part_and_line_in_a_sentence() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_template("email", "Hi", "<p>Hello</p>\n<p>{% if %}</p>")
    exc = raised.value
    jinja = exc.params["problem"]  # the engine's own account, kept as it says it
    assert exc.message == f"body: line 2: {jinja}"  # the REST API's words are unchanged
    assert error_words(exc, ZH) == f"模板无法编译（body 第 2 行）：{jinja}"
    assert error_words(exc, EN) == exc.message
    with pytest.raises(InvalidInput) as raised:
        check_template("sms", None, '{"name": ')
    assert re.fullmatch(r"正文不是 JSON 对象（Expecting value: .+）", error_words(raised.value, ZH))


def test_a_preview_that_fails_for_a_person_says_why_in_a_sentence(
    workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "Alice Chen", "email": "alice.chen@yunfan.cn"})
    draft = TemplateBody(channel="email", subject="Hi", body="<p>ok</p>\n{{ 1 // 0 }}")
    with pytest.raises(LeadpondError) as raised, unit_of_work() as session:
        who = person_id(workspace, "alice.chen@")
        service.preview_draft(session, workspace.workspace_id, draft, who)
    exc = raised.value
    assert exc.message.startswith("body: line 2: the template fails for this person: ")
    assert error_words(exc, ZH) == (
        "模板无法为此人渲染（body 第 2 行）：ZeroDivisionError: integer division or modulo by zero"
    )
    assert error_words(exc, EN) == exc.message


def test_a_taken_key_and_a_template_in_use_are_said_in_words(
    workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "Alice Chen", "email": "alice.chen@yunfan.cn"})
    save_template(workspace)
    ws = workspace.workspace_id
    again = TemplateCreate(key="welcome", channel="email", subject="Hi", body="<p>x</p>")
    with pytest.raises(LeadpondError) as taken, unit_of_work() as session:
        service.create_template(session, ws, again)
    assert taken.value.message == "a template 'welcome' exists already"
    assert error_words(taken.value, ZH) == "模板标识 'welcome' 已存在"
    with unit_of_work() as session:
        who = person_id(workspace, "alice.chen@")
        service.send(session, ws, "email", "welcome", who, idempotency_key="words-1")
    with pytest.raises(LeadpondError) as in_use, unit_of_work() as session:
        service.delete_template(session, ws, "welcome")
    assert in_use.value.to_body()["messages"] == 1
    assert error_words(in_use.value, ZH) == (
        "已有 1 条消息用模板 'welcome' 写成：模板须保留，这些消息的记录才能找到它"
    )
    assert error_words(in_use.value, EN) == in_use.value.message
    with pytest.raises(LeadpondError) as unknown, unit_of_work() as session:
        set_channel(session, ws, "fax", "smtp", {})
    assert error_words(unknown.value, ZH) == "没有渠道 'fax'"


def test_a_channel_refusal_outside_the_settings_schema_is_said_in_words() -> None:
    with pytest.raises(InvalidInput) as raised:
        schema_of("email", "pigeon")
    assert raised.value.message.startswith("no provider 'pigeon' for channel 'email' (known: ")
    assert re.fullmatch(
        r"渠道 'email' 没有服务商 'pigeon'（可选：.+）", error_words(raised.value, ZH)
    )
    with pytest.raises(ValidationError) as long_name:
        TemplateBody.model_validate({"channel": "sms", "body": "{}", "name": "x" * 201})
    error = long_name.value.errors()[0]
    said = f"名称每种语言最多 {NAME_LENGTH} 个字符"
    assert schema_error_words(ZH, error) == said
    english = f"a name is at most {NAME_LENGTH} characters in each language"
    assert schema_error_words(EN, error) == english
    assert english in str(long_name.value)  # pydantic's (the API's) message


@pytest.mark.parametrize(
    ("locale", "said"),
    [("zh_CN", "服务商返回：250 OK queued"), ("en", "Provider answer: 250 OK queued")],
)
def test_a_test_sends_answer_is_labelled_as_the_providers_own_text(locale: str, said: str) -> None:
    visit: Any = SimpleNamespace(_=translator(locale))
    answer = channels_page.test_answer(visit, Outcome(1, Result.SENT, detail="250 OK queued"))
    assert answer.splitlines()[-1] == said


@pytest.mark.parametrize(
    ("text", "chinese", "english"),
    [
        (
            "a:\n\tb: 1\n",
            "YAML 无法读取（第 2 行第 1 列）：YAML 不能用 Tab 缩进，请改用空格",
            "the YAML cannot be read at line 2, column 1: a tab cannot indent YAML; "
            "indent with spaces",
        ),
        (
            'x: 1\na: "abc\nb: 2\n',
            "YAML 无法读取（第 2 行第 4 列）：这个引号没有闭合",
            "the YAML cannot be read at line 2, column 4: this quote is never closed",
        ),
        (
            "a: {b: 1\nc: 2\n",
            "YAML 无法读取（第 1 行第 4 列）：这个括号没有闭合",
            "the YAML cannot be read at line 1, column 4: this bracket is never closed",
        ),
        (
            "a: 1\n  b: 2\n",
            "YAML 无法读取（第 2 行第 4 列）：缩进没有对齐（或含冒号的值需要加引号）",
            "the YAML cannot be read at line 2, column 4: the indentation does not line up "
            "(or a value holding a colon needs quotes)",
        ),
        (
            "a: 1\na: 2\n",
            "（顶层） 中的键 'a' 重复了",
            "key 'a' repeated in (top level)",
        ),
        # Any other complaint keeps the parser's account.
        ("a: *x\n", "YAML 无法读取：found undefined alias 'x'", None),
    ],
)
def test_the_yaml_parsers_common_complaints_are_said_in_words(
    text: str, chinese: str, english: str | None
) -> None:
    with pytest.raises(SourceError) as raised:
        load_located(text)
    assert raised.value.message.startswith("line ")  # the API's: the parser's, with its line
    assert error_words(raised.value, ZH) == chinese
    assert error_words(raised.value, EN) == (
        english or f"the YAML cannot be read: {raised.value.params['problem']}"
    )


FORM = {
    "key": "trial",
    "name_zh": "试用",
    "fields": [
        {"key": "name", "type": "text", "label_zh": "姓名"},
        {"key": "name", "type": "email", "label_zh": "邮箱"},
    ],
}


def test_a_form_that_cannot_be_saved_is_said_by_the_builders_labels() -> None:
    with pytest.raises(LeadpondError) as raised:
        forms.check(FormCreate.model_validate(FORM))
    assert raised.value.message == "two fields have the key name"
    assert refusal_problem(ZH, raised.value) == "第 2 个字段 · 字段键：有两个字段的标识都是 name"
    assert refusal_problem(EN, raised.value) == "Field 2 · Field key: two fields have the key name"
    with pytest.raises(ValidationError) as typed:
        FormCreate.model_validate({**FORM, "name_zh": ""})
    error = dict(typed.value.errors()[0])
    assert schema_problem(ZH, error) == "名称（中文）：太短（至少 1 个字符）"
    assert schema_problem(EN, error) == "Name (Chinese): Too short (at least 1 characters)"


def test_an_events_repeated_session_key_and_unknown_time_zone_are_said_in_words() -> None:
    event: dict[str, Any] = {
        "key": "summit",
        "name_zh": "峰会",
        "kind": "conference",
        "starts_at": "2026-12-01T09:00:00",
        "ends_at": "2026-12-01T17:00:00",
    }
    session = {"key": "a", "title": "开场", "starts_at": "2026-12-01T09:00:00"}
    with pytest.raises(ValidationError) as repeated:
        EventBody.model_validate({**event, "sessions": [session, session]})
    assert validation_problem(ZH, repeated.value)[1] == "有两个分会场的标识相同"
    with pytest.raises(ValidationError) as zone:
        EventBody.model_validate({**event, "time_zone": "Mars/Olympus"})
    assert validation_problem(ZH, zone.value)[1].endswith("不认识的时区：'Mars/Olympus'")


@pytest.mark.anyio
async def test_the_template_editor_says_a_save_refusal_in_chinese_on_its_input(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "Alice Chen", "email": "alice.chen@yunfan.cn"})
    save_template(workspace)
    log_in(user, workspace, "marketer", locale="zh_CN")
    await user.open("/templates/new")
    set_value(user, "template-key", "welcome")
    set_value(user, "template-subject", "你好")
    set_value(user, "template-body", "<p>Hello</p>")
    # Let the preview render first (it clears only its own errors; see test_templates_page).
    await eventually(lambda: one(user, "preview-subject").text == "你好")
    user.find(marker="save-template").click()
    await eventually(lambda: one(user, "template-key").error == "模板标识 'welcome' 已存在")
    set_value(user, "template-key", "welcome_2")
    set_value(user, "template-body", "<p>Hello</p>\n<p>{% if %}</p>")
    user.find(marker="save-template").click()
    said = "模板无法编译（body 第 2 行）："
    await eventually(lambda: (one(user, "template-body").error or "").startswith(said))
    assert one(user, "template-error").text.startswith(said)
    assert template_keys(workspace) == ["welcome"]
