"""The playbook's versions: when and by whom each was applied, a unified diff of any version
against the one before, and "roll back to this version" — that version's YAML applied as a new
version, validated and stored exactly as the playbook page saves it."""

import difflib
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import Visit, header, notify_error, visit, when
from leadpond.console.pages.job_progress import follow_replay
from leadpond.console.pages.words import actor_words
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError, NotFound
from leadpond.kit.scope import owned
from leadpond.playbooks import service as playbooks
from leadpond.playbooks.tasks import enqueue_replay
from leadpond.rules.models import PlaybookVersion
from leadpond.users.permissions import PLAYBOOKS_WRITE


def versions(session: Session, workspace_id: uuid.UUID) -> list[PlaybookVersion]:
    """The workspace's playbook versions, newest first."""
    return list(
        session.scalars(
            select(PlaybookVersion)
            .where(owned(PlaybookVersion, workspace_id))
            .order_by(PlaybookVersion.version.desc())
        )
    )


def version_source(session: Session, workspace_id: uuid.UUID, version: int) -> str:
    """The YAML of one version ("" for version 0, the empty playbook before the first)."""
    if version == 0:
        return ""
    found = session.scalar(
        select(PlaybookVersion.source).where(
            owned(PlaybookVersion, workspace_id), PlaybookVersion.version == version
        )
    )
    if found is None:
        raise NotFound(f"playbook version {version} not found")
    return found


def unified_diff(before: str, after: str, old: int, new: int) -> str:
    """The lines changed from ``before`` (version ``old``) to ``after`` (version ``new``)."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"v{old}",
            tofile=f"v{new}",
        )
    )


def playbook_history_page(request: Request) -> RedirectResponse | None:
    """Every applied version; pick one to see its diff and roll back to it."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Playbook history"), session)
        found = versions(session, v.actor.workspace_id)
    ui.link(_("Back to the playbook"), "/playbook").mark("back-to-playbook")
    if not found:
        ui.label(_("No playbook has been applied yet.")).mark("no-versions")
        return None
    History(v, found)
    return None


class History:
    """The versions table, the diff of the chosen version, and its rollback."""

    def __init__(self, v: Visit, found: list[PlaybookVersion]) -> None:
        self.v = v
        _ = v._
        self.newest = found[0].version
        rows: list[dict[str, Any]] = [
            {
                "version": f.version,
                "at": when(f.applied_at, v.zone),
                "by": actor_words(_, f.applied_by),
                "current": _("current") if f.version == self.newest else "",
            }
            for f in found
        ]
        columns = [
            {"name": k, "label": label, "field": k, "align": "left"}
            for k, label in (
                ("version", _("Version")),
                ("at", _("Applied")),
                ("by", _("By")),
                ("current", ""),
            )
        ]
        table = ui.table(columns=columns, rows=rows, row_key="version", selection="single")
        table.props("flat bordered dense").classes("w-full max-w-3xl lp-versions").mark("versions")
        table.on_select(
            lambda e: self.show(int(e.selection[0]["version"])) if e.selection else None
        )
        self.title = ui.label().classes("text-lg font-semibold lp-diff-title").mark("diff-title")
        self.diff = ui.code("", language="diff").classes("w-full lp-diff").mark("diff")
        self.actions = ui.row().classes("items-center gap-2")
        self.result = ui.column()
        self.show(self.newest)

    def show(self, version: int) -> None:
        _ = self.v._
        try:
            with read_only() as session:
                ws = self.v.actor.workspace_id
                after = version_source(session, ws, version)
                before = version_source(session, ws, version - 1)
        except LeadpondError as exc:
            notify_error(exc)
            return
        self.title.text = _("Changes in version {version} (against version {before})").format(
            version=version, before=version - 1
        )
        self.diff.set_content(unified_diff(before, after, version - 1, version) or _("No changes."))
        self.actions.clear()
        if not self.v.may(PLAYBOOKS_WRITE) or version == self.newest:
            return
        with self.actions:
            replay = ui.checkbox(_("Replay history after the rollback")).mark("rollback-replay")
            ui.button(
                _("Roll back to version {version}").format(version=version),
                icon="history",
                on_click=lambda: self.roll_back(version, bool(replay.value)),
            ).mark("roll-back")

    def roll_back(self, version: int, replay: bool) -> None:
        """Apply the version's YAML as the newest version, as the playbook page saves."""
        _ = self.v._
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, PLAYBOOKS_WRITE)
                source = version_source(session, actor.workspace_id, version)
                result = playbooks.apply_playbook(
                    session, actor.workspace_id, source, actor=f"session:{actor.email}"
                )
                job = enqueue_replay(session, actor.workspace_id) if replay else None
        except LeadpondError as exc:
            notify_error(exc)
            return
        message = _("Version {old} applied again as version {version}").format(
            old=version, version=result.version
        )
        ui.notify(message, type="positive")
        self.result.clear()
        with self.result:
            ui.label(message).classes("text-positive lp-rolled-back").mark("rolled-back")
            ui.link(_("Show the new history"), "/playbook/history")
            if job is not None:
                follow_replay(self.v, job.id)
