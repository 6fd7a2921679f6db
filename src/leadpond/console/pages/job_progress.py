"""Following a background job on a page: its state and progress, polled until it finishes."""

from typing import Any

from nicegui import ui

from leadpond.console.pages.frame import Visit
from leadpond.db.engine import read_only
from leadpond.jobs.models import Job, JobState
from leadpond.jobs.service import get_job

POLL_S = 1.0


def follow_replay(v: Visit, job_id: int) -> None:
    """A line that tracks a history replay job: queued, people done of total, then the report
    (or the error) once the job finishes."""
    _ = v._
    label = ui.label(_("History replay queued (job {id})…").format(id=job_id))
    label.classes("text-gray-700 lp-job").mark("job-progress")

    def describe(job: Job) -> tuple[str, bool]:
        result: dict[str, Any] = job.result or {}
        if job.state == JobState.SUCCEEDED:
            return _("{people} people replayed").format(people=result.get("people", 0)), True
        if job.state == JobState.FAILED:
            error = (job.last_error or "").strip().splitlines()
            return _("The history replay failed: {error}").format(
                error=error[-1] if error else ""
            ), True
        if job.state == JobState.CANCELLED:
            return _("The history replay was cancelled."), True
        if job.progress_total:
            return _("Replaying history: {done} of {total} people").format(
                done=f"{job.progress_done or 0:,}", total=f"{job.progress_total:,}"
            ), False
        return _("History replay queued (job {id})…").format(id=job_id), False

    def poll() -> None:
        with read_only() as session:
            text, finished = describe(get_job(session, v.actor.workspace_id, job_id))
        label.set_text(text)
        if finished:
            timer.deactivate()

    timer = ui.timer(POLL_S, poll)
