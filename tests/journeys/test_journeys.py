"""Journeys end to end through the pipeline, the engine and the API, on both databases:
S1's shape (trigger → WeCom + SMS in the same drain → one day → email), branches, a stable A/B
split, re-entry, the staleness guard, kill-safety and batch-size independence."""

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from leadpond.channels.models import Message
from leadpond.db.engine import read_only, unit_of_work
from leadpond.journeys.engine import advance, run_due_batch
from leadpond.journeys.merges import people_reshaped
from leadpond.journeys.models import Enrollment
from leadpond.journeys.runner import run_due
from leadpond.journeys.service import Candidate, enroll, journeys_of
from leadpond.kit import yaml
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.scope import owned
from leadpond.playbooks.service import (
    PlaybookInvalid,
    validate_playbook,
)
from leadpond.profiles.models import Person
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.journeys.conftest import (
    SPLIT,
    enrollments,
    note,
    outbox,
    person_id,
    playbook_with,
    set_up,
)

S1 = {
    "key": "trial-welcome",
    "name": "试用欢迎",
    "trigger": {"event": "Trial Requested"},
    "steps": [
        {"id": "note", "send": {"channel": "wecom", "template": "trial-note"}},
        {"id": "sms", "send": {"channel": "sms", "template": "trial-sms"}},
        {"id": "one-day", "wait": "1d"},
        {"id": "welcome", "send": {"channel": "email", "template": "welcome"}},
    ],
}


def test_s1_trigger_sends_in_the_same_drain_and_the_email_a_day_later(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, S1)
    track.identify("u1", {"name": "张伟", "email": "u1@bank.cn", "phone": "13812345678"})
    track.track("Trial Requested", "u1")
    pid = person_id(api, "u1")
    sent = outbox(ws)
    assert [(p, c) for p, c, _ in sent] == [(pid, "sms"), (pid, "wecom")]
    assert all(key.startswith("journey:trial-welcome:v") for _, _, key in sent)
    [enrollment] = enrollments(ws)
    assert (enrollment.state, enrollment.step) == ("active", "welcome")
    # Nothing is due before the day has passed; then the email, once.
    assert run_due(ws, utcnow() + timedelta(hours=23)).steps == 0
    assert len(outbox(ws)) == 2
    later = utcnow() + timedelta(days=1, minutes=1)
    assert run_due(ws, later).messages == 1
    assert sorted(c for _, c, _ in outbox(ws)) == ["email", "sms", "wecom"]
    assert run_due(ws, later).steps == 0
    [enrollment] = enrollments(ws)
    assert enrollment.state == "completed"
    # Submitting again enrolls no one (re-entry: never), and sends nothing more.
    track.track("Trial Requested", "u1")
    assert len(enrollments(ws)) == 1 and len(outbox(ws)) == 3
    explained = api.get(f"/api/v1/journeys/trial-welcome/people/{pid}").json()
    [item] = explained["items"]
    assert item["reason"].startswith("event Trial Requested")
    assert [s["step"] for s in item["steps"]] == [
        "entered",
        "note",
        "sms",
        "one-day",
        "welcome",
        "completed",
    ]
    assert {s["message"]["status"] for s in item["steps"] if s["message"]} == {"queued"}
    listed = api.get("/api/v1/journeys").json()
    assert listed["items"][0]["enrollments"] == {"completed": 1}


