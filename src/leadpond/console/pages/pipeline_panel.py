"""The pipeline's state for the workspace: events waiting, and events set aside (quarantined)
with the stage that failed and its error; marketers can let them through again."""

from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import Visit, notify_error, when
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.pipeline import quarantine, worker
from leadpond.users.permissions import PIPELINE_WRITE

SHOWN = 10

PipelineView = tuple[worker.PipelineStatus, list[quarantine.QuarantinedEvent]]


def pipeline_panel(v: Visit, session: Session) -> None:
    """A line of counts; when some events are quarantined, the newest of them and a retry."""
    _ = v._

    def read(reading: Session) -> PipelineView:
        # The counts are read by the worker module in a transaction of its own.
        status = worker.status(v.actor.workspace_id)
        found = (
            quarantine.listed(reading, v.actor.workspace_id, SHOWN)
            if status.quarantined_events
            else []
        )
        return status, found

    @ui.refreshable
    def panel(shown: PipelineView) -> None:
        status, found = shown
        with ui.row().classes("items-center gap-4 text-sm"):
            ui.label(
                _("Pipeline: {pending} events waiting, {quarantined} quarantined").format(
                    pending=f"{status.pending_events:,}",
                    quarantined=f"{status.quarantined_events:,}",
                )
            ).mark("pipeline-status")
            if status.quarantined_events and v.may(PIPELINE_WRITE):
                ui.button(_("Process quarantined events again"), on_click=retry).props(
                    "flat dense"
                ).mark("retry-quarantined")
        if not status.quarantined_events:
            return
        with ui.expansion(_("Quarantined events")).classes("w-full text-sm"):
            for q in found:
                error = (q.failed_error or "").strip().splitlines()
                ui.label(
                    f"#{q.id} {q.event or q.type} · {when(q.failed_at, v.zone)} · "
                    f"{q.failed_stage} · "
                    f"{error[-1] if error else ''}"
                ).classes("text-negative").mark("quarantined-event")

    def retry() -> None:
        try:
            with unit_of_work() as writing:
                actor = v.authorised(writing, PIPELINE_WRITE)
                count = quarantine.retry_failed(writing, actor.workspace_id)
        except LeadpondError as exc:
            notify_error(exc)
            return
        ui.notify(_("{count} events queued again").format(count=count), type="positive")
        with read_only() as reading:
            panel.refresh(read(reading))

    panel(read(session))
