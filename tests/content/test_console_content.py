"""The content screens with NiceGUI's simulated user: an item made in the editor (a bad type is
refused, nothing saved), found in the library by stage × type, its cell in the coverage
matrix, and a viewer who may look but not save."""

import pytest
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from sqlalchemy import select

from leadpond.content.models import ContentItem
from leadpond.db.engine import read_only
from leadpond.kit.scope import owned
from leadpond.workspaces.service import NewWorkspace
from tests.console.test_channels_page import one, set_value
from tests.console.test_pages import anyio_backend, log_in, user
from tests.content.conftest import Store
from tests.content.test_content_api import PDF

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def titles(workspace: NewWorkspace) -> list[str]:
    with read_only() as session:
        return list(
            session.scalars(
                select(ContentItem.title).where(owned(ContentItem, workspace.workspace_id))
            )
        )


async def test_a_marketer_writes_an_item_and_finds_it_by_stage_and_type(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer", locale="en")
    await user.open("/content/new")
    set_value(user, "content-title", "Graph databases in three minutes")
    set_value(user, "content-stages", ["visit"])
    set_value(user, "content-topics", "graph_database, ai")
    set_value(user, "content-author", "Chen Li")
    set_value(user, "content-status", "published")
    user.find(marker="content-save").click()
    await user.should_see("Type: ")  # no type chosen: refused
    assert titles(workspace) == []
    set_value(user, "content-type", "product_tech")
    user.find(marker="content-save").click()
    await user.should_see(marker="content-stats-link")  # the saved item's page
    assert titles(workspace) == ["Graph databases in three minutes"]
    await user.open("/content?stage=visit&type=product_tech")
    await user.should_see("1 items")
    rows = one(user, "content-table").rows
    assert [(r["title"], r["topics"]) for r in rows] == [
        ("Graph databases in three minutes", "Graph database、ai")  # the English console
    ]
    await user.open("/content?stage=advocate")
    await user.should_see("0 items")
    await user.open("/content/coverage")
    await user.should_see(marker="coverage-matrix")
    html = one(user, "coverage-matrix").content
    assert "stage=visit&amp;type=product_tech" in html and "lp-cell-empty" in html


async def test_a_viewer_sees_the_library_but_no_save(user: User, workspace: NewWorkspace) -> None:
    log_in(user, workspace, "viewer", locale="en")
    await user.open("/content/new")
    await user.should_see(marker="content-title")
    await user.should_not_see(marker="content-save")
    await user.open("/content")
    await user.should_see("0 items")
    await user.should_not_see(marker="content-new")


async def test_a_marketer_uploads_the_items_file_into_the_store(
    user: User, workspace: NewWorkspace, content_store: Store
) -> None:
    log_in(user, workspace, "marketer", locale="en")
    await user.open("/content/new")
    set_value(user, "content-title", "Graph whitepaper")
    set_value(user, "content-type", "whitepaper")
    user.find(marker="content-save").click()
    await user.should_see(marker="content-upload")
    fake = SmallFileUpload("paper.pdf", "application/pdf", b"MZ\x90\x00")
    await one(user, "content-upload").handle_uploads([fake])
    await user.should_see("Some of what was entered is not valid. (File)")
    assert content_store.files() == {}
    paper = SmallFileUpload("白皮书.pdf", "application/pdf", PDF)
    await one(user, "content-upload").handle_uploads([paper])
    # The page redraws once the store has the file: up to 10 s on a loaded machine.
    await user.should_see(marker="content-file-name", retries=100)
    assert list(content_store.files().values()) == [PDF]
    with read_only() as session:
        item = session.scalars(
            select(ContentItem).where(owned(ContentItem, workspace.workspace_id))
        ).one()
        assert (item.file_name, item.file_size) == ("白皮书.pdf", len(PDF))
