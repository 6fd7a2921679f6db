"""The console's added screens with NiceGUI's simulated user: users and roles, segment delete
and static lists, the person edit tab (tags and traits), playbook history with rollback."""

import io
from typing import Any

import pytest
from nicegui.testing import User
from sqlalchemy import select

from leadpond.console.pages.playbook_history import unified_diff, versions
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest import importer
from leadpond.ingest.models import Event
from leadpond.pipeline import worker
from leadpond.playbooks import service as playbooks
from leadpond.profiles.service import get_person
from leadpond.rules import reads
from leadpond.segments import service as segments
from leadpond.segments.schemas import SegmentCreate
from leadpond.users import service as users
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def _one(user: User, marker: str) -> Any:
    return next(iter(user.find(marker=marker).elements))


def _roles(workspace: NewWorkspace) -> dict[str, str]:
    with read_only() as session:
        return {u.email: m.role for u, m in users.members(session, workspace.workspace_id)}


async def test_an_admin_adds_a_member_changes_roles_and_meets_the_last_admin_rule(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "admin")
    await user.open("/settings")
    await user.should_see("用户与角色")
    user.find(marker="member-email").type("li.lei@example.cn")
    user.find(marker="member-name").type("李雷")
    with user:
        _one(user, "member-role").value = "marketer"
    user.find(marker="add-member").click()
    await user.should_see("新用户需要至少 8 个字符的密码。")
    assert "li.lei@example.cn" not in _roles(workspace)
    user.find(marker="member-password").type("long enough pw")
    user.find(marker="add-member").click()
    await user.should_see("已添加 li.lei@example.cn")
    assert _roles(workspace)["li.lei@example.cn"] == "marketer"
    table = _one(user, "members-table")
    assert {r["email"]: r["role_words"] for r in table.rows}["li.lei@example.cn"] == "市场人员"
    admin = next(r for r in table.rows if r["role"] == "admin")
    # The only admin may not step down: said in words, nothing changed.
    user.find(marker="members-table").trigger("role", {"id": admin["id"], "role": "viewer"})
    await user.should_see("工作区至少需要一位管理员：请先把其他人设为管理员。")
    assert _roles(workspace)[admin["email"]] == "admin"
    lei = next(r for r in table.rows if r["email"] == "li.lei@example.cn")
    user.find(marker="members-table").trigger("role", {"id": lei["id"], "role": "sales"})
    assert _roles(workspace)["li.lei@example.cn"] == "sales"
    user.find(marker="members-table").trigger("remove", lei)
    await user.should_see("已移除 li.lei@example.cn")
    assert "li.lei@example.cn" not in _roles(workspace)


async def test_a_marketer_sees_no_members(user: User, workspace: NewWorkspace) -> None:
    log_in(user, workspace, "marketer", locale="en")
    await user.open("/settings")
    await user.should_see("Send events")
    await user.should_not_see("Users and roles")
    await user.should_not_see(marker="add-member")


