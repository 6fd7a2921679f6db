"""The marketing event editor with NiceGUI's simulated user: what cannot be read (a time, an
agenda's YAML) is said in the viewer's language, naming the input; nothing is saved."""

from typing import Any

import pytest
from nicegui.testing import User

from leadpond.workspaces.service import NewWorkspace
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def set_value(user: User, marker: str, value: Any) -> None:
    with user:
        user.find(marker=marker).elements.pop().value = value


@pytest.mark.parametrize(
    ("locale", "bad_time", "bad_agenda"),
    [
        (
            "zh_CN",
            "开始时间：请按 2027-04-18 09:30 这样的格式填写日期和时间。",
            "议程：YAML 无法读取（第 2 行）。",
        ),
        (
            "en",
            "Start time: write a date and time such as 2027-04-18 09:30.",
            "Agenda: the YAML cannot be read (line 2).",
        ),
    ],
)
async def test_what_cannot_be_read_is_said_by_its_input(
    user: User, workspace: NewWorkspace, locale: str, bad_time: str, bad_agenda: str
) -> None:
    log_in(user, workspace, "marketer", locale=locale)
    await user.open("/events/new")
    set_value(user, "event-starts", "next Tuesday")
    user.find(marker="save-event").click()
    await user.should_see(bad_time)
    set_value(user, "event-starts", "2027-04-18 09:30")
    set_value(user, "event-sessions", "- key: keynote\n  title: [unclosed\n")
    user.find(marker="save-event").click()
    await user.should_see(bad_agenda)
    assert not [m for m in user.notify.messages if "does not match format" in m or "line 2:" in m]
