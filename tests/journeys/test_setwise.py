"""The engine's steps run in SQL (``setwise``) write what running them in Python one enrollment
at a time writes — the whole state: where every enrollment is, every step-log row (in order,
per enrollment, with its message), every outbox row and its history, the people's tags and the
action events — for generated journeys (sends to the person on every channel, a missing
template, branches on conditions, random splits, waits for a duration or until a local time in
the journey's time zone, tags added and removed, exits, and a Python-only step between them),
goals and ``exit_when``, people merged away, A/B variants, enrollments due at different times
(some waits already over: a late run) and messages already queued by an earlier run
(hypothesis, both databases)."""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadpond.channels.models import Message, MessageEvent, MessageTemplate
from leadpond.channels.schemas import TemplateCreate
from leadpond.channels.service import QueuedSend, create_template, enqueue_many
from leadpond.db.engine import rolled_back
from leadpond.ingest.models import JOURNEY_SOURCE, Event
from leadpond.journeys.engine import advance
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.service import journeys_of
from leadpond.journeys.setwise import advance_in_sql
from leadpond.journeys.steps import message_key
from leadpond.kit import yaml
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.playbooks.service import apply_playbook, default_source
from leadpond.profiles.models import Person
from leadpond.rules.models import PersonTag
from leadpond.rules.reads import add_manual_tags
from leadpond.workspaces.service import NewWorkspace
from tests.journeys.conftest import TEMPLATES

# (channel, template): the last one is missing, so the step logs ``no_template``.
SENDS = (("email", "welcome"), ("email", "case-a"), ("sms", "trial-sms"), ("email", "gone"))
CONDITIONS = (
    {"trait": "tier", "eq": "gold"},
    {"trait": "tier", "in": ["gold", "silver"]},
    {"not": {"trait": "tier", "eq": "gold"}},
)
# Far above any id the tests' sequences reach.
PERSON_IDS = 9_000_000_000
# (added, removed): gold people hold the manual tag ``vip`` before the run.
TAGS = ((["journey:setwise"], []), ([], ["vip"]), (["journey:setwise", "vip"], ["vip"]))
STEP = st.one_of(
    st.tuples(st.just("send"), st.sampled_from(SENDS)),
    st.tuples(st.just("branch"), st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=2)),
    st.tuples(st.just("exit"), st.none()),
    st.tuples(st.just("tags"), st.sampled_from(TAGS)),
    st.tuples(st.just("wait"), st.sampled_from(("1h", "2d"))),
    st.tuples(st.just("wait_until"), st.sampled_from(("09:30", "23:45", "00:00"))),
    st.tuples(st.just("split"), st.sampled_from(((50, 50), (10, 30, 60)))),
    # Only Python runs this: a mixed journey crosses from one way to the other.
    st.tuples(st.just("trait"), st.none()),
)
JOURNEY = st.fixed_dictionaries(
    {
        "steps": st.lists(STEP, min_size=1, max_size=5),
        # Where each step goes: the next one, exit, or (the last) out of the journey.
        "jumps": st.lists(st.sampled_from(("next", "exit", "skip")), min_size=5, max_size=5),
        "goal": st.booleans(),
        "exit_when": st.booleans(),
        "zone": st.sampled_from(("Asia/Shanghai", "America/New_York", "UTC")),
    }
)
# A person: tier, stage won (the goal), churned (exit_when), merged away, A/B variant, whether
# an earlier run already queued their first step's message, and how many minutes ago their
# first step was due.
PERSON = st.tuples(
    st.sampled_from(("gold", "silver", "bronze")),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from((None, "A", "")),
    st.booleans(),
    st.sampled_from((5, 65, 600, 3000)),
)


def _journey(spec: dict[str, Any]) -> dict[str, Any]:
    """The generated journey as the playbook writes it (jumps only forward)."""
    kinds = spec["steps"]
    steps: list[dict[str, Any]] = []
    for i, (kind, arg) in enumerate(kinds):
        sid = f"s{i}"
        later = [f"s{j}" for j in range(i + 1, len(kinds))]
        jump = spec["jumps"][i]
        target = "exit" if jump == "exit" or not later else later[-1 if jump == "skip" else 0]
        if kind == "send":
            channel, template = arg
            step: dict[str, Any] = {"id": sid, "send": {"channel": channel, "template": template}}
        elif kind == "branch":
            arms: list[dict[str, Any]] = [
                {"if": cond, "goto": later[n % len(later)] if later else "exit"}
                for n, cond in enumerate(arg)
            ]
            # The last step's branch has no default arm: the rest complete (``next`` is None).
            step = {"id": sid, "branch": [*arms, *([{"goto": target}] if later else [])]}
        elif kind == "exit":
            step = {"id": sid, "exit": True}
        elif kind == "split":
            step = {
                "id": sid,
                "split": [
                    {
                        "variant": f"v{n}",
                        "weight": weight,
                        "goto": later[n % len(later)] if later else "exit",
                    }
                    for n, weight in enumerate(arg)
                ],
            }
        elif kind == "tags":
            added, removed = arg
            step = {"id": sid, **({"add_tags": added} if added else {})}
            step |= {"remove_tags": removed} if removed else {}
        elif kind == "trait":
            step = {"id": sid, "set_trait": {"journeyed": "yes"}}
        else:
            step = {"id": sid, kind: arg}
        if kind not in ("branch", "exit", "split") and (later or jump == "exit"):
            step["next"] = target
        steps.append(step)
    journey: dict[str, Any] = {
        "key": "mixed",
        "trigger": {"api": True},
        "time_zone": spec["zone"],
        "steps": steps,
    }
    if spec["goal"]:
        journey["goal"] = {"trait": "won", "eq": "yes"}
    if spec["exit_when"]:
        journey["exit_when"] = {"trait": "churned", "eq": "yes"}
    return journey


