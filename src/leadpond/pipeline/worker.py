"""The worker loop: claim a batch of pending events, run every stage, mark them processed.

A batch is one transaction. The stages and the "processed" mark commit together, so a worker
killed at any instant either committed the whole batch or nothing of it: nothing is lost and
nothing is applied twice.
"""

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, Uuid, and_, bindparam, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from leadpond.channels.deliverer import Deliverer
from leadpond.config import get_settings
from leadpond.db.claim import claim_ids
from leadpond.db.engine import is_postgres, read_only, unit_of_work
from leadpond.db.wakeup import EVENTS, PostgresListener
from leadpond.flow.batch import EVENT_COLUMNS, Batch, PipelineEvent
from leadpond.ingest.models import DERIVED_ONLY, Event
from leadpond.jobs.runner import JobRunner
from leadpond.journeys.runner import JourneyRunner
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.pipeline import quarantine
from leadpond.pipeline.sweep import sweep_idle_stages
from leadpond.reports.rollups import count_processed, processed_events
from leadpond.reports.tallies import fold_committed
from leadpond.segments.scheduler import refresh_due
from leadpond.wiring import STAGES, Stage

log = logging.getLogger(__name__)

_event_table = cast(Table, Event.__table__)
# A Core executemany: the ORM's bulk update by primary key costs more than the statement.
_MARK_PROCESSED = update(_event_table).where(_event_table.c.id == bindparam("event_id"))
# Waiting for the pipeline: neither processed nor quarantined (the partial index ix_event_pending).
PENDING = and_(Event.processed_at.is_(None), Event.failed_at.is_(None))

# How often the loop looks for what time alone changes: idle stages, segments with windows.
# It looks when the backlog is drained (as `pipeline drain` does), so people whose events are
# still pending are not moved to an idle stage that their next batch would undo with a replay;
# under a backlog that never drains, it looks at most this much later anyway.
TIME_CHECK_S = 60.0
TIME_CHECK_MAX_S = 900.0


class BatchFailed(Exception):
    """A batch's transaction rolled back: which events it held, and which stage raised what."""

    def __init__(self, ids: list[int], stage: str, error: BaseException) -> None:
        super().__init__(f"{stage}: {type(error).__name__}: {error}")
        self.ids = ids
        self.stage = stage
        self.error = error


def _stage_name(stage: Stage) -> str:
    return f"{stage.__module__.removeprefix('leadpond.')}.{stage.__name__}"


def _process_claimed(batch_size: int, url: str | None, among: list[int] | None = None) -> int:
    """Claim up to ``batch_size`` pending events (only ``among`` these, when given) and process
    them in one transaction; raises :class:`BatchFailed` when anything after the claim fails."""
    pending: Any = PENDING
    if among is not None:
        pending = and_(PENDING, Event.id.in_(among))
    ids: list[int] = []
    stage_name = "load"
    try:
        # Everything a batch writes is derived from the durably committed log (see get_engine).
        with unit_of_work(url, derived=True) as session:
            ids = claim_ids(session, Event.id, pending, batch_size)
            if not ids:
                return 0
            rows = session.execute(
                select(*EVENT_COLUMNS).where(Event.id.in_(ids)).order_by(Event.id)
            )
            events = [PipelineEvent(*row) for row in rows]
            batch = Batch(session=session, events=events, now=utcnow())
            for stage in STAGES:
                stage_name = _stage_name(stage)
                stage(batch)
            stage_name = "mark_processed"
            _mark_processed(session, batch)
            stage_name = "commit"
    except Exception as exc:
        if not ids:  # the claim itself failed: not the events' doing
            raise
        raise BatchFailed(ids, stage_name, exc) from exc
    return len(ids)


def _mark_processed(session: Session, batch: Batch) -> None:
    session.execute(
        _MARK_PROCESSED,
        [
            {
                "event_id": e.id,
                "person_id": e.person_id,
                "origin_person_id": e.origin_person_id,
                "processed_at": batch.now,
            }
            for e in batch.events
        ],
    )
    count_processed(session, ((e.workspace_id, e.timestamp) for e in batch.events))


