"""Running due journey steps: ``leadpond journey run-due`` once, and the worker's thread every
few seconds — the same code, so a test that passes ``--now`` runs what production runs."""

import logging
import threading
import uuid
from datetime import datetime

from leadpond.db.engine import unit_of_work
from leadpond.journeys.engine import PYTHON_BATCH, RUN_BATCH, RunReport, add_up, run_due_batch
from leadpond.journeys.schedules import fire_schedules
from leadpond.kit.clock import utcnow

log = logging.getLogger(__name__)

# How often the worker looks for due steps: a "wait 1 day" ends within this of its time.
TICK_S = 5.0


def run_due(
    workspace_id: uuid.UUID | None = None,
    now: datetime | None = None,
    *,
    url: str | None = None,
    limit: int = RUN_BATCH,
    python_limit: int = PYTHON_BATCH,
) -> RunReport:
    """Fire the schedule triggers due at ``now`` (default: the clock), then advance every step
    due — the new enrollments first — ``limit`` enrollments per transaction (of which at most
    ``python_limit`` run Python steps), until none is due; a kill between transactions
    loses nothing (the rest is still due) and a kill inside one undoes only that batch."""
    moment = now or utcnow()
    total = RunReport()
    with unit_of_work(url) as session:
        fired = fire_schedules(session, workspace_id, moment)
    total.scheduled = len(fired)
    # The people schedules just enrolled: their first steps, a batch of ids at a time.
    for start in range(0, len(fired), limit):
        batch = fired[start : start + limit]
        with unit_of_work(url) as session:
            within = (batch[0], batch[-1])
            add_up(total, run_due_batch(session, workspace_id, moment, limit, within, python_limit))
    while True:
        with unit_of_work(url) as session:
            done = run_due_batch(session, workspace_id, moment, limit, python_limit=python_limit)
        if not done.batches:
            return total
        add_up(total, done)


class JourneyRunner:
    """The worker's loop over :func:`run_due`, in a thread beside the deliverer."""

    def __init__(self, url: str | None = None, tick_s: float = TICK_S) -> None:
        self.url = url
        self.tick_s = tick_s
        self._stop = threading.Event()

    def run(self) -> None:
        log.info("journey runner started")
        while not self._stop.is_set():
            try:
                run_due(url=self.url)
            except Exception:
                log.exception("journey steps failed; retrying after a pause")
            self._stop.wait(self.tick_s)

    def stop(self) -> None:
        self._stop.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="leadpond-journeys", daemon=True)
        thread.start()
        return thread