def _set_up(
    session: Session, ws: uuid.UUID, spec: dict[str, Any], people: list[Any], now: datetime
) -> list[int]:
    """Templates, the playbook, the people and their enrollments at the first step, due now."""
    for template in TEMPLATES:
        create_template(session, ws, TemplateCreate(**template))
    document = yaml.load(default_source())
    document["journeys"] = [_journey(spec)]
    apply_playbook(session, ws, json.dumps(document, ensure_ascii=False), actor="test")
    found = journeys_of(session, ws)
    assert found is not None
    version, journeys = found
    journey = journeys["mixed"]
    persons = []
    for n, (tier, won, churned, *_) in enumerate(people):
        traits = {
            "tier": tier,
            "won": "yes" if won else "no",
            "churned": "yes" if churned else "no",
        }
        # The same ids in both runs (a rolled-back sequence moves on, on PostgreSQL): a split
        # hashes the person's id.
        person = Person(id=PERSON_IDS + n, workspace_id=ws, traits=traits)
        session.add(person)
        persons.append(person)
    session.flush()
    vip = [(p.id, "vip") for p, (tier, *_) in zip(persons, people, strict=True) if tier == "gold"]
    add_manual_tags(session, ws, vip, "test")
    rows = []
    for person, (_, _, _, merged, variant, _, ago) in zip(persons, people, strict=True):
        if merged and person is not persons[0]:
            person.merged_into_id = persons[0].id
        row = Enrollment(
            workspace_id=ws,
            journey_key="mixed",
            version=version,
            person_id=person.id,
            step=journey.first,
            due_at=now - timedelta(minutes=ago),
            state="active",
            variant=variant,
            reason="test",
            entered_at=now - timedelta(minutes=ago),
        )
        session.add(row)
        rows.append(row)
    session.flush()
    first = journey.steps[journey.first]
    earlier = [
        QueuedSend(
            row.person_id,
            first.channel,
            first.template,
            message_key(journey, first, row),
            "earlier",
        )
        for row, person in zip(rows, people, strict=True)
        if person[5]
        and first.kind == "send"
        and first.template != "gone"
        and row.person_id in {p.id for p in persons if p.merged_into_id is None}
    ]
    if earlier:
        enqueue_many(session, ws, earlier)
    return [row.id for row in rows]


NOW = utcnow().replace(microsecond=0)