def process_batch(batch_size: int | None = None, url: str | None = None) -> int:
    """Claim and fully process one batch; returns how many events it held (0 = nothing pending).

    A batch that fails is bisected (see :func:`_bisect`): the events that fail alone are
    quarantined and the others are processed, so no event can stop the pipeline.
    """
    size = batch_size or get_settings().pipeline_batch_size
    try:
        handled = _process_with_retry(size, url)
    except BatchFailed as failed:
        handled = _bisect(failed, url)
    if handled:
        fold_committed(url)  # the tally slots of committed batches (PostgreSQL), now and then
    return handled


def _bisect(failed: BatchFailed, url: str | None) -> int:
    """Process the failed batch's halves in their own transactions, in id order, splitting
    again whatever fails, until single events remain: those are quarantined with their stage
    and error. Returns how many events were processed or quarantined."""
    if len(failed.ids) == 1:
        _quarantine(failed, url)
        return 1
    middle = len(failed.ids) // 2
    handled = 0
    for half in (failed.ids[:middle], failed.ids[middle:]):
        try:
            handled += _process_with_retry(len(half), url, half)
        except BatchFailed as again:
            handled += _bisect(again, url)
    return handled


def _quarantine(failed: BatchFailed, url: str | None) -> None:
    error = "".join(traceback.format_exception(failed.error, limit=-6))
    with unit_of_work(url) as session:
        if quarantine.set_aside(session, failed.ids[0], failed.stage, error):
            log.error(
                "event %s quarantined: %s failed with %s: %s",
                failed.ids[0],
                failed.stage,
                type(failed.error).__name__,
                failed.error,
            )


