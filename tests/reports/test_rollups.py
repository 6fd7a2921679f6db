"""The per-day rollup of processed events: exact, what the dashboard and the status read."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text

from leadpond.db import migrate
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest.models import DERIVED_SOURCE, Event
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import utcnow
from leadpond.pipeline import worker
from leadpond.playbooks.service import start_workspace
from leadpond.reports.models import EventDay
from leadpond.reports.rollups import processed_events, rebuild
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker

BEFORE_ROLLUPS = "20261123_0820"


def _days_ago(days: int) -> str:
    return (utcnow() - timedelta(days=days)).replace(tzinfo=UTC).isoformat()


def test_processed_events_are_counted_on_their_own_day(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    today = utcnow().date()
    track.batch(
        [
            {"type": "track", "userId": "u1", "event": "Page Viewed", "timestamp": _days_ago(40)},
            {"type": "track", "userId": "u1", "event": "Page Viewed", "timestamp": _days_ago(40)},
            {"type": "track", "userId": "u2", "event": "Signed Up", "timestamp": _days_ago(3)},
            # The default playbook derives Hand Raised from it: derived events are not counted.
            {"type": "track", "userId": "u2", "event": "Trial Requested"},
        ]
    )
    # Accepted but not processed yet: not counted either.
    track.batch([{"type": "track", "userId": "u3", "event": "Page Viewed"}], drain=False)
    with read_only() as session:
        ws = workspace.workspace_id
        assert processed_events(session, ws) == 4
        assert processed_events(session, ws, today - timedelta(days=40), today) == 4
        assert processed_events(session, ws, today - timedelta(days=39), today) == 2
        assert processed_events(session, ws, today - timedelta(days=40), today - timedelta(40)) == 2
    status = api.get("/api/v1/pipeline").json()
    assert (status["processed_events"], status["pending_events"]) == (4, 1)
    assert status["derived_events"] >= 1
    board = api.get(
        "/api/v1/dashboard", params={"start": str(today - timedelta(days=10)), "end": str(today)}
    ).json()
    assert board["events"] == 2
    worker.drain()
    assert api.get("/api/v1/pipeline").json()["processed_events"] == 5


def test_the_rollup_is_per_workspace(track: Tracker, workspace: NewWorkspace) -> None:
    with unit_of_work() as session:
        other = start_workspace(session, f"other-{uuid.uuid4().hex[:6]}")
        append_events(
            session,
            other.workspace_id,
            [normalise({"type": "track", "userId": "x", "event": "E"}, received_at=utcnow())],
            utcnow(),
        )
    track.track("E", "u1")
    worker.drain()
    with read_only() as session:
        assert processed_events(session, workspace.workspace_id) == 1
        assert processed_events(session, other.workspace_id) == 1


def test_the_migration_counts_what_was_processed_before_it(empty_database: str) -> None:
    migrate.upgrade(empty_database, revision=BEFORE_ROLLUPS)
    engine = create_engine(empty_database)
    ws = uuid.uuid4()
    ws_value = ws.hex if empty_database.startswith("sqlite") else str(ws)
    rows = [
        # (message id, timestamp, source, processed)
        ("a", datetime(2026, 3, 1, 23, 59), "api", True),
        ("b", datetime(2026, 3, 1, 0, 0), "import", True),
        ("c", datetime(2026, 3, 2, 8, 0), "api", True),
        ("d", datetime(2026, 3, 2, 9, 0), "derived", True),
        ("e", datetime(2026, 3, 2, 10, 0), "api", False),
    ]
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO workspace (id, name, created_at) VALUES (:id, 'old', :now)"),
            {"id": ws_value, "now": datetime(2026, 1, 1)},
        )
        for message_id, at, source, processed in rows:
            connection.execute(
                text(
                    "INSERT INTO event (workspace_id, message_id, type, timestamp, received_at,"
                    " source, payload, processed_at) VALUES (:ws, :m, 'track', :at, :at,"
                    " :source, '{}', :processed)"
                ),
                {
                    "ws": ws_value,
                    "m": message_id,
                    "at": at,
                    "source": source,
                    "processed": at if processed else None,
                },
            )
    migrate.upgrade(empty_database)
    with engine.connect() as connection:
        counted = {
            str(day)[:10]: int(n)
            for day, n in connection.execute(text("SELECT day, events FROM event_day"))
        }
    engine.dispose()
    assert counted == {"2026-03-01": 2, "2026-03-02": 1}


def _days_counted(workspace_id: uuid.UUID) -> dict[str, int]:
    with read_only() as session:
        rows = session.execute(
            select(EventDay.day, EventDay.events).where(EventDay.workspace_id == workspace_id)
        )
        return {str(day)[:10]: int(n) for day, n in rows}


def _days_in_the_log(workspace_id: uuid.UUID) -> dict[str, int]:
    """The question the rollup answers, asked of the event log directly."""
    with read_only() as session:
        rows = session.execute(
            select(Event.timestamp).where(
                Event.workspace_id == workspace_id,
                Event.processed_at.is_not(None),
                Event.source != DERIVED_SOURCE,
            )
        )
        return dict(Counter(at.date().isoformat() for (at,) in rows))


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days_ago=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=30),
    batch_size=st.integers(min_value=1, max_value=12),
)
def test_the_rollup_equals_the_log_and_its_rebuild(
    backend: str, days_ago: list[int], batch_size: int
) -> None:
    with unit_of_work() as session:
        workspace_id = start_workspace(session, f"days-{uuid.uuid4().hex[:6]}").workspace_id
        now = utcnow()
        append_events(
            session,
            workspace_id,
            [
                normalise(
                    {
                        "type": "track",
                        "userId": f"u{i % 5}",
                        "event": "Page Viewed",
                        "timestamp": _days_ago(days).replace("+00:00", "Z"),
                    },
                    received_at=now,
                )
                for i, days in enumerate(days_ago)
            ],
            now,
        )
    worker.drain(batch_size=batch_size)
    kept = _days_counted(workspace_id)
    assert kept == _days_in_the_log(workspace_id)
    assert sum(kept.values()) == len(days_ago)
    with unit_of_work() as session:
        rebuild(session, workspace_id)
    assert _days_counted(workspace_id) == kept