def _outcome(ws: uuid.UUID, spec: dict[str, Any], people: list[Any], set_wise: bool) -> Any:
    """Advance everyone one way in a transaction rolled back after: the whole state, people and
    enrollments named by their place (ids differ between runs on PostgreSQL)."""
    now = NOW
    with rolled_back() as session:
        ids = _set_up(session, ws, spec, people, now)
        if set_wise:
            advance(session, ws, ids, now)
        else:
            for eid in ids:
                advance(session, ws, [eid], now, in_sql=False)
        place = {eid: i for i, eid in enumerate(ids)}
        person_place = {
            pid: place[eid]
            for eid, pid in session.execute(
                select(Enrollment.id, Enrollment.person_id).where(Enrollment.id.in_(ids))
            )
        }

        def named(key: str | None) -> str | None:
            if key is None:
                return None
            *head, pid, eid = key.split(":")
            return ":".join([*head, str(person_place[int(pid)]), str(place[int(eid)])])

        messages = {
            row[0]: (named(row[1]), person_place[row[2]], *row[3:])
            for row in session.execute(
                select(
                    Message.id,
                    Message.idempotency_key,
                    Message.person_id,
                    Message.channel,
                    MessageTemplate.key,
                    Message.purpose,
                    Message.origin,
                    Message.variables,
                    Message.status,
                )
                .join(MessageTemplate, MessageTemplate.id == Message.template_id)
                .where(owned(Message, ws))
            )
        }
        history = sorted(
            (messages[mid][0], kind, sorted(detail.items()))
            for mid, kind, detail in session.execute(
                select(MessageEvent.message_id, MessageEvent.kind, MessageEvent.detail).where(
                    MessageEvent.message_id.in_(list(messages))
                )
            )
        )
        enrollments = sorted(
            (place[eid], step, due, state, variant, ended is not None, waiting)
            for eid, step, due, state, variant, ended, waiting in session.execute(
                select(
                    Enrollment.id,
                    Enrollment.step,
                    Enrollment.due_at,
                    Enrollment.state,
                    Enrollment.variant,
                    Enrollment.ended_at,
                    Enrollment.waiting_since,
                ).where(Enrollment.id.in_(ids))
            )
        )
        log: dict[int, list[Any]] = {}
        for eid, step, kind, at, detail, mid in session.execute(
            select(
                StepLog.enrollment_id,
                StepLog.step,
                StepLog.kind,
                StepLog.at,
                StepLog.detail,
                StepLog.message_id,
            )
            .where(StepLog.enrollment_id.in_(ids))
            .order_by(StepLog.id)
        ):
            message = messages[mid][0] if mid is not None else None
            log.setdefault(place[eid], []).append((step, kind, at, detail, message))
        tags = sorted(
            (person_place[pid], tag, category, source, actor)
            for pid, tag, category, source, actor in session.execute(
                select(
                    PersonTag.person_id,
                    PersonTag.tag,
                    PersonTag.category,
                    PersonTag.source,
                    PersonTag.actor,
                ).where(owned(PersonTag, ws))
            )
        )
        actions = sorted(
            (person_place[pid], kind, at, payload.get("traits"), payload.get("timestamp"))
            for pid, kind, at, payload in session.execute(
                select(Event.person_id, Event.type, Event.timestamp, Event.payload).where(
                    owned(Event, ws), Event.source == JOURNEY_SOURCE
                )
            )
        )
    return {
        "enrollments": enrollments,
        "log": log,
        "messages": sorted(v for v in messages.values()),
        "history": history,
        "tags": tags,
        "actions": actions,
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=JOURNEY, people=st.lists(PERSON, min_size=1, max_size=6))
def test_steps_in_sql_write_what_one_enrollment_at_a_time_writes(
    workspace: NewWorkspace, spec: dict[str, Any], people: list[Any]
) -> None:
    ws = workspace.workspace_id
    one_by_one = _outcome(ws, spec, people, set_wise=False)
    together = _outcome(ws, spec, people, set_wise=True)
    assert together == one_by_one


def test_a_send_then_a_branch_run_in_sql_for_the_whole_batch(workspace: NewWorkspace) -> None:
    """A known case: a send, then a branch to an exit or the end — everyone moved in SQL (no
    step left for Python), each with one message, the merged person out as ``person_gone``."""
    spec = {
        "steps": [("send", ("email", "welcome")), ("branch", [CONDITIONS[0]])],
        "jumps": ["next", "next", "next", "next", "next"],
        "goal": False,
        "exit_when": False,
        "zone": "UTC",
    }
    people = [
        ("gold", False, False, False, None, False, 5),
        ("silver", False, False, False, None, False, 5),
        ("gold", False, False, True, None, False, 5),
    ]
    outcome = _outcome(workspace.workspace_id, spec, people, set_wise=True)
    assert [state for _, _, _, state, *_ in outcome["enrollments"]] == [
        "exited",
        "completed",
        "exited",
    ]
    assert [m[0].split(":", 3)[3] for m in outcome["messages"]] == ["s0:0:0", "s0:1:1"]
    assert [kind for _, kind, *_ in outcome["log"][0]] == ["send", "branch", "end"]
    assert outcome["log"][2] == [
        (
            "s0",
            "end",
            outcome["log"][2][0][2],
            {"error": "person_gone"},
            None,
        )
    ]
    assert outcome == _outcome(workspace.workspace_id, spec, people, set_wise=False)


def test_a_split_waits_and_tags_run_in_sql_for_the_whole_batch(workspace: NewWorkspace) -> None:
    """A known case: a split, a wait already over (a late run), tags, a wait until a local
    time — no step left for Python, and the same state as one enrollment at a time."""
    spec = {
        "steps": [
            ("split", (50, 50)),
            ("wait", "1h"),
            ("tags", TAGS[2]),
            ("wait_until", "09:30"),
        ],
        "jumps": ["next", "next", "next", "next", "next"],
        "goal": False,
        "exit_when": False,
        "zone": "America/New_York",
    }
    people = [("gold", False, False, False, None, False, ago) for ago in (65, 65, 600, 5)] * 3
    ws = workspace.workspace_id
    with rolled_back() as session:
        ids = _set_up(session, ws, spec, people, NOW)
        fast = advance_in_sql(session, ws, ids, NOW)
        assert fast.rest == [] and fast.steps > len(people)
        tagged = select(func.count()).where(
            owned(PersonTag, ws), PersonTag.tag == "journey:setwise"
        )
        logged = select(func.count()).where(StepLog.enrollment_id.in_(ids), StepLog.kind == "tags")
        assert session.scalar(tagged) == session.scalar(logged) > 0
    outcome = _outcome(ws, spec, people, set_wise=True)
    assert {variant for _, _, _, _, variant, *_ in outcome["enrollments"]} == {"v0", "v1"}
    assert outcome == _outcome(ws, spec, people, set_wise=False)