def drain(
    batch_size: int | None = None,
    url: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Process everything pending now, then what time alone changed (idle stages); returns
    how many events were processed (or quarantined). ``progress(n)`` hears of each batch's
    ``n`` events."""
    total = 0
    while True:
        done = process_batch(batch_size, url)
        if done == 0:
            sweep_idle_stages(url)
            return total
        total += done
        if progress is not None:
            progress(done)


# Concurrent workers can race on a new identifier: the loser's batch rolls back and retries.
_RACES = (IntegrityError, DBAPIError)


def _process_with_retry(
    batch_size: int, url: str | None, among: list[int] | None = None, attempts: int = 5
) -> int:
    """Retry a batch that lost a race; any other failure (or a race lost ``attempts`` times)
    raises :class:`BatchFailed`."""
    for attempt in range(attempts):
        try:
            return _process_claimed(batch_size, url, among)
        except BatchFailed as failed:
            if not isinstance(failed.error, _RACES) or attempt == attempts - 1:
                raise
            log.warning("batch rolled back (%s); retrying", type(failed.error).__name__)
        except _RACES as exc:  # while claiming
            if attempt == attempts - 1:
                raise
            log.warning("claim rolled back (%s); retrying", type(exc).__name__)
        time.sleep(0.05 * (attempt + 1))
    return 0


@dataclass
class PipelineStatus:
    pending_events: int
    # Events received (API, imports) and processed; what leadpond derived is counted apart.
    processed_events: int
    oldest_pending_age_s: float
    derived_events: int = 0
    # Set aside by the quarantine (``leadpond pipeline retry-failed`` reprocesses them).
    quarantined_events: int = 0
    quarantined_by_workspace: dict[str, int] = field(default_factory=dict)


def status(workspace_id: uuid.UUID | None = None, url: str | None = None) -> PipelineStatus:
    """Backlog size and age, for one workspace or all.

    Nothing here counts the event log: pending events through the partial index of the
    pending, derived ones through the partial index of the derived, processed ones from the
    per-day rollup the pipeline keeps (a count of a million-event log took minutes).
    """
    scope = [] if workspace_id is None else [owned(Event, workspace_id)]
    with read_only(url) as session:
        # With the workspace as an index term, SQLite walks that workspace's events (17 s at
        # 7.7M); a unary + keeps it to the partial index of the pending.
        pending_scope: list[Any] = list(scope)
        if workspace_id is not None and not is_postgres(session):
            pending_scope = [
                text("+event.workspace_id = :pending_ws").bindparams(
                    bindparam("pending_ws", workspace_id, type_=Uuid)
                )
            ]
        pending, oldest = session.execute(
            select(func.count(), func.min(Event.received_at)).where(PENDING, *pending_scope)
        ).one()
        derived = session.scalar(
            select(func.count()).select_from(Event).where(DERIVED_ONLY, *scope)
        )
        processed = processed_events(session, workspace_id)
        set_aside = quarantine.counts(session, workspace_id)
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return PipelineStatus(
        int(pending or 0),
        processed,
        round(max(age, 0.0), 3),
        int(derived or 0),
        quarantined_events=sum(set_aside.values()),
        quarantined_by_workspace={str(ws): n for ws, n in sorted(set_aside.items())},
    )


class Worker:
    """Runs batches until stopped; when there is nothing to do, waits for the next poll or for
    a commit of new events to ring :data:`~leadpond.db.wakeup.EVENTS`, whichever comes first.

    Beside the event loop it runs a :class:`~leadpond.jobs.runner.JobRunner` in a thread of its
    own (``with_jobs``), so a long backfill never holds up the events, and the channels'
    :class:`~leadpond.channels.deliverer.Deliverer` in another (``with_channels``), so a slow
    SMTP relay holds up neither.
    """

    def __init__(
        self,
        batch_size: int | None = None,
        url: str | None = None,
        *,
        with_jobs: bool = True,
        with_channels: bool = True,
        time_check_s: float = TIME_CHECK_S,
    ) -> None:
        self.batch_size = batch_size
        self.url = url
        self.time_check_s = time_check_s
        self._stop = threading.Event()
        self.jobs = JobRunner(url) if with_jobs else None
        self.deliverer = Deliverer(url) if with_channels else None
        # Journeys' due steps write to the outbox: they run where the deliverer runs.
        self.journeys = JourneyRunner(url) if with_channels else None
        # When the loop last looked at what time alone changes (idle stages, windows).
        self.time_checked_at: datetime | None = None
        # On PostgreSQL, rows committed by other processes (API servers) wake this one's loops.
        database_url = url or get_settings().database_url
        self.listener = (
            PostgresListener(database_url)
            if make_url(database_url).get_backend_name() == "postgresql"
            else None
        )

    def run(self) -> None:
        listener_thread = self.listener.start_thread() if self.listener is not None else None
        jobs_thread = self.jobs.start_thread() if self.jobs is not None else None
        deliverer_thread = self.deliverer.start_thread() if self.deliverer is not None else None
        journeys_thread = self.journeys.start_thread() if self.journeys is not None else None
        try:
            self._run_events()
        finally:
            if self.jobs is not None and jobs_thread is not None:
                self.jobs.stop()
                jobs_thread.join(timeout=30)
            if self.deliverer is not None and deliverer_thread is not None:
                self.deliverer.stop()
                deliverer_thread.join(timeout=30)
            if self.journeys is not None and journeys_thread is not None:
                self.journeys.stop()
                journeys_thread.join(timeout=30)
            if self.listener is not None and listener_thread is not None:
                self.listener.stop()
                listener_thread.join(timeout=30)

    def _run_events(self) -> None:
        idle = get_settings().pipeline_idle_sleep_s
        log.info("pipeline worker started")
        next_refresh = 0.0
        overdue = time.monotonic() + TIME_CHECK_MAX_S
        while not self._stop.is_set():
            # Taken before the claim: an event committed after it rings past the mark.
            mark = EVENTS.mark()
            try:
                done = process_batch(self.batch_size, self.url)
                clock = time.monotonic()
                if (done == 0 and clock >= next_refresh) or clock >= overdue:
                    next_refresh, overdue = clock + self.time_check_s, clock + TIME_CHECK_MAX_S
                    checked_at = utcnow()
                    sweep_idle_stages(self.url, checked_at)
                    refresh_due(self.url)
                    self.time_checked_at = checked_at
            except Exception:
                log.exception("pipeline batch failed; retrying after a pause")
                done = 0
                self._stop.wait(1.0)
            if done == 0:
                EVENTS.wait(mark, idle)  # ingest rings it after its commit (db/wakeup.py)

    def stop(self) -> None:
        self._stop.set()
        if self.listener is not None:
            self.listener.stop()
        EVENTS.ring()  # ends the loop's wait between polls
        if self.jobs is not None:
            self.jobs.stop()
        if self.deliverer is not None:
            self.deliverer.stop()
        if self.journeys is not None:
            self.journeys.stop()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="leadpond-worker", daemon=True)
        thread.start()
        return thread
