"""The set-wise enrollment of a segment (``enroll_set``: ``INSERT … SELECT``) gives what the
per-candidate ``enroll`` gives on the same data — the same people enrolled with the same
first-step times, reasons and step log, the same counts of who was kept out and why — for any
mix of live and merged people, earlier enrollments in every state and age, re-entry rules,
entry conditions, staleness and both entry limits (hypothesis, both databases)."""

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.db.engine import rolled_back
from leadpond.journeys.definitions import Journey, compile_journeys
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.service import Candidate, enroll, enroll_set
from leadpond.kit import yaml
from leadpond.kit.clock import utcnow
from leadpond.profiles.models import Person
from leadpond.rules.playbook import Playbook
from leadpond.workspaces.service import NewWorkspace
from tests.journeys.conftest import playbook_with

BASE = {
    "key": "weekly",
    "trigger": {"schedule": {"cron": "0 9 * * 1", "segment": "vip"}},
    "if": {"trait": "tier", "eq": "gold"},
    "steps": [{"id": "morning", "wait": "1h"}],
}


def _journey() -> Journey:
    [found] = compile_journeys(Playbook.model_validate(yaml.load(playbook_with(BASE))))
    return found


# A person: gold or not, merged away or not, and an earlier enrollment (its state, how many
# days ago it entered, and — active ones — seconds until its first step is due), or none.
PERSON = st.tuples(
    st.booleans(),
    st.booleans(),
    st.none()
    | st.tuples(
        st.sampled_from(("active", "completed", "exited")),
        st.integers(0, 40),
        st.integers(-5, 5),
    ),
)
RULES = st.fixed_dictionaries(
    {
        "reentry": st.sampled_from(("never", "after_exit", "after")),
        "condition": st.booleans(),
        "total": st.none() | st.integers(0, 8),
        "per_second": st.none() | st.integers(1, 3),
        "stale": st.booleans(),
    }
)


def _set_up(session: Session, ws: uuid.UUID, people: list[Any], now: datetime) -> list[int]:
    ids = []
    for gold, _, _ in people:
        person = Person(workspace_id=ws, traits={"tier": "gold" if gold else "silver"})
        session.add(person)
        session.flush()
        ids.append(person.id)
    for pid, (_, merged, earlier) in zip(ids, people, strict=True):
        if merged and pid != ids[0]:
            session.get_one(Person, pid).merged_into_id = ids[0]
        if earlier is not None:
            state, days, due = earlier
            session.add(
                Enrollment(
                    workspace_id=ws,
                    journey_key="weekly",
                    version=1,
                    person_id=pid,
                    step="morning" if state == "active" else None,
                    due_at=now + timedelta(seconds=due),
                    state=state,
                    reason="earlier",
                    entered_at=now - timedelta(days=days, hours=1),
                )
            )
    session.flush()
    return ids


def _outcome(
    ws: uuid.UUID, people: list[Any], journey: Journey, now: datetime, set_wise: bool
) -> dict[str, Any]:
    """Enroll everyone, one way, in a transaction rolled back after: what came of it, with
    people named by their place in ``people`` (ids differ between runs on PostgreSQL)."""
    at = now - timedelta(minutes=1)
    with rolled_back() as session:
        ids = _set_up(session, ws, people, now)
        place = {pid: i for i, pid in enumerate(ids)}
        reason = "schedule 0 9 * * 1 for vip"
        if set_wise:
            members = select(Person.id).where(Person.id.in_(ids))
            report = enroll_set(session, ws, 1, journey, members, reason, at, now)
        else:
            candidates = [Candidate(pid, reason, at) for pid in ids]
            report = enroll(session, ws, 1, journey, candidates, now)
        rows = sorted(
            (place[pid], step, due, state, why, version, entered)
            for pid, step, due, state, why, version, entered in session.execute(
                select(
                    Enrollment.person_id,
                    Enrollment.step,
                    Enrollment.due_at,
                    Enrollment.state,
                    Enrollment.reason,
                    Enrollment.version,
                    Enrollment.entered_at,
                ).where(Enrollment.id.in_(report.enrolled))
            )
        )
        log = sorted(
            (place[pid], step, kind, at, sorted(detail.items()))
            for pid, step, kind, at, detail in session.execute(
                select(Enrollment.person_id, StepLog.step, StepLog.kind, StepLog.at, StepLog.detail)
                .join(Enrollment, Enrollment.id == StepLog.enrollment_id)
                .where(Enrollment.id.in_(report.enrolled))
            )
        )
    return {
        "counts": (report.stale, report.reentry_refused, report.not_eligible, report.over_limit),
        "rows": rows,
        "log": log,
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(PERSON, min_size=1, max_size=8), rules=RULES)
def test_set_wise_enrollment_equals_one_candidate_at_a_time(
    workspace: NewWorkspace, people: list[Any], rules: dict[str, Any]
) -> None:
    base = _journey()
    journey = replace(
        base,
        reentry=rules["reentry"],
        reentry_after=timedelta(days=30) if rules["reentry"] == "after" else None,
        entry=base.entry if rules["condition"] else None,
        limit_total=rules["total"],
        limit_per_second=rules["per_second"],
    )
    if rules["stale"]:
        journey = replace(journey, max_age=timedelta(0))
    now = utcnow().replace(microsecond=0)
    one_by_one = _outcome(workspace.workspace_id, people, journey, now, set_wise=False)
    together = _outcome(workspace.workspace_id, people, journey, now, set_wise=True)
    assert together == one_by_one


def test_a_known_mix_is_enrolled_as_the_rules_say(workspace: NewWorkspace) -> None:
    """Gold live people enter; silver ones fail the condition; the merged one is not live; the
    one still in the journey and the one who entered 10 days ago (re-entry after 30 days) are
    refused; the total limit (three entered before) lets one of the other three in: the first."""
    people = [
        (True, False, None),
        (False, False, None),
        (True, True, None),
        (True, False, ("active", 1, 0)),
        (True, False, ("completed", 10, 0)),
        (True, False, ("exited", 40, 0)),
        (True, False, None),
    ]
    base = _journey()
    journey = replace(base, reentry="after", reentry_after=timedelta(days=30), limit_total=4)
    now = utcnow().replace(microsecond=0)
    for set_wise in (False, True):
        found = _outcome(workspace.workspace_id, people, journey, now, set_wise)
        # 3 earlier enrollments: the limit of 4 leaves room for one more.
        assert found["counts"] == (0, 2, 1, 2)
        assert [row[0] for row in found["rows"]] == [0]
        assert [(entry[0], entry[2]) for entry in found["log"]] == [(0, "entered")]
