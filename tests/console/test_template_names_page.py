"""Issue #20: a template's display name in the console — written in both languages in the editor
(one text stays one text), refused when too long, listed by name with its key, and offered by
the journey builder's pickers by name in the viewer's language (the value stays the key)."""

from typing import Any

import pytest
from nicegui.testing import User
from sqlalchemy import select

from leadpond.channels.models import MessageTemplate
from leadpond.console.pages.journey_builder_fields import Choices
from leadpond.db.engine import read_only
from leadpond.workspaces.service import NewWorkspace
from tests.console.test_channels_page import eventually, one, set_value
from tests.console.test_pages import anyio_backend, log_in, user
from tests.console.test_templates_page import save_template

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def stored_name(workspace: NewWorkspace, key: str) -> Any:
    with read_only() as session:
        return session.scalar(
            select(MessageTemplate.name).where(
                MessageTemplate.workspace_id == workspace.workspace_id, MessageTemplate.key == key
            )
        )


async def test_a_marketer_names_a_template_in_both_languages(
    user: User, workspace: NewWorkspace
) -> None:
    save_template(workspace, name="欢迎")
    log_in(user, workspace, "marketer", locale="en")
    await user.open("/templates/welcome")
    assert (one(user, "template-name-zh").value, one(user, "template-name-en").value) == (
        "欢迎",
        "",
    )
    set_value(user, "template-name-zh", "欢迎邮件")
    user.find(marker="save-template").click()
    await eventually(lambda: stored_name(workspace, "welcome") == "欢迎邮件")

    set_value(user, "template-name-en", "W" * 201)
    user.find(marker="save-template").click()
    await eventually(lambda: "at most 200" in (one(user, "template-name-en").error or ""))
    assert stored_name(workspace, "welcome") == "欢迎邮件"

    set_value(user, "template-name-en", "Welcome email")
    user.find(marker="save-template").click()
    await eventually(
        lambda: stored_name(workspace, "welcome") == {"zh": "欢迎邮件", "en": "Welcome email"}
    )
    assert not one(user, "template-name-en").error

    await user.open("/templates")
    rows = one(user, "templates-table").rows
    assert [(r["name"], r["key"]) for r in rows] == [("Welcome email", "welcome")]


@pytest.mark.parametrize(
    ("locale", "shown"), [("en", "Welcome email"), ("zh_CN", "欢迎邮件"), ("fr", "欢迎邮件")]
)
def test_the_builders_pickers_offer_templates_by_name_in_the_viewers_language(
    workspace: NewWorkspace, locale: str, shown: str
) -> None:
    save_template(workspace, name={"zh": "欢迎邮件", "en": "Welcome email"})
    save_template(workspace, key="chinese-only", name={"zh": "仅中文"})
    save_template(workspace, key="unnamed")
    with read_only() as session:
        choices = Choices.load(session, workspace.workspace_id, {}, locale)
    assert choices.template_options("email", "") == {
        "chinese-only": "仅中文",
        "unnamed": "unnamed",
        "welcome": shown,
    }
    # A key typed in (no template has it) stays, shown as it is; the values are keys.
    assert choices.template_options("sms", "later") == {"later": "later"}
