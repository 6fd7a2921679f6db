"""The pipeline's state for the workspace: events waiting, and events set aside (quarantined)
with the stage that failed and its error; marketers can let them through again."""

from nicegui import ui

from leadpond.console.pages.frame import Visit, when
from leadpond.db.engine import read_only, unit_of_work
from leadpond.pipeline import quarantine, worker
from leadpond.users.service import Role

SHOWN = 10


def pipeline_panel(v: Visit) -> None:
    """A line of counts; when some events are quarantined, the newest of them and a retry."""
    _ = v._

    @ui.refreshable
    def panel() -> None:
        s = worker.status(v.actor.workspace_id)
        with ui.row().classes("items-center gap-4 text-sm"):
            ui.label(
                _("Pipeline: {pending} events waiting, {quarantined} quarantined").format(
                    pending=f"{s.pending_events:,}", quarantined=f"{s.quarantined_events:,}"
                )
            ).mark("pipeline-status")
            if s.quarantined_events and v.can(Role.MARKETER):
                ui.button(_("Process quarantined events again"), on_click=retry).props(
                    "flat dense"
                ).mark("retry-quarantined")
        if not s.quarantined_events:
            return
        with read_only() as session:
            found = quarantine.listed(session, v.actor.workspace_id, SHOWN)
        with ui.expansion(_("Quarantined events")).classes("w-full text-sm"):
            for q in found:
                error = (q.failed_error or "").strip().splitlines()
                ui.label(
                    f"#{q.id} {q.event or q.type} · {when(q.failed_at)} · {q.failed_stage} · "
                    f"{error[-1] if error else ''}"
                ).classes("text-negative").mark("quarantined-event")

    def retry() -> None:
        actor = v.still_valid()
        if not actor.role.allows(Role.MARKETER):
            return
        with unit_of_work() as session:
            count = quarantine.retry_failed(session, actor.workspace_id)
        ui.notify(_("{count} events queued again").format(count=count), type="positive")
        panel.refresh()

    panel()
