"""The worker loop: claim a batch of pending events, run every stage, mark them processed.

A batch is one transaction. The stages and the "processed" mark commit together, so a worker
killed at any instant either committed the whole batch or nothing of it: nothing is lost and
nothing is applied twice.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, Uuid, bindparam, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

import leadpond.db.models  # noqa: F401  (every mapper known before the first batch)
from leadpond.accounts.service import link_batch
from leadpond.config import get_settings
from leadpond.db.claim import claim_ids
from leadpond.db.engine import is_postgres, read_only, unit_of_work
from leadpond.identity.service import resolve_batch
from leadpond.identity.suggestions import suggest_batch
from leadpond.ingest.models import DERIVED_ONLY, Event
from leadpond.kit.clock import utcnow
from leadpond.pipeline.batch import EVENT_COLUMNS, Batch, PipelineEvent
from leadpond.pipeline.sweep import sweep_idle_stages
from leadpond.profiles.service import apply_batch
from leadpond.reports.rollups import count_processed, processed_events
from leadpond.rules.service import apply_batch as apply_rules
from leadpond.rules.sweep import hold_watermarks
from leadpond.segments.incremental import segment_batch
from leadpond.segments.scheduler import refresh_due

log = logging.getLogger(__name__)

Stage = Callable[[Batch], None]

# The order is the data flow: who is this about, then what it changes on them.
STAGES: list[Stage] = [
    hold_watermarks,
    resolve_batch,
    apply_batch,
    link_batch,
    suggest_batch,
    apply_rules,
    segment_batch,
]
_event_table = cast(Table, Event.__table__)
# A Core executemany: the ORM's bulk update by primary key costs more than the statement.
_MARK_PROCESSED = update(_event_table).where(_event_table.c.id == bindparam("event_id"))

# How often the loop looks for what time alone changes: idle stages, segments with windows.
# It looks when the backlog is drained (as `pipeline drain` does), so people whose events are
# still pending are not moved to an idle stage that their next batch would undo with a replay;
# under a backlog that never drains, it looks at most this much later anyway.
TIME_CHECK_S = 60.0
TIME_CHECK_MAX_S = 900.0


def process_batch(batch_size: int | None = None, url: str | None = None) -> int:
    """Claim and fully process one batch; returns how many events it held (0 = nothing pending)."""
    size = batch_size or get_settings().pipeline_batch_size
    # Everything a batch writes is derived from the durably committed log (see get_engine).
    with unit_of_work(url, derived=True) as session:
        ids = claim_ids(session, Event.id, Event.processed_at.is_(None), size)
        if not ids:
            return 0
        rows = session.execute(select(*EVENT_COLUMNS).where(Event.id.in_(ids)).order_by(Event.id))
        batch = Batch(session=session, events=[PipelineEvent(*row) for row in rows], now=utcnow())
        for stage in STAGES:
            stage(batch)
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
        return len(batch.events)


def drain(
    batch_size: int | None = None,
    url: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Process everything pending now, then what time alone changed (idle stages); returns
    how many events were processed. ``progress(n)`` hears of each batch's ``n`` events."""
    total = 0
    while True:
        done = _process_with_retry(batch_size, url)
        if done == 0:
            sweep_idle_stages(url)
            return total
        total += done
        if progress is not None:
            progress(done)


def _process_with_retry(batch_size: int | None, url: str | None, attempts: int = 5) -> int:
    """Concurrent workers can race on a new identifier; the loser's batch rolls back and retries."""
    for attempt in range(attempts):
        try:
            return process_batch(batch_size, url)
        except (IntegrityError, DBAPIError) as exc:
            if attempt == attempts - 1:
                raise
            log.warning("batch rolled back (%s); retrying", type(exc).__name__)
            time.sleep(0.05 * (attempt + 1))
    return 0


@dataclass
class PipelineStatus:
    pending_events: int
    # Events received (API, imports) and processed; what leadpond derived is counted apart.
    processed_events: int
    oldest_pending_age_s: float
    derived_events: int = 0


def status(workspace_id: uuid.UUID | None = None, url: str | None = None) -> PipelineStatus:
    """Backlog size and age, for one workspace or all.

    Nothing here counts the event log: pending events through the partial index of the
    pending, derived ones through the partial index of the derived, processed ones from the
    per-day rollup the pipeline keeps (a count of a million-event log took minutes).
    """
    scope = [] if workspace_id is None else [Event.workspace_id == workspace_id]
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
            select(func.count(), func.min(Event.received_at)).where(
                Event.processed_at.is_(None), *pending_scope
            )
        ).one()
        derived = session.scalar(
            select(func.count()).select_from(Event).where(DERIVED_ONLY, *scope)
        )
        processed = processed_events(session, workspace_id)
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return PipelineStatus(int(pending or 0), processed, round(max(age, 0.0), 3), int(derived or 0))


class Worker:
    """Runs batches until stopped; sleeps briefly when there is nothing to do."""

    def __init__(self, batch_size: int | None = None, url: str | None = None) -> None:
        self.batch_size = batch_size
        self.url = url
        self._stop = threading.Event()

    def run(self) -> None:
        idle = get_settings().pipeline_idle_sleep_s
        log.info("pipeline worker started")
        next_refresh = 0.0
        overdue = time.monotonic() + TIME_CHECK_MAX_S
        while not self._stop.is_set():
            try:
                done = _process_with_retry(self.batch_size, self.url)
                clock = time.monotonic()
                if (done == 0 and clock >= next_refresh) or clock >= overdue:
                    next_refresh, overdue = clock + TIME_CHECK_S, clock + TIME_CHECK_MAX_S
                    sweep_idle_stages(self.url)
                    refresh_due(self.url)
            except Exception:
                log.exception("pipeline batch failed; retrying after a pause")
                done = 0
                self._stop.wait(1.0)
            if done == 0:
                self._stop.wait(idle)

    def stop(self) -> None:
        self._stop.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="leadpond-worker", daemon=True)
        thread.start()
        return thread
