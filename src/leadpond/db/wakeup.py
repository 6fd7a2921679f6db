"""Wake-ups: rows that a loop claims (events, outbox messages, jobs) were committed, so the loop
looks now rather than at its next poll.

In one process (``leadpond serve`` with its worker) the transaction that wrote the rows rings a
:class:`Doorbell` once it has committed. Across processes on PostgreSQL the same transaction also
sends a ``NOTIFY`` (which PostgreSQL delivers only if it commits), and a worker's
:class:`PostgresListener` rings its own process's doorbell for it. Between SQLite processes there
is no such signal; there, and for any ring missed, the loops' short poll is the fallback.
"""

import logging
import threading

import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres

log = logging.getLogger(__name__)

# session.info key: the doorbells to ring when the session's transaction commits.
_PENDING = "leadpond_wakeups"


class Doorbell:
    """Rung when rows of one kind were committed; a loop waits on it between polls.

    The loop takes :meth:`mark` *before* it looks for rows, and waits with that mark: a ring
    between the look and the wait is not missed, the wait returns at once.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.channel = f"leadpond_{name}"  # the PostgreSQL NOTIFY channel
        self._rings = 0
        self._condition = threading.Condition()

    def mark(self) -> int:
        """How many times it has rung so far."""
        with self._condition:
            return self._rings

    def ring(self) -> None:
        """Wake every loop waiting on it."""
        with self._condition:
            self._rings += 1
            self._condition.notify_all()

    def wait(self, mark: int, timeout: float) -> bool:
        """Sleep until it rings after ``mark`` or ``timeout`` seconds pass; True when it rang."""
        with self._condition:
            return self._condition.wait_for(lambda: self._rings != mark, timeout)


EVENTS = Doorbell("events")  # the event log: the pipeline worker
OUTBOX = Doorbell("outbox")  # queued messages: the deliverer
JOBS = Doorbell("jobs")  # queued jobs: the job runner
DOORBELLS = {bell.channel: bell for bell in (EVENTS, OUTBOX, JOBS)}


def ring_after_commit(session: Session, bell: Doorbell) -> None:
    """Ring ``bell`` when the session's transaction commits, never if it rolls back (once per
    transaction however often it is asked); on PostgreSQL, other processes' too."""
    pending: set[Doorbell] = session.info.setdefault(_PENDING, set())
    if bell in pending:
        return
    pending.add(bell)
    if is_postgres(session):
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": bell.channel})


@event.listens_for(Session, "after_commit")
def _ring_pending(session: Session) -> None:
    for bell in session.info.pop(_PENDING, ()):
        bell.ring()


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


class PostgresListener:
    """LISTENs to every doorbell's channel on a connection of its own and rings the doorbell
    that a NOTIFY names: a worker process hears at once of rows another process committed."""

    # How often the listening thread looks at its stop flag; nothing else wakes it when idle.
    POLL_S = 1.0
    RECONNECT_S = 5.0

    def __init__(self, url: str) -> None:
        plain = make_url(url).set(drivername="postgresql")  # psycopg's own URL form
        self.conninfo = plain.render_as_string(hide_password=False)
        self._stop = threading.Event()
        self.listening = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._stop.wait(self.RECONNECT_S)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            for channel in DOORBELLS:
                connection.execute(f"LISTEN {channel}")
            # What was committed while nobody listened: every loop looks once.
            for bell in DOORBELLS.values():
                bell.ring()
            self.listening.set()
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=self.POLL_S):
                    if notice.channel in DOORBELLS:
                        DOORBELLS[notice.channel].ring()

    def stop(self) -> None:
        self._stop.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="leadpond-listen", daemon=True)
        thread.start()
        return thread
