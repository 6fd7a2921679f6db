"""The settings page: an admin makes a write key and finds it in the tracking code; viewers see
the zone but neither keys nor a save button."""

import pytest
from nicegui.testing import User

from leadpond.console.i18n import catalog
from leadpond.console.pages import onboarding
from leadpond.db.engine import read_only
from leadpond.workspaces import service as workspaces
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


async def test_an_admin_makes_a_write_key_and_the_snippet_carries_it(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "admin")
    await user.open("/settings")
    await user.should_see("发送事件")
    await user.should_see("Asia/Shanghai (UTC+08:00)")
    user.find(marker="new-write-key").click()
    shown = next(iter(user.find(marker="new-key").elements)).text
    secret = shown.rsplit("：", 1)[-1].strip()
    assert secret.startswith("wk_")
    code = next(iter(user.find(marker="snippet-browser").elements))
    assert f'writeKey: "{secret}"' in code.content
    with read_only() as session:
        keys = workspaces.list_keys(session, workspace.workspace_id)
    assert [k.prefix for k in keys if k.name == "console"] == [secret[:10]]


async def test_a_viewer_sees_the_zone_but_no_keys(user: User, workspace: NewWorkspace) -> None:
    log_in(user, workspace, "viewer", locale="en")
    await user.open("/settings")
    await user.should_see("Asia/Shanghai (UTC+08:00)")
    await user.should_see("Send events")
    await user.should_not_see(marker="keys-table")
    await user.should_not_see(marker="save-workspace")


async def test_an_empty_workspace_opens_on_its_getting_started_steps(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    log_in(user, workspace, "admin")
    await user.open("/")
    await user.should_see("开始使用")
    await user.should_see(marker="onboarding-done-1")  # the workspace was made with a write key
    await user.should_see(marker="onboarding-todo-2")  # nothing sent yet
    await user.should_see("或从 CSV、XLSX 文件导入联系人")
    await user.should_not_see(marker="onboarding-ask-5")
    track.identify("u1", traits={"name": "张伟"})
    await user.open("/")
    await user.should_not_see(marker="onboarding")


async def test_a_viewer_is_told_who_takes_the_steps(user: User, workspace: NewWorkspace) -> None:
    log_in(user, workspace, "viewer", locale="en")
    await user.open("/")
    await user.should_see("Getting started")
    await user.should_see("(an admin does this)")
    await user.should_see("(a marketer or an admin does this)")


def test_every_getting_started_word_is_translated_to_chinese() -> None:
    chinese = catalog("zh_CN")
    said = {*onboarding.ASK.values(), *(s.words for s in onboarding.STEPS)}
    assert sorted(w for w in said if w not in chinese) == []
