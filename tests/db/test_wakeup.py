"""Wake-ups: a doorbell rings when the transaction that asked for it commits (never when it rolls
back), a loop that marked it before looking does not miss a ring, and on PostgreSQL a NOTIFY
from another connection rings this process's doorbell."""

import threading
import time

import psycopg
import pytest
from sqlalchemy import text

from leadpond.db.engine import unit_of_work
from leadpond.db.wakeup import EVENTS, Doorbell, PostgresListener, ring_after_commit


def test_a_ring_after_the_mark_is_not_missed_even_before_the_wait() -> None:
    bell = Doorbell("tests")
    mark = bell.mark()
    assert bell.wait(mark, 0.05) is False
    bell.ring()  # between the look for work and the wait
    assert bell.wait(mark, 30.0) is True
    assert bell.wait(bell.mark(), 0.05) is False


def test_a_ring_from_another_thread_ends_the_wait() -> None:
    bell = Doorbell("tests")
    mark = bell.mark()
    ringer = threading.Timer(0.1, bell.ring)
    ringer.start()
    started = time.monotonic()
    assert bell.wait(mark, 60.0) is True
    assert time.monotonic() - started < 30.0
    ringer.join()


def test_rings_once_when_the_transaction_commits_and_never_when_it_rolls_back(
    backend: str,
) -> None:
    bell = Doorbell("tests")
    mark = bell.mark()
    with unit_of_work() as session:
        ring_after_commit(session, bell)
        ring_after_commit(session, bell)
        session.execute(text("SELECT 1"))
        assert bell.mark() == mark  # not before the commit: the rows are not visible yet
    assert bell.mark() == mark + 1

    with pytest.raises(RuntimeError), unit_of_work() as session:
        ring_after_commit(session, bell)
        session.execute(text("SELECT 1"))
        raise RuntimeError("rolled back")
    assert bell.mark() == mark + 1


def test_a_notify_from_another_connection_rings_the_listening_process(
    backend: str, database_url: str
) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    listener = PostgresListener(database_url)
    thread = listener.start_thread()
    try:
        assert listener.listening.wait(30.0)
        mark = EVENTS.mark()
        conninfo = listener.conninfo
        # Another process's commit, as PostgreSQL delivers it: only once it commits.
        with psycopg.connect(conninfo) as other:
            other.execute("SELECT pg_notify('leadpond_events', '')")
            assert EVENTS.wait(mark, 0.3) is False
        assert EVENTS.wait(mark, 30.0) is True
    finally:
        listener.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