async def test_a_marketer_makes_a_static_list_fills_it_and_deletes_it(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    track.identify("u2", traits={"name": "王芳", "email": "wang.fang@xinghuan.cn"})
    with read_only() as session:
        ids = sorted(
            session.scalars(
                select(Event.person_id).where(Event.workspace_id == workspace.workspace_id)
            )
        )
    log_in(user, workspace, "marketer")
    await user.open("/segments")
    user.find(marker="new-list").click()
    user.find(marker="list-key").type("Bad Key")
    user.find(marker="create-list").click()
    await user.should_see("标识：1 到 64 个字母、数字、_、. 或 -，不含空格。")
    user.find(marker="list-key").clear().type("vip_list")
    user.find(marker="list-name").type("VIP 名单")
    user.find(marker="create-list").click()
    await user.should_see(marker="list-ids")
    user.find(marker="list-ids").type(f"{ids[0]}, #{ids[-1]} 999999")
    user.find(marker="list-add").click()
    await user.should_see("已添加 2 人，已移除 0 人，1 个未找到")
    await user.should_see("共 2 名成员")
    user.find(marker="list-ids").clear().type(str(ids[0]))
    user.find(marker="list-remove").click()
    await user.should_see("已添加 0 人，已移除 1 人，0 个未找到")
    with read_only() as session:
        segment = segments.get_segment(session, workspace.workspace_id, "vip_list")
        assert segments.members(session, workspace.workspace_id, segment, limit=9, offset=0)[0] == 1
    user.find(marker="delete-segment").click()
    await user.should_see("删除分群 vip_list 及其成员和历史？此操作无法撤销。")
    user.find(marker="confirm-delete").click()
    with read_only() as session:
        assert "vip_list" not in [
            s.key for s in segments.list_segments(session, workspace.workspace_id)
        ]


async def test_a_segment_another_uses_is_not_deleted(user: User, workspace: NewWorkspace) -> None:
    with unit_of_work() as session:
        ws = workspace.workspace_id
        segments.create_segment(session, ws, SegmentCreate(key="base", kind="static"))
        segments.create_segment(
            session, ws, SegmentCreate(key="on_top", condition={"segment": "base"})
        )
    log_in(user, workspace, "marketer")
    await user.open("/segments/base")
    user.find(marker="delete-segment").click()
    user.find(marker="confirm-delete").click()
    await user.should_see("其他分群正在使用此分群：on_top。请先修改它们。")
    with read_only() as session:
        assert segments.get_segment(session, ws, "base").key == "base"


async def test_a_viewer_may_not_delete_a_segment(user: User, workspace: NewWorkspace) -> None:
    with unit_of_work() as session:
        segments.create_segment(
            session, workspace.workspace_id, SegmentCreate(key="l", kind="static")
        )
    log_in(user, workspace, "viewer")
    await user.open("/segments/l")
    await user.should_see(marker="members")
    await user.should_not_see(marker="delete-segment")
    await user.should_not_see(marker="list-ids")


async def test_a_marketer_tags_by_hand_and_edits_traits_through_the_event_log(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "email": "zhang.wei@xinghuan.cn"})
    with read_only() as session:
        pid = session.scalars(
            select(Event.person_id).where(Event.workspace_id == workspace.workspace_id)
        ).one()
    log_in(user, workspace, "marketer")
    await user.open(f"/people/{pid}")
    user.find(marker="tab-edit").click()
    user.find(marker="new-tag").type("need:evaluation")
    user.find(marker="add-tag").click()
    await user.should_see("标签已添加")
    with read_only() as session:
        assert [t.tag for t in reads.tags_of(session, workspace.workspace_id, pid)] == [
            "need:evaluation"
        ]
    user.find(marker="edit-tags").trigger("untag", "need:evaluation")
    await user.should_see("标签已移除")
    with read_only() as session:
        assert reads.tags_of(session, workspace.workspace_id, pid) == []
    user.find(marker="trait-title").type("CIO")
    user.find(marker="trait-company").type("星环科技")
    user.find(marker="save-traits").click()
    await user.should_see("已保存：数据管道处理后资料即会更新。")
    worker.drain()
    with read_only() as session:
        person = get_person(session, workspace.workspace_id, pid)
        assert person.traits["title"] == "CIO"
        assert person.traits["company"] == "星环科技"
        assert person.traits["name"] == "张伟"
        sources = list(
            session.scalars(
                select(Event.source).where(
                    Event.workspace_id == workspace.workspace_id, Event.person_id == pid
                )
            )
        )
    assert sorted(sources) == ["api", "console"]


