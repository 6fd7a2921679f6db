"""A console action checks the caller's role when it runs, as the REST API does: a marketer
demoted to viewer while a page is open is refused, and nothing changes."""

import uuid
from typing import Any

import pytest
from nicegui.testing import User
from sqlalchemy import func, select

from leadpond.db.engine import read_only, unit_of_work
from leadpond.rules.models import PlaybookVersion
from leadpond.segments import service as segments
from leadpond.users import service
from leadpond.users.models import ConsoleUser
from leadpond.workspaces.service import NewWorkspace
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def one(user: User, marker: str) -> Any:
    found = user.find(marker=marker).elements
    assert len(found) == 1, marker
    return next(iter(found))


def demote_everyone(workspace: NewWorkspace) -> None:
    """Every member of the workspace becomes a viewer (the page stays open), but for an admin
    who is not logged in: a workspace keeps an admin (``last_admin``)."""
    with unit_of_work() as session:
        spare = service.create_user(
            session, f"spare-{uuid.uuid4().hex[:6]}@example.com", "spare", "long enough pw"
        )
        service.grant(session, spare.id, workspace.workspace_id, "admin")
        for user_id in session.scalars(select(ConsoleUser.id)):
            if user_id == spare.id:
                continue
            for _workspace, _role in service.workspaces_of(session, user_id):
                if _workspace.id == workspace.workspace_id:
                    service.grant(session, user_id, workspace.workspace_id, "viewer")


def refused(user: User) -> bool:
    """The refusal names the role the action needs, and the viewer's own."""
    said = "此操作需要「市场人员」角色；你的角色是「只读」。"
    return any(said == message for message in user.notify.messages)


async def test_a_viewer_cannot_save_a_segment_from_an_open_page(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/segments/new")
    with user:
        one(user, "segment-key").value = "ctos"
    user.find(marker="condition-yaml").trigger("update:value", "{trait: title, eq: CTO}")
    demote_everyone(workspace)
    user.find(marker="save").click()
    assert refused(user)
    with read_only() as session:
        keys = [s.key for s in segments.list_segments(session, workspace.workspace_id)]
    assert "ctos" not in keys


async def test_a_viewer_cannot_apply_a_playbook_from_an_open_page(
    user: User, workspace: NewWorkspace
) -> None:
    def versions() -> int:
        with read_only() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(PlaybookVersion)
                    .where(PlaybookVersion.workspace_id == workspace.workspace_id)
                )
                or 0
            )

    log_in(user, workspace, "marketer")
    await user.open("/playbook")
    before = versions()
    demote_everyone(workspace)
    user.find(marker="save").click()
    assert refused(user)
    await user.should_not_see(marker="saved")
    assert versions() == before