def test_the_cli_runs_due_steps_as_if_the_clock_read_now(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    from typer.testing import CliRunner

    from leadpond.cli import app

    set_up(api, workspace, S1)
    track.identify("u1", {"name": "张伟", "email": "u1@bank.cn"})
    track.track("Trial Requested", "u1")
    runner = CliRunner()
    bad = runner.invoke(
        app, ["journey", "run-due", "--workspace", str(workspace.workspace_id), "--now", "tomorrow"]
    )
    assert bad.exit_code != 0
    when = isoformat(utcnow() + timedelta(days=1, minutes=1))
    done = runner.invoke(
        app, ["journey", "run-due", "--workspace", str(workspace.workspace_id), "--now", when]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["messages"] == 1


BRANCH = {
    "key": "by-industry",
    "trigger": {"event": "Whitepaper Downloaded"},
    "steps": [
        {
            "id": "which",
            "branch": [
                {"if": {"trait": "industry", "eq": "retail"}, "goto": "retail"},
                {"goto": "other"},
            ],
        },
        {"id": "retail", "send": {"channel": "email", "template": "case-a"}, "next": "exit"},
        {"id": "other", "send": {"channel": "email", "template": "case-b"}},
    ],
}


def test_a_branch_sends_each_person_down_the_first_arm_that_holds(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, BRANCH)
    track.identify("r", {"email": "r@shop.cn", "industry": "retail"})
    track.identify("b", {"email": "b@bank.cn", "industry": "banking"})
    track.batch(
        [{"type": "track", "event": "Whitepaper Downloaded", "userId": u} for u in ("r", "b")]
    )
    with read_only() as session:
        got = {
            (p, t)
            for p, t in session.execute(
                select(Message.person_id, Message.idempotency_key).where(owned(Message, ws))
            )
        }
    r, b = person_id(api, "r"), person_id(api, "b")
    assert {(p, key.split(":")[3]) for p, key in got} == {(r, "retail"), (b, "other")}
    states = {e.person_id: e.state for e in enrollments(ws)}
    assert states == {r: "exited", b: "completed"}


def test_an_ab_split_is_random_across_people_and_stable_per_person(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, SPLIT)
    track.batch(
        [
            {"type": "identify", "userId": f"p{i}", "traits": {"email": f"p{i}@shop.cn"}}
            for i in range(40)
        ]
    )
    people = [person_id(api, f"p{i}") for i in range(40)]
    first = {}
    for pid in people:
        answer = api.post("/api/v1/journeys/retail-case/enroll", json={"person_id": pid})
        assert answer.status_code == 201 and answer.json()["enrolled"], answer.text
        first[pid] = answer.json()["enrollment"]["variant"]
    assert set(first.values()) == {"A", "B"}
    assert 8 <= sum(v == "A" for v in first.values()) <= 32
    # Enrolled again after leaving: the same variant, the template that goes with it.
    for pid in people[:10]:
        again = api.post("/api/v1/journeys/retail-case/enroll", json={"person_id": pid}).json()
        assert again["enrolled"] and again["enrollment"]["variant"] == first[pid]
    with read_only() as session:
        for pid, template_step in session.execute(
            select(Message.person_id, Message.idempotency_key).where(owned(Message, ws))
        ):
            assert template_step.split(":")[3] == f"send-{first[pid].lower()}"
    assert (
        api.post("/api/v1/journeys/nope/enroll", json={"person_id": people[0]}).status_code == 404
    )
    assert (
        api.post("/api/v1/journeys/retail-case/enroll", json={"person_id": 10**12}).status_code
        == 404
    )
    refused = api.post("/api/v1/journeys/retail-case/enroll", json={})
    assert refused.status_code == 422 and "person_id" in refused.json()["message"]
    # Someone never enrolled: the trigger, and whether the entry condition holds now.
    track.identify("outsider", {"email": "o@x.cn"})
    outsider = person_id(api, "outsider")
    why = api.get(f"/api/v1/journeys/retail-case/people/{outsider}").json()
    assert why["enrolled"] is False and why["journey"]["trigger"] == "api"
    assert why["journey"]["entry_condition_holds_now"] is None
    missing = api.get(f"/api/v1/journeys/nope/people/{outsider}")
    assert missing.status_code == 404 and missing.json()["code"] == "journey_not_found"


@pytest.mark.parametrize(
    ("reentry", "later", "again"),
    [
        ("never", timedelta(days=400), False),
        ("after_exit", timedelta(0), True),
        ("30d", timedelta(days=10), False),
        ("30d", timedelta(days=31), True),
    ],
)
def test_reentry_rules(
    api: TestClient,
    track: Tracker,
    workspace: NewWorkspace,
    reentry: str,
    later: timedelta,
    again: bool,
) -> None:
    ws = workspace.workspace_id
    journey = {
        "key": "nudge",
        "trigger": {"api": True},
        "reentry": reentry,
        "steps": [{"id": "tag", "add_tags": ["nudged"]}],
    }
    set_up(api, workspace, journey)
    track.identify("u1", {"email": "u1@bank.cn"})
    pid = person_id(api, "u1")

    now = utcnow()
    with unit_of_work() as session:
        version, found = journeys_of(session, ws) or (0, {})
        first = enroll(session, ws, version, found["nudge"], [Candidate(pid, "test", now)], now)
        advance(session, ws, first.enrolled, now)
    assert first.enrolled
    with unit_of_work() as session:
        second = enroll(
            session, ws, version, found["nudge"], [Candidate(pid, "test", now + later)], now + later
        )
    assert bool(second.enrolled) is again
    tags = api.get(f"/api/v1/people/{pid}/tags").json()["items"]
    assert [t["tag"] for t in tags if t["tag"] == "nudged"] == ["nudged"]


def test_a_person_is_never_in_two_places_of_one_journey(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, {**S1, "reentry": "after_exit"})
    track.identify("u1", {"email": "u1@bank.cn"})
    track.batch(
        [
            {"type": "track", "event": "Trial Requested", "userId": "u1", "messageId": f"m{i}"}
            for i in range(3)
        ]
    )
    track.track("Trial Requested", "u1")
    assert [e.state for e in enrollments(ws)] == ["active"]
    assert len(outbox(ws)) == 2


def test_triggers_older_than_max_age_never_enroll(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    fresh_enough = {**S1, "key": "week", "max_age": "7d"}
    set_up(api, workspace, S1, fresh_enough)
    track.identify("u1", {"email": "u1@bank.cn"})
    old = isoformat(utcnow() - timedelta(days=3))
    track.track("Trial Requested", "u1", timestamp=old)
    assert [e.journey_key for e in enrollments(ws)] == ["week"]


def test_running_a_claimed_batch_again_queues_no_message_twice(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, S1)
    track.batch(
        [
            {"type": "identify", "userId": f"p{i}", "traits": {"email": f"p{i}@x.cn"}}
            for i in range(5)
        ]
    )
    track.batch(
        [{"type": "track", "event": "Trial Requested", "userId": f"p{i}"} for i in range(5)]
    )
    later = utcnow() + timedelta(days=2)
    # A run killed before its commit: everything it did is undone, the steps are still due.
    with pytest.raises(RuntimeError), unit_of_work() as session:
        assert run_due_batch(session, ws, later).messages == 5
        raise RuntimeError("kill -9")
    assert len(outbox(ws)) == 10
    assert {e.step for e in enrollments(ws)} == {"welcome"}
    assert run_due(ws, later).messages == 5
    before = outbox(ws)
    # The same step run again for the same enrollments (a replay): the keys find the messages.
    with unit_of_work() as session:
        session.execute(
            update(Enrollment)
            .where(owned(Enrollment, ws))
            .values(state="active", step="note", ended_at=None)
        )
        advance(session, ws, [e.id for e in enrollments(ws)], later)
    assert outbox(ws) == before
    with read_only() as session:
        assert (
            session.scalar(select(func.count()).select_from(Message).where(owned(Message, ws)))
            == 15
        )


def _state(api: TestClient, ws: uuid.UUID) -> Any:
    """Enrollments and messages named by user id; variants are checked against the hash of the
    person (ids differ between workspaces, so the variants themselves are not compared)."""
    users = {person_id(api, f"p{i}"): f"p{i}" for i in range(12)}
    with read_only() as session:
        _, journeys = journeys_of(session, ws) or (0, {})
    rows = []
    for e in enrollments(ws):
        if e.variant is not None:
            split = journeys[e.journey_key].steps["ab"]
            assert journeys[e.journey_key].variant_of(split, e.person_id).variant == e.variant
            # Which arm (and so exit or completion) follows the variant.
            rows.append((users[e.person_id], e.journey_key, e.step))
            continue
        rows.append((users[e.person_id], e.journey_key, e.state, e.step))
    sent = sorted(
        (users[p or 0], c, k.split(":")[1], k.split(":")[3])
        for p, c, k in outbox(ws)
        if not k.startswith("journey:ab:")
    )
    return sorted(rows, key=str), sent


def test_many_in_one_batch_or_one_per_batch_reach_the_same_state(client: TestClient) -> None:
    from leadpond.playbooks.service import start_workspace

    journeys = (S1, {**SPLIT, "key": "ab", "trigger": {"event": "Trial Requested"}}, BRANCH)
    states = []
    for one_by_one in (False, True):
        with unit_of_work() as session:
            workspace = start_workspace(session, f"test-{uuid.uuid4().hex[:8]}")
        api = TestClient(client.app, headers={"Authorization": f"Bearer {workspace.api_key}"})
        tracker = Tracker(api, workspace)
        set_up(api, workspace, *journeys)
        calls = [
            {
                "type": "identify",
                "userId": f"p{i}",
                "traits": {"email": f"p{i}@x.cn", "industry": "retail" if i % 3 else "banking"},
            }
            for i in range(12)
        ]
        calls += [
            {"type": "track", "event": e, "userId": f"p{i}"}
            for i in range(12)
            for e in ("Trial Requested", "Whitepaper Downloaded")
        ]
        if one_by_one:
            for call in calls:
                tracker.batch([call])
        else:
            tracker.batch(calls)
        run_due(workspace.workspace_id, utcnow() + timedelta(days=1, minutes=5))
        states.append(_state(api, workspace.workspace_id))
    assert states[0] == states[1]
    assert len(states[0][1]) > 12


@pytest.mark.parametrize(
    ("journey", "where", "line"),
    [
        (
            {
                **S1,
                "steps": [{"id": "a", "wait": "1d", "send": {"channel": "sms", "template": "x"}}],
            },
            "journeys[0].steps[0]",
            True,
        ),
        (
            {**S1, "steps": [{"id": "a", "wait": "1d", "next": "a"}]},
            "journeys[0].steps[0].next",
            True,
        ),
        ({**S1, "if": {"persona": "nobody"}}, "journeys[0].if", True),
        ({**S1, "trigger": {"stage": "nowhere"}}, "journeys[0].trigger.stage", True),
        ({**S1, "time_zone": "Mars/Olympus"}, "journeys[0].time_zone", True),
        ({**S1, "steps": [{"id": "a", "add_points": {"nope": 1}}]}, "journeys[0].steps[0]", True),
        ({**S1, "steps": [{"id": "a", "set_stage": "nowhere"}]}, "journeys[0].steps[0]", True),
        ({**S1, "reentry": "sometimes"}, "journeys[0].reentry", True),
        (
            {
                **S1,
                "steps": [{"id": "a", "send": {"channel": "sms", "template": "x", "to": "owner"}}],
            },
            "journeys[0].steps[0].send",
            True,
        ),
        (
            {
                **S1,
                "steps": [
                    {"id": "a", "send": {"channel": "wecom", "template": "x", "on_duty": "u"}}
                ],
            },
            "journeys[0].steps[0].send",
            True,
        ),
    ],
)
def test_invalid_journeys_are_refused_with_their_path_and_line(
    backend: str, journey: dict[str, Any], where: str, line: bool
) -> None:
    source = yaml.dump(yaml.load(playbook_with(journey)))
    with pytest.raises(PlaybookInvalid) as raised:
        validate_playbook(source)
    first = raised.value.details["errors"][0]
    assert first["path"].startswith(where), first
    assert first["line"] is not None


ACTIONS = {
    "key": "qualify",
    "trigger": {"api": True},
    "steps": [
        {"id": "points", "add_points": {"engagement": 25}},
        {"id": "trait", "set_trait": {"lead_status": "qualified", "journey_note": "试用"}},
        {"id": "stage", "set_stage": "customer"},
        {"id": "tag", "add_tags": ["journey:qualified"]},
    ],
}


def test_points_stage_and_traits_go_through_the_log_and_survive_a_replay(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    from leadpond.pipeline import worker
    from leadpond.playbooks.service import replay_history

    set_up(api, workspace, ACTIONS)
    track.identify("u1", {"email": "u1@bank.cn"})
    pid = person_id(api, "u1")
    answer = api.post("/api/v1/journeys/qualify/enroll", json={"person_id": pid}).json()
    assert answer["enrollment"]["state"] == "completed"
    worker.drain()

    def seen() -> tuple[Any, ...]:
        scores = api.get(f"/api/v1/people/{pid}/scores").json()["items"]
        [engagement] = [s for s in scores if s["model"] == "engagement"]
        journey_points = [
            e for e in engagement["ledger"] if e["rule_id"] == "journey:qualify:points"
        ]
        stage = api.get(f"/api/v1/people/{pid}/stage").json()
        person = api.get(f"/api/v1/people/{pid}").json()
        tags = {t["tag"] for t in api.get(f"/api/v1/people/{pid}/tags").json()["items"]}
        return (
            [e["points"] for e in journey_points],
            stage["stage"],
            [h["to_stage"] for h in stage["history"] if h["rule_id"] == "journey:qualify:stage"],
            person["traits"].get("journey_note"),
            "journey:qualified" in tags,
        )

    before = seen()
    assert before == ([25.0], "customer", ["customer"], "试用", True)
    replay_history(workspace.workspace_id)
    assert seen() == before
    # Running the steps again writes no second action event.
    with unit_of_work() as session:
        session.execute(
            update(Enrollment)
            .where(owned(Enrollment, workspace.workspace_id))
            .values(state="active", step="points", ended_at=None)
        )
        advance(
            session,
            workspace.workspace_id,
            [e.id for e in enrollments(workspace.workspace_id)],
            utcnow(),
        )
    worker.drain()
    assert seen() == before


def test_a_merge_moves_enrollments_to_the_survivor_and_keeps_one_place(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, {**S1, "trigger": {"event": "Whitepaper Downloaded"}}, SPLIT)
    track.identify(traits={"email": "sun@acme.cn"}, anonymousId="web")
    track.track("Whitepaper Downloaded", anonymousId="web")
    track.identify(traits={"phone": "13700001111"}, anonymousId="wx")
    track.track("Whitepaper Downloaded", anonymousId="wx")
    [web] = api.get("/api/v1/people", params={"anonymous_id": "web"}).json()["items"]
    [wx] = api.get("/api/v1/people", params={"anonymous_id": "wx"}).json()["items"]
    # Only the merged-away one was in the split journey (and left it): its past follows.
    loser = max(web["id"], wx["id"])
    enrolled = api.post("/api/v1/journeys/retail-case/enroll", json={"person_id": loser})
    assert enrolled.json()["enrolled"]
    assert len([e for e in enrollments(ws) if e.state == "active"]) == 2
    # Variant A exits, B completes: which one depends on the person's id.
    [split_state] = [e.state for e in enrollments(ws) if e.journey_key == "retail-case"]
    track.identify(traits={"email": "sun@acme.cn", "phone": "13700001111"}, anonymousId="form")
    survivor = min(web["id"], wx["id"])
    found = {(e.journey_key, e.person_id, e.state) for e in enrollments(ws)}
    assert found == {
        ("trial-welcome", survivor, "active"),
        ("trial-welcome", survivor, "exited"),
        ("retail-case", survivor, split_state),
    }
    # The survivor's history now holds both: the step still due runs once, for the survivor.
    assert run_due(ws, utcnow() + timedelta(days=2)).messages == 1
    explained = api.get(f"/api/v1/people/{survivor}/journeys").json()["items"]
    assert any(s["kind"] == "merge" for e in explained for s in e["steps"])


def test_a_merge_chain_is_followed_and_a_merge_cycle_ends_the_walk(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, {**S1, "trigger": {"event": "Whitepaper Downloaded"}}, SPLIT)
    ids = {}
    for name in "abcde":
        track.identify(traits={"email": f"{name}@acme.cn"}, anonymousId=name)
        track.track("Whitepaper Downloaded", anonymousId=name)
        [person] = api.get("/api/v1/people", params={"anonymous_id": name}).json()["items"]
        ids[name] = person["id"]
    with unit_of_work() as session:
        # a into b into c (c live): two hops. d into e into d: a cycle, no live survivor.
        for loser, into in (("a", "b"), ("b", "c"), ("d", "e"), ("e", "d")):
            session.get_one(Person, ids[loser]).merged_into_id = ids[into]
        session.flush()
        people_reshaped(session, ws, {ids[n] for n in "abde"})
    held = {(e.person_id, e.state) for e in enrollments(ws)}
    assert {p for p, _ in held} == {ids["c"], ids["d"], ids["e"]}
    # c keeps its place; a's and b's active enrollments end there (one place per journey).
    assert sorted(s for p, s in held if p == ids["c"]) == ["active", "exited"]
    assert (ids["d"], "active") in held and (ids["e"], "active") in held


def test_tags_stages_key_events_and_segments_the_batch_produced_trigger_journeys(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(
        api,
        workspace,
        note("by-tag", {"tag": "need:evaluation"}, "wecom", "trial-note"),
        note("by-stage", {"stage": "opportunity"}, "wecom", "trial-note"),
        note("by-key-event", {"event": "Hand Raised"}, "wecom", "trial-note"),
        note("by-segment", {"segment": "hot-leads"}, "wecom", "trial-note"),
        note("by-other-tag", {"tag": "value:customer"}, "wecom", "trial-note"),
    )
    track.identify("u1", {"email": "u1@bank.cn"})
    track.batch(
        [
            {"type": "track", "event": "Trial Requested", "userId": "u1"},
            {"type": "track", "event": "Demo Requested", "userId": "u1"},
        ]
    )
    entered = {e.journey_key: e.reason for e in enrollments(ws)}
    assert set(entered) == {"by-tag", "by-stage", "by-key-event", "by-segment"}, entered
    assert entered["by-segment"] == "entered segment hot-leads"
    assert entered["by-key-event"].startswith("event Hand Raised")


def test_the_goal_takes_people_out_before_the_next_step(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, {**S1, "goal": {"trait": "lead_status", "eq": "won"}})
    track.identify("u1", {"email": "u1@bank.cn"})
    track.identify("u2", {"email": "u2@bank.cn"})
    track.batch([{"type": "track", "event": "Trial Requested", "userId": u} for u in ("u1", "u2")])
    track.identify("u1", {"lead_status": "won"})
    assert run_due(ws, utcnow() + timedelta(days=1, minutes=1)).messages == 1
    states = {e.person_id: e.state for e in enrollments(ws)}
    assert states == {person_id(api, "u1"): "goal", person_id(api, "u2"): "completed"}
    emails = [p for p, c, _ in outbox(ws) if c == "email"]
    assert emails == [person_id(api, "u2")]


def test_wait_until_a_local_time_of_day(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    journey = {
        **S1,
        "time_zone": "Asia/Shanghai",
        "steps": [
            {"id": "morning", "wait_until": "09:30"},
            {"id": "welcome", "send": {"channel": "email", "template": "welcome"}},
        ],
    }
    set_up(api, workspace, journey)
    track.identify("u1", {"email": "u1@bank.cn"})
    track.track("Trial Requested", "u1")
    [enrollment] = enrollments(ws)
    # 09:30 in Shanghai is 01:30 UTC, within the next day.
    assert (enrollment.due_at.hour, enrollment.due_at.minute) == (1, 30)
    assert timedelta(0) <= enrollment.due_at - enrollment.entered_at <= timedelta(days=1)
    assert run_due(ws, enrollment.due_at - timedelta(seconds=1)).steps == 0
    assert run_due(ws, enrollment.due_at).messages == 1


def test_the_worker_thread_runs_due_steps(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    import time

    from leadpond.journeys.runner import JourneyRunner

    ws = workspace.workspace_id
    set_up(api, workspace, {**S1, "steps": [{"id": "soon", "wait": "1s"}, *S1["steps"][:1]]})
    track.identify("u1", {"email": "u1@bank.cn"})
    track.track("Trial Requested", "u1")
    assert outbox(ws) == []
    runner = JourneyRunner(tick_s=0.2)
    thread = runner.start_thread()
    try:
        deadline = time.monotonic() + 15
        while not outbox(ws) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        runner.stop()
        thread.join(timeout=10)
    assert [c for _, c, _ in outbox(ws)] == ["wecom"]
