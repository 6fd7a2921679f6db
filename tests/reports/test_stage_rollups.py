"""The stage funnel read from its rollups equals the funnel counted from the rows, whatever
wrote them: pipeline batches (late and shuffled events too), backfills, merges, unmerges, the
idle sweep and playbooks that reorder the line."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Uuid, column, create_engine, insert, select, table

from leadpond.db import migrate
from leadpond.db.engine import as_date, read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.pipeline import worker
from leadpond.playbooks.service import (
    apply_playbook,
    default_source,
    start_workspace,
    validate_playbook,
)
from leadpond.reports.dashboard import funnel
from leadpond.rules.backfill import backfill_in_steps
from leadpond.rules.models import PersonStage, StageChange, StageEntryDay, StageReachDay
from leadpond.rules.stage_days import (
    FIRST_DAY,
    counted_line,
    playbook_line,
    reach_of,
    reach_of_people,
    rebuild,
)
from leadpond.rules.sweep import sweep_idle
from leadpond.rules.vocabulary import detour_stages, stage_order
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.reports.funnel_oracle import direct_funnel

# What moves people in the default playbook, as (call type, event or traits).
MOVES: list[tuple[str, Any]] = [
    ("track", "Page Viewed"),
    ("track", "Form Submitted"),
    ("track", "Trial Requested"),  # Hand Raised: an opportunity, skipping stages
    ("track", "Order Completed"),
    ("track", "Referral Made"),
    ("identify", {"lead_status": "disqualified"}),
    ("identify", {"email": "shared-0@acme.cn"}),  # people sharing an email merge
    ("identify", {"email": "shared-1@acme.cn"}),
]

VISIT = "{key: visit, name: {zh: 访问, en: Visited}, phase: 招}"
REGISTERED = "{key: registered, name: {zh: 注册, en: Registered}, phase: 育}"
ENGAGED = "{key: engaged, name: {zh: 活跃, en: Engaged}, phase: 育}"
# Playbooks that move the line: a stage made a detour, two stages swapped, the default back.
PLAYBOOKS = {
    "engaged-detour": lambda source: source.replace(ENGAGED, "{key: engaged, detour: true}"),
    "swapped": lambda source: (
        source.replace(VISIT, "@@").replace(REGISTERED, VISIT).replace("@@", REGISTERED)
    ),
    "default": lambda source: source,
}


def _playbook(variant: str) -> str:
    changed: str = PLAYBOOKS[variant](default_source())
    assert variant == "default" or changed != default_source(), f"{variant}: nothing replaced"
    return changed


def test_the_playbooks_move_the_line(workspace: NewWorkspace) -> None:
    ws = workspace.workspace_id
    for variant, line in (
        ("swapped", ["awareness", "registered", "visit", "engaged"]),
        ("engaged-detour", ["awareness", "visit", "registered", "opportunity"]),
    ):
        with unit_of_work() as session:
            apply_playbook(session, ws, _playbook(variant), actor="test")
            assert playbook_line(session, ws)[:4] == line
            assert counted_line(session, ws)[:4] == line


def _call(person: int, move: int, days_ago: int, hour: int) -> dict[str, Any]:
    kind, what = MOVES[move]
    at = (utcnow() - timedelta(days=days_ago)).replace(hour=hour, tzinfo=UTC).isoformat()
    call: dict[str, Any] = {"type": kind, "anonymousId": f"a{person}", "timestamp": at}
    if kind == "track":
        call["event"] = what
    else:
        call["traits"] = what
    return call


calls = st.lists(
    st.builds(
        _call,
        st.integers(0, 4),
        st.integers(0, len(MOVES) - 1),
        st.integers(0, 200),
        st.integers(0, 23),
    ),
    min_size=3,
    max_size=30,
)
batches = st.tuples(st.just("batch"), calls, st.integers(1, 40))
steps = st.one_of(
    batches,
    batches,
    st.tuples(st.just("backfill"), st.integers(1, 3)),
    st.tuples(st.just("unmerge")),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("playbook"), st.sampled_from(sorted(PLAYBOOKS)), st.booleans()),
)
ranges = st.lists(st.tuples(st.integers(0, 220), st.integers(0, 220)), min_size=1, max_size=6)


def _unmerge_one(api: TestClient, headers: dict[str, str]) -> None:
    """Undo one merge, if any person holds an identifier a merge brought in."""
    people = api.get("/api/v1/people", params={"limit": 100}, headers=headers).json()["items"]
    for person in people:
        found = api.get(f"/api/v1/people/{person['id']}/identifiers", headers=headers).json()
        for identifier in found["items"]:
            answer = api.post(
                f"/api/v1/people/{person['id']}/unmerge",
                json={"identifier": {"type": identifier["type"], "value": identifier["value"]}},
                headers=headers,
            )
            if answer.status_code == 200:
                return


def _run(step: tuple[Any, ...], track: Tracker, api: TestClient, ws: NewWorkspace) -> None:
    headers = {"Authorization": f"Bearer {ws.api_key}"}
    if step[0] == "batch":
        track.batch(step[1], drain=False)
        worker.drain(batch_size=step[2])
    elif step[0] == "backfill":
        backfill_in_steps(ws.workspace_id, step=step[1])
    elif step[0] == "unmerge":
        _unmerge_one(api, headers)
        worker.drain()
    elif step[0] == "sweep":
        with unit_of_work() as session:
            sweep_idle(session, ws.workspace_id, utcnow())
    else:
        with unit_of_work() as session:
            apply_playbook(session, ws.workspace_id, _playbook(step[1]), actor="test")
        if step[2]:
            backfill_in_steps(ws.workspace_id)


def _rows(workspace_id: uuid.UUID) -> tuple[dict[Any, int], dict[Any, int]]:
    with read_only() as session:
        reach = session.execute(
            select(
                StageReachDay.stage,
                StageReachDay.day,
                StageReachDay.previous_day,
                StageReachDay.people,
            ).where(StageReachDay.workspace_id == workspace_id, StageReachDay.people != 0)
        )
        entries = session.execute(
            select(StageEntryDay.stage, StageEntryDay.day, StageEntryDay.people).where(
                StageEntryDay.workspace_id == workspace_id, StageEntryDay.people != 0
            )
        )
        return {tuple(r[:3]): r[3] for r in reach}, {tuple(r[:2]): r[2] for r in entries}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=batches, then=st.lists(steps, max_size=6), asked=ranges)
def test_the_rollups_answer_the_funnel_exactly(
    client: TestClient,
    first: tuple[Any, ...],
    then: list[tuple[Any, ...]],
    asked: list[tuple[int, int]],
) -> None:
    with unit_of_work() as session:
        ws = start_workspace(session, f"funnel-{uuid.uuid4().hex[:6]}")
    track = Tracker(client, ws)
    for step in [first, *then]:
        _run(step, track, client, ws)
    today = utcnow().date()
    with read_only() as session:
        order = stage_order(session, ws.workspace_id)
        detours = detour_stages(session, ws.workspace_id)
        for back, length in asked:
            start = today - timedelta(days=back)
            end = start + timedelta(days=length)
            kept = funnel(session, ws.workspace_id, start, end, order, detours)
            assert kept == direct_funnel(session, ws.workspace_id, start, end, order, detours)

    # The rows kept move for move are the rows a recount gives.
    kept_rows = _rows(ws.workspace_id)
    with unit_of_work() as session:
        rebuild(session, ws.workspace_id)
    assert _rows(ws.workspace_id) == kept_rows


def test_a_person_counts_once_per_range_at_each_stage_they_passed() -> None:
    line = ["visit", "registered", "opportunity"]
    days = [date(2026, 3, d) for d in (1, 5, 9)]
    # Visit on the 1st, opportunity on the 5th (registered skipped), a visit again on the 9th;
    # disqualified (off the line) on the 5th.
    rows = reach_of(
        [("visit", days[0]), ("opportunity", days[1]), ("visit", days[2]), ("lost", days[1])],
        line,
    )
    assert rows == {
        ("visit", days[0], FIRST_DAY): 1,
        ("visit", days[1], days[0]): 1,
        ("visit", days[2], days[1]): 1,
        ("registered", days[1], FIRST_DAY): 1,
        ("opportunity", days[1], FIRST_DAY): 1,
        ("lost", days[1], FIRST_DAY): 1,
    }

    def reached(stage: str, a: date, b: date) -> int:
        return sum(n for (s, d, p), n in rows.items() if s == stage and a <= d <= b and p < a)

    assert reached("visit", days[0], days[2]) == 1  # three days in range, one person
    assert reached("visit", days[1], days[1]) == 1
    assert reached("registered", days[0], days[0]) == 0
    assert reached("registered", days[0], days[2]) == 1
    assert reached("opportunity", days[2], days[2]) == 0


BEFORE_STAGE_ROLLUPS = "20261207_2100_console_at_scale"


def test_the_migration_counts_the_moves_made_before_it(empty_database: str) -> None:
    migrate.upgrade(empty_database, revision=BEFORE_STAGE_ROLLUPS)
    engine = create_engine(empty_database)
    ws = uuid.uuid4()
    now = datetime(2026, 3, 10, 12, 0)
    workspace = table("workspace", column("id", Uuid()), column("name"), column("created_at"))
    playbook = table(
        "playbook_version",
        column("workspace_id", Uuid()),
        *(column(c) for c in ("version", "source", "checksum", "applied_by")),
        column("document", JSON()),
        column("applied_at"),
    )
    person = table(
        "person",
        column("id"),
        column("workspace_id", Uuid()),
        column("traits", JSON()),
        column("trait_times", JSON()),
        column("event_count"),
        column("created_at"),
        column("updated_at"),
    )
    moves = [  # (person, stage, when)
        (1, "visit", datetime(2026, 3, 1, 23, 0)),
        (1, "opportunity", datetime(2026, 3, 2, 1, 0)),
        (1, "dormant", datetime(2026, 3, 8, 1, 0)),
        (2, "registered", datetime(2026, 3, 2, 9, 0)),
    ]
    with engine.begin() as connection:
        connection.execute(insert(workspace).values(id=ws, name="old", created_at=now))
        connection.execute(
            insert(playbook).values(
                workspace_id=ws,
                version=1,
                source="",
                checksum="x",
                applied_by="test",
                document=validate_playbook(default_source()).document,
                applied_at=now,
            )
        )
        for pid in (1, 2):
            connection.execute(
                insert(person).values(
                    id=pid,
                    workspace_id=ws,
                    traits={},
                    trait_times={},
                    event_count=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        connection.execute(
            insert(StageChange.__table__),
            [
                {"workspace_id": ws, "person_id": p, "to_stage": s, "reason": "old", "at": at}
                for p, s, at in moves
            ],
        )
        connection.execute(
            insert(PersonStage.__table__),
            [
                {"workspace_id": ws, "person_id": 1, "stage": "dormant", "entered_at": moves[2][2]},
                {"workspace_id": ws, "person_id": 2, "stage": "registered", "entered_at": now},
            ],
        )
    migrate.upgrade(empty_database)
    with engine.connect() as connection:
        reach = {
            (s, as_date(d), as_date(p)): int(n)
            for s, d, p, n in connection.execute(
                select(
                    StageReachDay.stage,
                    StageReachDay.day,
                    StageReachDay.previous_day,
                    StageReachDay.people,
                )
            )
        }
        entries = {
            (s, as_date(d)): int(n)
            for s, d, n in connection.execute(
                select(StageEntryDay.stage, StageEntryDay.day, StageEntryDay.people)
            )
        }
    engine.dispose()
    line = ["awareness", "visit", "registered", "engaged", "opportunity", "customer", "advocate"]
    expected = reach_of_people(moves, line)
    assert reach == dict(expected)
    assert reach[("registered", date(2026, 3, 2), FIRST_DAY)] == 2
    assert entries == {("dormant", date(2026, 3, 8)): 1, ("registered", date(2026, 3, 10)): 1}
