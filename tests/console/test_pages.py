"""Console page logic with NiceGUI's simulated user (no browser): auth redirect, directory, 360."""

import functools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_simulation import user_simulation

from leadpond.console.pages import PAGES
from leadpond.db.engine import unit_of_work
from leadpond.reports import directory
from leadpond.users import service
from leadpond.users.auth import SESSION_COOKIE
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def user(backend: str) -> AsyncIterator[User]:
    async with user_simulation() as simulated:
        for path, page in PAGES:
            ui.page(path)(_here(page))
        yield simulated


def _here(page: Callable[..., Any]) -> Callable[..., Any]:
    """The page under a function of this module: NiceGUI's simulation unloads the modules of the
    page functions it served when it ends, which must not be leadpond's own."""

    @functools.wraps(page)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return page(*args, **kwargs)

    wrapped.__module__ = __name__
    return wrapped


def log_in(user: User, workspace: NewWorkspace, role: str, locale: str = "zh_CN") -> None:
    with unit_of_work() as session:
        account = service.create_user(
            session, f"{role}-{uuid.uuid4().hex[:6]}@example.com", role, "long enough pw", locale
        )
        service.grant(session, account.id, workspace.workspace_id, role)
        token, _ = service.open_session(session, account, workspace.workspace_id)
    user.http_client.cookies.set(SESSION_COOKIE, token)


async def test_pages_send_strangers_to_the_login_form(user: User) -> None:
    await user.open("/people")
    await user.should_see(marker="email")
    await user.should_see("登录")


async def test_people_page_lists_the_workspace_in_chinese(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    track.identify("u2", traits={"name": "王芳", "email": "wang.fang@xinghuan.cn"})
    log_in(user, workspace, "viewer")
    await user.open("/people")
    await user.should_see("人员")
    await user.should_see("第 1–2 条，共 2 人")
    rows = user.find(marker="people-table").elements.pop().rows
    assert sorted(row["name"] for row in rows) == ["张伟", "王芳"]


async def test_person_page_in_english_shows_identities_and_hides_unmerge_from_viewers(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "Alice", "email": "alice@example.cn"})
    log_in(user, workspace, "viewer", locale="en")
    await user.open("/people")
    person_id = user.find(marker="people-table").elements.pop().rows[0]["id"]
    await user.open(f"/people/{person_id}")
    await user.should_see("Identities")
    await user.should_see("Timeline")
    # A server-side identify says only its ingestion path: the "Other" channel group.
    await user.should_see("First touch:")
    await user.should_see(marker="first-touch-group")
    assert user.find(marker="first-touch-group").elements.pop().text == "Other"
    await user.should_not_see(marker="unmerge")


async def test_a_person_of_another_workspace_is_not_found(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "viewer")
    await user.open("/people/999999999")
    await user.should_see(marker="not-found")


async def test_a_given_name_finds_the_person_and_says_how(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟"})
    track.identify("u2", traits={"name": "王建国"})
    log_in(user, workspace, "viewer")
    await user.open("/people")
    user.find(marker="search").type("建国").trigger("keydown.enter")
    rows = user.find(marker="people-table").elements.pop().rows
    assert [row["name"] for row in rows] == ["王建国"]
    await user.should_see("中文姓名也按其中任意部分查找")
    user.find(marker="search").clear().type("wang").trigger("keydown.enter")
    await user.should_not_see("中文姓名也按其中任意部分查找")


async def test_people_page_filters_by_a_persona_picked_by_its_name(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "title": "CIO"})
    track.identify("u2", traits={"name": "Alice Chen", "title": "高级工程师"})
    track.identify("u3", traits={"name": "王芳", "title": "CTO"})
    track.track("Demo Requested", "u3")
    log_in(user, workspace, "viewer")
    await user.open("/people")
    picker: Any = user.find(marker="persona").elements.pop()
    assert picker.options == {
        "": "全部画像",
        "bank-cio": "银行CIO",
        "it-decision-maker": "IT决策者",
        "engineer": "工程师",
    }
    with user:
        picker.value = "it-decision-maker"
    await user.should_see("第 1–2 条，共 2 人")
    rows = user.find(marker="people-table").elements.pop().rows
    assert sorted(row["name"] for row in rows) == ["张伟", "王芳"]
    user.find(marker="tag").type("need:evaluation").trigger("keydown.enter")
    rows = user.find(marker="people-table").elements.pop().rows
    assert [row["name"] for row in rows] == ["王芳"]
    with user:
        picker.value = ""
    await user.should_see("第 1–1 条，共 1 人")


async def test_the_360_page_speaks_in_names_not_keys(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "phone": "13912345678"})
    track.track("Booth Checked In", "u1", {"product_line": "graph_database", "booth": "A1"})
    track.track("Form Submitted", "u1", {"form_id": "trial", "fields": ["company", "title"]})
    log_in(user, workspace, "viewer")
    await user.open("/people")
    person_id = user.find(marker="people-table").elements.pop().rows[0]["id"]
    row = user.find(marker="people-table").elements.pop().rows[0]
    assert "产品线兴趣: 图数据库" in row["tags"]
    assert row["scores"].startswith("活跃度 ")
    await user.open(f"/people/{person_id}")
    tags = user.find(marker="tags").elements.pop().rows
    assert [t["tag"] for t in tags] == ["产品线兴趣: 图数据库"]
    assert tags[0]["source"] == "规则"
    identities = {i["type"] for i in user.find(marker="identities").elements.pop().rows}
    assert {"用户ID", "手机"} <= identities
    await user.should_see("活跃度: 2")
    entries = [e.props for e in user.find(kind=ui.timeline_entry).elements]
    assert any(e["title"] == "展台签到" for e in entries)
    # Properties by their names, a list as words, a key without a form as an identifier.
    await user.should_see("填写的字段:")
    await user.should_see("公司, 职位")
    await user.should_see("产品线:")
    await user.should_see("图数据库")
    assert "lp-code" in user.find("trial").elements.pop().classes
    stages = user.find(marker="stage-history").elements.pop().rows
    assert all(":" not in s["to"] for s in stages)  # names, not keys
    assert any(s["why"].startswith("因「") for s in stages)
    await user.open("/people/999999999")
    await user.should_see("此工作区中没有这个人（#999999999）。")
    await user.open("/accounts/999999999")
    await user.should_see("此工作区中没有这家客户公司（#999999999）。")
    await user.open("/segments/no-such-segment")
    await user.should_see("此工作区中没有这个分群（no-such-segment）。")


async def test_people_page_says_more_than_when_a_filter_count_stops(
    user: User, workspace: NewWorkspace, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        track.identify(f"u{n}", traits={"name": f"张{n}", "email": f"z{n}@xinghuan.cn"})
        track.track("Demo Requested", f"u{n}")  # tags need:evaluation
    monkeypatch.setattr(directory, "COUNT_LIMIT", 2)
    monkeypatch.setattr(directory, "CANDIDATE_LIMIT", 1)
    log_in(user, workspace, "viewer")
    await user.open("/people")
    await user.should_see("第 1–3 条，共 3 人")  # no filter: counted exactly
    user.find(marker="tag").type("need:evaluation").trigger("keydown.enter")
    await user.should_see("第 1–3 条，超过 2 人")
