"""The import screen with NiceGUI's simulated user: a file uploaded, a column mapped by hand,
checked without writing, imported through the job layer, bad rows reported by row number."""

import asyncio
from typing import Any

import pytest
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from sqlalchemy import func, select

from leadpond.db.engine import read_only
from leadpond.identity.models import Identifier
from leadpond.jobs.runner import JobRunner
from leadpond.pipeline import worker
from leadpond.profiles.models import Person
from leadpond.workspaces.service import NewWorkspace
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]

FILE = (
    "姓名,手机号,Corp,备注\n"
    "张伟,13912345678,星环科技,展会\n"
    "王芳,not a phone,云杉网络,\n"
    "李雷,13812345679,,老客户\n"
).encode()


def _one(user: User, marker: str) -> Any:
    return next(iter(user.find(marker=marker).elements))


async def _upload(user: User, name: str, content: bytes) -> None:
    upload: ui.upload = _one(user, "import-upload")
    with user:
        await upload.handle_uploads([SmallFileUpload(name, "text/csv", content)])
    await asyncio.sleep(0)


def _people(workspace: NewWorkspace) -> int:
    with read_only() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Person)
                .where(Person.workspace_id == workspace.workspace_id)
            )
            or 0
        )


async def test_a_marketer_maps_checks_and_imports_a_file(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/import")
    await user.should_see("导入人员")
    await _upload(user, "展会名单.csv", FILE)
    await user.should_see("展会名单.csv：为每一列选择它的内容")
    corp: ui.select = _one(user, "target-Corp")
    assert corp.value == "corp"
    assert _one(user, "target-手机号").value == "phone"
    with user:
        corp.value = "company"
        _one(user, "target-备注").value = ""
    user.find(marker="import-check").click()
    await user.should_see("导入已排队")
    JobRunner().run_pending()
    await user.should_see(
        "已检查 3 行：2 行将被导入，0 行已存在，1 行有问题（未写入任何数据）。", retries=30
    )
    assert _people(workspace) == 0
    user.find(marker="import-start").click()
    JobRunner().run_pending()
    await user.should_see("已读取 3 行：导入 2 行，0 行已存在，1 行有问题。", retries=30)
    rejected = _one(user, "import-rejected").rows
    # Row number as Excel numbers it, the file's column, the reason in the user's language.
    said = [(r["row"], r["column"], r["reason"]) for r in rejected]
    assert said == [(3, "手机号", "不是有效的手机号：not a phone")]
    worker.drain()
    with read_only() as session:
        people = list(
            session.scalars(select(Person).where(Person.workspace_id == workspace.workspace_id))
        )
        phones = set(
            session.scalars(
                select(Identifier.value).where(
                    Identifier.workspace_id == workspace.workspace_id, Identifier.type == "phone"
                )
            )
        )
    assert sorted(p.traits.get("company", "") for p in people) == ["", "星环科技"]
    assert all("备注" not in p.traits and "corp" not in p.traits for p in people)
    assert len(phones) == 2


async def test_a_file_without_an_identifier_is_refused_before_any_job(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer", locale="en")
    await user.open("/import")
    await _upload(user, "x.csv", "名字,公司\n张伟,星环\n".encode())
    user.find(marker="import-start").click()
    await user.should_see("no column holds an identifier")


async def test_a_refused_file_is_said_in_chinese(user: User, workspace: NewWorkspace) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/import")
    await _upload(user, "x.csv", "名字,公司\n张伟,星环\n".encode())
    user.find(marker="import-start").click()
    await user.should_see("没有一列是标识：文件需要用户 ID、邮箱、手机号或外部 ID 之一")
    await user.should_not_see(marker="import-report")


async def test_a_viewer_may_not_import(user: User, workspace: NewWorkspace) -> None:
    log_in(user, workspace, "viewer")
    await user.open("/import")
    await user.should_see(marker="import-read-only")
    await user.should_not_see(marker="import-upload")
