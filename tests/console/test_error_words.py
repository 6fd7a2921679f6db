"""The console says a service's refusal in the viewer's language: its constant message when the
catalogs hold it, else words for its code (and the input it names), never the API's developer
text. The catalog check scans src/leadpond, so a new error, code or message cannot go unsaid."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from nicegui.testing import User

from leadpond.conditions.parse import ConditionError, parse_condition
from leadpond.console.i18n import catalog, translator
from leadpond.console.pages.errors_words import (
    CODE_WORDS,
    FIELD_NAMES,
    error_words,
    field_of,
    playbook_problems,
)
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.playbooks.service import validate_playbook
from leadpond.profiles.service import PersonNotFound
from leadpond.users.auth import RoleTooLow
from leadpond.users.permissions import MEMBERS_WRITE
from leadpond.workspaces.service import NAME_MAX_LENGTH, NewWorkspace
from tests.console.test_pages import anyio_backend, log_in, user

__all__ = ["anyio_backend", "user"]

SOURCE = Path(__file__).resolve().parents[2] / "src" / "leadpond"


def _trees() -> Iterator[ast.Module]:
    for path in sorted(SOURCE.rglob("*.py")):
        yield ast.parse(path.read_text(encoding="utf-8"), str(path))


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _errors_and_codes(trees: list[ast.Module]) -> tuple[set[str], set[str]]:
    """The names of the classes that derive from LeadpondError, and every code they define."""
    bases: dict[str, set[str]] = {}
    codes: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases.setdefault(node.name, set()).update(filter(None, map(_name, node.bases)))
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and statement.value:
                    targets, value = [statement.target], statement.value
                elif isinstance(statement, ast.Assign):
                    targets, value = statement.targets, statement.value
                else:
                    continue
                for target in targets:
                    pairs = (
                        zip(target.elts, value.elts, strict=True)
                        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                        else [(target, value)]
                    )
                    for name, value in pairs:
                        if _name(name) == "code" and isinstance(value, ast.Constant):
                            codes[node.name] = value.value
    errors = {"LeadpondError"}
    while grown := {c for c, b in bases.items() if c not in errors and b & errors}:
        errors |= grown
    return errors, {code for name, code in codes.items() if name in errors}


def _raised(trees: list[ast.Module], errors: set[str]) -> tuple[set[str], set[str]]:
    """The constant messages errors are made with, and the constant part of the fields named."""
    messages: set[str] = set()
    fields: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) in errors):
                continue
            if node.args and isinstance(node.args[0], ast.Constant):
                messages.add(str(node.args[0].value))
            for keyword in node.keywords:
                if keyword.arg != "field":
                    continue
                if isinstance(keyword.value, ast.Constant):
                    fields.add(field_of(str(keyword.value.value)))
                elif isinstance(keyword.value, ast.JoinedStr):
                    # f"fields[{index}].maps_to", f"{where}.options": the values as indices.
                    parts = keyword.value.values
                    path = "".join(
                        str(p.value) if isinstance(p, ast.Constant) else "0" for p in parts
                    )
                    if field_of(path) != "0":
                        fields.add(field_of(path))
    return messages, fields


def test_every_refusal_the_services_raise_has_chinese_words() -> None:
    trees = list(_trees())
    errors, codes = _errors_and_codes(trees)
    messages, fields = _raised(trees, errors)
    assert len(errors) > 60 and len(codes) > 60 and len(messages) > 100 and len(fields) > 40
    assert sorted(codes ^ set(CODE_WORDS)) == []
    assert sorted(f for f in fields if f not in FIELD_NAMES) == []
    chinese = catalog("zh_CN")
    said = messages | set(CODE_WORDS.values()) | set(FIELD_NAMES.values())
    said |= {"{problem} ({field})", "{problem} (line {line})"}
    assert sorted(s for s in said if s not in chinese) == []


def test_a_constant_message_is_translated_and_a_built_one_is_said_by_its_code() -> None:
    zh, en = translator("zh_CN"), translator("en")
    constant = InvalidInput("the destination must be an http(s) URL", field="url")
    assert error_words(constant, zh) == "目标地址必须是 http(s) 网址"
    assert error_words(constant, en) == "the destination must be an http(s) URL"
    built = PersonNotFound("person 999999 not found")
    assert error_words(built, zh) == "该人员不存在。"
    assert error_words(built, en) == "This person does not exist."
    typed = InvalidInput("fields[3].maps_to: no trait x", field="fields[3].maps_to")
    assert error_words(typed, zh) == "填写的内容有误，请检查。（对应字段）"
    assert error_words(typed, en) == "Some of what was entered is not valid. (Maps to)"
    assert error_words(LeadpondError("boom", field="no_such_input"), zh) == "无法完成此操作。"


def test_a_condition_typed_wrong_is_said_with_its_line_and_its_reason_in_words() -> None:
    with pytest.raises(ConditionError) as raised:
        parse_condition("all:\n  - {tag: vip}\n  - {colour: red}\n")
    assert "unknown condition ['colour']" in raised.value.message  # the REST API's words stay
    assert error_words(raised.value, translator("zh_CN")) == (
        "条件有误。（第 3 行）不认识的条件：colour（请检查拼写）"
    )
    assert error_words(raised.value, translator("en")) == (
        "The condition is not valid. (line 3) unknown condition colour (check the spelling)"
    )


def test_a_playbooks_schema_errors_are_said_in_words_never_pydantics() -> None:
    source = "version: 2\nstages:\n  - name: x\nscore_models:\n  - key: fit\n    decay: often\n"
    with pytest.raises(LeadpondError) as raised:
        validate_playbook(source)
    errors = raised.value.details["errors"]
    assert {e["message"] for e in errors} >= {"Field required", "Input should be 1"}  # the API's
    said = {e["path"]: e["message"] for e in playbook_problems(errors, translator("zh_CN"))}
    assert said == {
        "version": "只能是：1",
        "stages[0].key": "必填",
        "score_models[0].decay": "此处不认识这一项（请检查拼写）",
    }
    english = playbook_problems(errors, translator("en"))
    assert {e["message"] for e in english} == {
        "Must be one of: 1",
        "Required",
        "Not known here (check the spelling)",
    }
    assert all(e["line"] for e in english)


def test_a_role_refusal_names_the_role_needed_in_the_viewers_language() -> None:
    with pytest.raises(RoleTooLow) as raised:
        MEMBERS_WRITE.check("marketer")
    assert raised.value.to_body()["needed"] == "admin"  # the REST API's answer names it too
    assert error_words(raised.value, translator("zh_CN")) == (
        "此操作需要「管理员」角色；你的角色是「市场人员」。"
    )
    assert error_words(raised.value, translator("en")) == (
        "This needs the Admin role; yours is Marketer."
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("locale", "empty", "too_long"),
    [
        ("zh_CN", "工作区名称不能为空", "填写的内容有误，请检查。（名称）"),
        (
            "en",
            "workspace name must not be empty",
            "Some of what was entered is not valid. (The name)",
        ),
    ],
)
async def test_a_refused_save_is_said_in_the_users_language(
    user: User, workspace: NewWorkspace, locale: str, empty: str, too_long: str
) -> None:
    log_in(user, workspace, "admin", locale=locale)
    await user.open("/settings")
    user.find(marker="workspace-name").clear().type("  ")
    user.find(marker="save-workspace").click()
    await user.should_see(empty)
    user.find(marker="workspace-name").clear().type("x" * (NAME_MAX_LENGTH + 1))
    user.find(marker="save-workspace").click()
    await user.should_see(too_long)
    assert not [m for m in user.notify.messages if "characters" in m]
