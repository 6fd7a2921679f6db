"""The job runner: claims due jobs one at a time under a lease, runs their handler, records the
outcome (result, retry with backoff, or the dead letter with the error).

The claim is its own short transaction (``db.claim``: SKIP LOCKED on PostgreSQL, the single
writer on SQLite); the handler then works in its own transactions. A runner killed mid-job
leaves the job ``running`` with a lease that lapses; the next claim takes it for another attempt.
"""

import logging
import os
import socket
import threading
import traceback
import uuid
from datetime import timedelta

from sqlalchemy import and_, or_, update

from leadpond.config import get_settings
from leadpond.db.claim import claim_ids
from leadpond.db.engine import unit_of_work
from leadpond.db.wakeup import JOBS
from leadpond.jobs.models import Job, JobState
from leadpond.jobs.registry import JobContext, JobStopped, kind_of
from leadpond.kit.clock import utcnow

log = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 4000
BACKOFF_CAP_S = 3600.0


def backoff_s(attempts: int) -> float:
    """The wait after the ``attempts``-th failed attempt: the base, doubled each time, capped."""
    wait = get_settings().jobs_backoff_s * 2.0 ** max(attempts - 1, 0)
    return float(min(wait, BACKOFF_CAP_S))


def _error_text(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc, limit=-8))
    return text[-ERROR_MAX_LENGTH:]


class JobRunner:
    """Runs due jobs until stopped (a thread of ``leadpond serve`` and ``leadpond worker``)."""

    def __init__(self, url: str | None = None, *, lease_s: float | None = None) -> None:
        self.url = url
        self.lease_s = lease_s if lease_s is not None else get_settings().jobs_lease_s
        self.name = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()

    def claim(self) -> JobContext | None:
        """Take the oldest due job (queued and due, or running with a lapsed lease)."""
        now = utcnow()
        due = or_(
            and_(Job.state == JobState.QUEUED.value, Job.run_at <= now),
            and_(Job.state == JobState.RUNNING.value, Job.locked_until < now),
        )
        with unit_of_work(self.url) as session:
            while True:
                ids = claim_ids(session, Job.id, due, 1)
                if not ids:
                    return None
                job = session.get_one(Job, ids[0])
                if job.attempts < job.max_attempts:
                    break
                # Its last attempt died with its runner: a dead letter, not another attempt.
                job.state = JobState.FAILED.value
                job.finished_at = now
                job.locked_by = job.locked_until = None
                job.last_error = (
                    f"the runner of attempt {job.attempts} stopped without an outcome "
                    f"(lease expired); {job.last_error or ''}"
                )[:ERROR_MAX_LENGTH]
                session.flush()
            job.state = JobState.RUNNING.value
            job.attempts += 1
            job.locked_by = self.name
            job.locked_until = now + timedelta(seconds=self.lease_s)
            job.started_at = job.started_at or now
            return JobContext(
                job_id=job.id,
                kind=job.kind,
                workspace_id=job.workspace_id,
                payload=dict(job.payload),
                attempt=job.attempts,
                runner=self.name,
                lease_s=self.lease_s,
                url=self.url,
                stopping=self._stop,
            )

    def run_one(self) -> bool:
        """Claim and run one job; False when none is due."""
        ctx = self.claim()
        if ctx is None:
            return False
        self.execute(ctx)
        return True

    def execute(self, ctx: JobContext) -> None:
        """Run a claimed job's handler and record what came of it."""
        kind = kind_of(ctx.kind)
        if kind is None:
            self._finish(ctx, error=f"no handler for job kind {ctx.kind!r}", permanent=True)
            return
        log.info("job %s (%s) attempt %s started", ctx.job_id, ctx.kind, ctx.attempt)
        try:
            result = kind.handler(ctx)
        except JobStopped:
            log.info("job %s stopped: cancelled or taken over", ctx.job_id)
            return
        except Exception as exc:
            log.exception("job %s (%s) attempt %s failed", ctx.job_id, ctx.kind, ctx.attempt)
            self._finish(ctx, error=_error_text(exc))
            return
        self._finish(ctx, result=result or {})

    def _finish(
        self,
        ctx: JobContext,
        *,
        result: dict[str, object] | None = None,
        error: str | None = None,
        permanent: bool = False,
    ) -> None:
        now = utcnow()
        values: dict[str, object] = {"locked_by": None, "locked_until": None}
        if error is None:
            values.update(state=JobState.SUCCEEDED.value, result=result, finished_at=now)
        else:
            values["last_error"] = error[-ERROR_MAX_LENGTH:]
        with unit_of_work(self.url) as session:
            job = session.get(Job, ctx.job_id)
            # Cancelled meanwhile, or retaken after our lease lapsed: that outcome stands.
            if job is None or job.state != JobState.RUNNING.value or job.locked_by != self.name:
                return
            if error is not None:
                if permanent or job.attempts >= job.max_attempts:
                    values.update(state=JobState.FAILED.value, finished_at=now)
                else:
                    wait = timedelta(seconds=backoff_s(job.attempts))
                    values.update(state=JobState.QUEUED.value, run_at=now + wait)
            session.execute(update(Job).where(Job.id == job.id).values(**values))

    def run_pending(self) -> int:
        """Run every job due now, then return how many ran (tests, ``leadpond jobs run``)."""
        ran = 0
        while self.run_one():
            ran += 1
        return ran

    def run(self) -> None:
        """Run jobs until :meth:`stop`; a failure of the runner itself pauses it briefly."""
        idle = get_settings().jobs_idle_sleep_s
        log.info("job runner %s started", self.name)
        while not self._stop.is_set():
            # Taken before the claim: a job queued after it rings past the mark.
            mark = JOBS.mark()
            try:
                ran = self.run_one()
            except Exception:
                log.exception("job runner failed; retrying after a pause")
                ran = False
                self._stop.wait(1.0)
            if not ran:
                JOBS.wait(mark, idle)  # a queued job rings it (db/wakeup.py)

    def stop(self) -> None:
        self._stop.set()
        JOBS.ring()  # ends its wait between polls

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="leadpond-jobs", daemon=True)
        thread.start()
        return thread