async def test_an_imported_contact_is_edited_by_the_email_they_keep(
    user: User, workspace: NewWorkspace
) -> None:
    report = importer.import_people(
        workspace.workspace_id, io.BytesIO("姓名,邮箱\n李雷,li.lei@xinghuan.cn\n".encode()), "a.csv"
    )
    assert report.imported == 1
    worker.drain()
    with read_only() as session:
        pid = session.scalars(
            select(Event.person_id).where(Event.workspace_id == workspace.workspace_id)
        ).one()
    log_in(user, workspace, "marketer")
    await user.open(f"/people/{pid}")
    user.find(marker="tab-edit").click()
    user.find(marker="trait-title").type("CTO")
    user.find(marker="save-traits").click()
    await user.should_see("已保存：数据管道处理后资料即会更新。")
    worker.drain()
    with read_only() as session:
        person = get_person(session, workspace.workspace_id, pid)
        assert person.traits["title"] == "CTO"
        assert person.traits["email"] == "li.lei@xinghuan.cn"
        people = session.scalars(
            select(Event.person_id).where(Event.workspace_id == workspace.workspace_id)
        ).all()
    assert set(people) == {pid}
    # Replacing the only email of a contact known by nothing else is refused in words.
    user.find(marker="trait-email").clear().type("lei.li@xinghuan.cn")
    user.find(marker="save-traits").click()
    await user.should_see("此人仅以邮箱和手机号识别：请每次只修改其中一项。")


async def test_a_viewer_has_no_edit_tab(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟"})
    with read_only() as session:
        pid = session.scalars(
            select(Event.person_id).where(Event.workspace_id == workspace.workspace_id)
        ).one()
    log_in(user, workspace, "viewer")
    await user.open(f"/people/{pid}")
    await user.should_see(marker="tab-profile")
    await user.should_not_see(marker="tab-edit")


SECOND = "stages:\n  - key: lead\n    name: 线索\n"


async def test_playbook_history_shows_the_diff_and_rolls_back(
    user: User, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    with read_only() as session:
        first = playbooks.current(session, ws)
    changed = first.source.replace("name: 高意向线索", "name: 热线索", 1)
    assert changed != first.source
    with unit_of_work() as session:
        playbooks.apply_playbook(session, ws, changed, actor="session:someone@example.cn")
    log_in(user, workspace, "marketer")
    await user.open("/playbook/history")
    table = _one(user, "versions")
    assert [r["version"] for r in table.rows] == [first.version + 1, first.version]
    assert table.rows[0]["by"] == "someone@example.cn"
    code = _one(user, "diff")
    changes = [line for line in code.content.splitlines() if line[:1] in "+-"]
    assert [line[0] for line in changes if "线索" in line] == ["-", "+"]
    assert "热线索" in changes[-1]
    await user.should_not_see(marker="roll-back")
    user.find(marker="versions").trigger(
        "selection", {"rows": [table.rows[1]], "added": True, "keys": [first.version]}
    )
    await user.should_see(marker="roll-back")
    user.find(marker="roll-back").click()
    await user.should_see(f"版本 {first.version} 已重新应用为版本 {first.version + 2}")
    with read_only() as session:
        newest = playbooks.current(session, ws)
        assert newest.version == first.version + 2
        assert newest.source == first.source
        assert next(v.version for v in versions(session, ws)) == first.version + 2


async def test_a_viewer_sees_history_but_no_rollback(user: User, workspace: NewWorkspace) -> None:
    ws = workspace.workspace_id
    with read_only() as session:
        first = playbooks.current(session, ws)
    with unit_of_work() as session:
        playbooks.apply_playbook(
            session,
            ws,
            first.source.replace("name: 高意向线索", "name: 热线索", 1),
            actor="session:x@example.cn",
        )
    log_in(user, workspace, "viewer")
    await user.open("/playbook/history")
    await user.should_see(marker="diff")
    user.find(marker="versions").trigger(
        "selection", {"rows": [{"version": first.version}], "added": True, "keys": [first.version]}
    )
    await user.should_not_see(marker="roll-back")


def test_the_diff_names_both_versions() -> None:
    text = unified_diff("a: 1\nb: 2\n", "a: 1\nb: 3\n", 4, 5)
    assert text.splitlines()[:2] == ["--- v4", "+++ v5"]
    assert "-b: 2" in text and "+b: 3" in text
    assert unified_diff("x\n", "x\n", 1, 2) == ""
