"""The triggers beyond events (a tag removed, a segment exited, a score threshold crossed, a
cron schedule over a segment), entry limits, and waiting for an event with a timeout — live,
and in the dry-run — on both databases."""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from leadpond.db.engine import read_only, rolled_back, unit_of_work
from leadpond.journeys.dryrun import dry_run
from leadpond.journeys.models import JourneySchedule
from leadpond.journeys.runner import run_due
from leadpond.journeys.schedules import fire_schedules
from leadpond.kit import yaml
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import InvalidInput
from leadpond.kit.scope import owned
from leadpond.playbooks.service import (
    PlaybookInvalid,
    apply_playbook,
    default_source,
    start_workspace,
)
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.journeys.conftest import enrollments, live_as_dry, note, outbox, person_id, set_up


def _document(*journeys: dict[str, Any]) -> str:
    """The default playbook with a VIP segment, a score model with a threshold, and these
    journeys."""
    document = yaml.load(default_source())
    document["segments"].append({"key": "vip", "if": {"trait": "tier", "eq": "vip"}})
    document["score_models"].append(
        {
            "key": "intent",
            "thresholds": [{"at": 20, "emit": "Intent Reached"}],
            "rules": [{"id": "big-ask", "on": {"event": "Big Ask"}, "points": 15}],
        }
    )
    document["journeys"] = list(journeys)
    return json.dumps(document, ensure_ascii=False)


def test_a_tag_removed_a_segment_exited_and_a_threshold_crossed_enroll(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(
        api,
        workspace,
        document=_document(
            note("tag-gone", {"tag_removed": "need:evaluation"}),
            note("left-vip", {"segment_exited": "vip"}),
            note("intent", {"score": {"model": "intent", "gte": 20}}),
        ),
    )
    track.identify("u1", {"email": "u1@bank.cn", "tier": "vip"})
    track.track("Trial Requested", "u1")  # the rule adds need:evaluation
    assert enrollments(ws) == []
    track.track("Deal Updated", "u1", {"stage": "closed_won"})  # … and another takes it off
    track.track("Big Ask", "u1")  # intent 15: below the threshold
    assert [e.journey_key for e in enrollments(ws)] == ["tag-gone"]
    track.track("Big Ask", "u1")  # 30: crossed 20
    track.identify("u1", {"tier": "basic"})  # left the segment
    entered = {e.journey_key: e.reason for e in enrollments(ws)}
    assert entered == {
        "tag-gone": "tag need:evaluation removed",
        "intent": "score intent@20 reached (Intent Reached)",
        "left-vip": "exited segment vip",
    }
    pid = person_id(api, "u1")
    assert [p for p, c, _ in outbox(ws)] == [pid, pid, pid]
    # Crossing again later (once per threshold) and a person never in vip enroll no one.
    track.track("Big Ask", "u1")
    track.identify("u2", {"email": "u2@bank.cn", "tier": "basic"})
    assert len(enrollments(ws)) == 3


def test_a_score_trigger_names_an_existing_threshold(workspace: NewWorkspace) -> None:
    bad = _document(note("x", {"score": {"model": "intent", "gte": 30}}))
    try:
        with unit_of_work() as session:
            apply_playbook(session, workspace.workspace_id, bad, actor="test")
    except PlaybookInvalid as exc:
        assert "no threshold at 30" in str(exc), exc
        assert "trigger.score.gte" in str(exc)
    else:
        raise AssertionError("applied a score trigger on no threshold")
    cron = _document(note("y", {"schedule": {"cron": "every monday", "segment": "vip"}}))
    try:
        with unit_of_work() as session:
            apply_playbook(session, workspace.workspace_id, cron, actor="test")
    except PlaybookInvalid as exc:
        assert "cron" in str(exc), exc
    else:
        raise AssertionError("applied a bad cron expression")


def _next_monday_nine(zone: str) -> datetime:
    """The next Monday 09:00 in ``zone`` after now, as naive UTC."""
    local = utcnow().replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        nine = datetime(day.year, day.month, day.day, 9, 0, tzinfo=ZoneInfo(zone))
        if day.weekday() == 0 and nine > local:
            return nine.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    raise AssertionError("no Monday within a week")


def test_a_schedule_enrolls_the_segment_once_per_occurrence_in_the_journey_zone(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    weekly = note(
        "weekly",
        {"schedule": {"cron": "0 9 * * 1", "segment": "vip"}},
        time_zone="Asia/Shanghai",
        reentry="after_exit",
    )
    set_up(api, workspace, document=_document(weekly))
    track.identify("u1", {"email": "u1@bank.cn", "tier": "vip"})
    track.identify("u2", {"email": "u2@bank.cn", "tier": "vip"})
    track.identify("u3", {"email": "u3@bank.cn", "tier": "basic"})
    monday = _next_monday_nine("Asia/Shanghai")
    assert run_due(ws, monday - timedelta(minutes=1)).scheduled == 0
    assert enrollments(ws) == []
    done = run_due(ws, monday + timedelta(minutes=1))
    assert (done.scheduled, done.messages) == (2, 0) or done.scheduled == 2
    assert sorted(p for p, _, _ in outbox(ws)) == sorted(
        [person_id(api, "u1"), person_id(api, "u2")]
    )
    # A second worker (or run) at the same moment fires nothing more.
    with unit_of_work() as session:
        assert fire_schedules(session, ws, monday + timedelta(minutes=2)) == []
    assert run_due(ws, monday + timedelta(hours=1)).scheduled == 0
    # The next week's occurrence fires again (they completed: after_exit lets them in).
    assert run_due(ws, monday + timedelta(days=7, minutes=1)).scheduled == 2
    with read_only() as session:
        [row] = session.scalars(select(JourneySchedule).where(owned(JourneySchedule, ws)))
        assert row.last_fired == monday + timedelta(days=7)
    assert len(outbox(ws)) == 4


def test_entry_limits_cap_the_total_and_spread_the_rate(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(
        api,
        workspace,
        document=_document(
            note("capped", {"event": "Trial Requested"}, limits={"total": 2}),
            note("paced", {"event": "Demo Requested"}, limits={"per_second": 2}),
        ),
    )
    for u in ("u1", "u2", "u3"):
        track.identify(u, {"email": f"{u}@bank.cn"})
    track.batch(
        [{"type": "track", "event": "Trial Requested", "userId": u} for u in ("u1", "u2", "u3")]
    )
    track.track("Trial Requested", "u3")
    capped = [e for e in enrollments(ws) if e.journey_key == "capped"]
    assert [e.person_id for e in capped] == [person_id(api, "u1"), person_id(api, "u2")]
    track.batch(
        [{"type": "track", "event": "Demo Requested", "userId": u} for u in ("u1", "u2", "u3")]
    )
    paced = [e for e in enrollments(ws) if e.journey_key == "paced"]
    assert len(paced) == 3
    starts = sorted(e.due_at - e.entered_at for e in paced)
    assert starts[:2] == [timedelta(0), timedelta(0)] and starts[2] == timedelta(seconds=1)
    # Two sent at once, the third a second later: delayed, not dropped.
    assert sum(1 for e in paced if e.state == "completed") == 2
    later = max(e.due_at for e in paced)
    assert run_due(ws, later).messages == 1
    assert all(e.state == "completed" for e in enrollments(ws) if e.journey_key == "paced")


WAITS = {
    "key": "demo-wait",
    "trigger": {"event": "Trial Requested"},
    "steps": [
        {
            "id": "await-demo",
            "wait_for": {
                "event": "Demo Requested",
                "where": {"seats": {"gte": 5}},
                "timeout": "3d",
                "goto_timeout": "nudge",
            },
        },
        {"id": "thanks", "send": {"channel": "email", "template": "welcome"}, "next": "exit"},
        {"id": "nudge", "send": {"channel": "email", "template": "case-a"}},
    ],
}


def test_wait_for_an_event_goes_on_when_it_comes_or_times_out(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, document=_document(WAITS))
    for u in ("u1", "u2", "u3", "u4"):
        track.identify(u, {"email": f"{u}@bank.cn"})
    track.track("Demo Requested", "u3", {"seats": 9})  # before the wait: does not count
    track.batch(
        [
            {"type": "track", "event": "Trial Requested", "userId": u}
            for u in ("u1", "u2", "u3", "u4")
        ]
    )
    assert outbox(ws) == []
    track.track("Demo Requested", "u1", {"seats": 10})  # woken at once
    track.track("Demo Requested", "u4", {"seats": 1})  # not the awaited one (where)
    by_person = {e.person_id: e for e in enrollments(ws)}
    assert by_person[person_id(api, "u1")].state == "exited"
    assert [p for p, _, _ in outbox(ws)] == [person_id(api, "u1")]
    assert run_due(ws, utcnow() + timedelta(days=2)).messages == 0
    assert run_due(ws, utcnow() + timedelta(days=3, minutes=5)).messages == 3
    states = {e.person_id: (e.state, e.waiting_since) for e in enrollments(ws)}
    assert states == {
        person_id(api, "u1"): ("exited", None),
        person_id(api, "u2"): ("completed", None),
        person_id(api, "u3"): ("completed", None),
        person_id(api, "u4"): ("completed", None),
    }
    explained = api.get(f"/api/v1/journeys/demo-wait/people/{person_id(api, 'u1')}").json()
    kinds = [s["kind"] for s in explained["items"][0]["steps"]]
    assert kinds[:3] == ["entered", "wait", "wait_for"], kinds


def test_a_dry_run_replays_waits_for_events_as_the_live_run_did(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, document=_document(WAITS))
    started = utcnow()
    for u in ("u1", "u2", "u3"):
        track.identify(u, {"email": f"{u}@bank.cn"})
        track.track("Trial Requested", u)
    track.track("Demo Requested", "u2", {"seats": 6})
    later = utcnow() + timedelta(days=3, minutes=5)
    run_due(ws, later)
    live = live_as_dry(ws, "demo-wait")
    assert live["steps"]["await-demo → event"] == 1
    assert live["steps"]["await-demo → timeout"] == 2
    with rolled_back() as session:
        report = dry_run(session, ws, "demo-wait", started - timedelta(minutes=1), later)
    assert report.states == live["states"]
    assert report.steps == live["steps"]


def test_a_tag_removed_journey_cannot_be_dry_run(api: TestClient, workspace: NewWorkspace) -> None:
    set_up(api, workspace, document=_document(note("tag-gone", {"tag_removed": "need:evaluation"})))
    with rolled_back() as session:
        try:
            dry_run(
                session, workspace.workspace_id, "tag-gone", utcnow() - timedelta(days=1), utcnow()
            )
        except InvalidInput as exc:
            assert "removes a tag" in exc.message
        else:
            raise AssertionError("dry-ran a tag_removed journey")


def test_two_runners_at_once_fire_an_occurrence_once(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    import threading

    ws = workspace.workspace_id
    weekly = note(
        "weekly",
        {"schedule": {"cron": "0 9 * * 1", "segment": "vip"}},
        time_zone="Asia/Shanghai",
        reentry="after_exit",  # people complete at once: only the claim keeps them from a 2nd
    )
    set_up(api, workspace, document=_document(weekly))
    for u in ("u1", "u2", "u3"):
        track.identify(u, {"email": f"{u}@bank.cn", "tier": "vip"})
    moment = _next_monday_nine("Asia/Shanghai") + timedelta(minutes=1)
    barrier = threading.Barrier(2)
    fired: list[int] = []

    def runner() -> None:
        barrier.wait()
        with unit_of_work() as session:
            fired.append(len(fire_schedules(session, ws, moment)))

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fired) == [0, 3]
    # The firing enrolled them; their first steps are the runner's, like any due step.
    assert outbox(ws) == []
    run_due(ws, moment)
    assert len(outbox(ws)) == 3


def test_a_dry_run_of_a_schedule_replays_each_occurrence(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    weekly = note(
        "weekly", {"schedule": {"cron": "0 9 * * 1", "segment": "vip"}}, reentry="after_exit"
    )
    set_up(api, workspace, document=_document(weekly))
    started = utcnow()
    track.identify("u1", {"email": "u1@bank.cn", "tier": "vip"})
    track.identify("u2", {"email": "u2@bank.cn", "tier": "basic"})
    monday = _next_monday_nine("Asia/Shanghai")
    run_due(ws, monday + timedelta(minutes=1))
    run_due(ws, monday + timedelta(days=7, minutes=1))
    live = live_as_dry(ws, "weekly")
    assert live["states"] == {"completed": 2}
    with rolled_back() as session:
        report = dry_run(session, ws, "weekly", started, monday + timedelta(days=7, minutes=2))
    assert (report.triggered, report.enrolled) == (2, 2)
    assert report.states == live["states"] and report.steps == live["steps"]


def test_a_rate_limit_holds_back_only_those_not_yet_started(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, document=_document({**WAITS, "limits": {"per_second": 1}}))
    for u in ("u1", "u2", "u3"):
        track.identify(u, {"email": f"{u}@bank.cn"})
    track.batch([{"type": "track", "event": "Trial Requested", "userId": u} for u in ("u1", "u2")])
    first = {e.person_id: e for e in enrollments(ws)}
    waiting = first[person_id(api, "u1")]
    assert waiting.waiting_since is not None  # began its 3-day wait
    held = first[person_id(api, "u2")]
    assert held.due_at == held.entered_at + timedelta(seconds=1) and held.waiting_since is None
    track.track("Trial Requested", "u3")
    [third] = [e for e in enrollments(ws) if e.person_id == person_id(api, "u3")]
    # After the one held back (if still held: a slow machine may have passed it), not after
    # the first one's 3-day timeout.
    # It starts (its wait begins) then; if nobody was held any more, it started at once and is
    # now due at its own 3-day timeout.
    started = third.waiting_since if third.waiting_since is not None else third.due_at
    assert third.entered_at <= started
    assert started <= max(held.due_at + timedelta(seconds=1), third.entered_at)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(
        st.tuples(st.sampled_from(["none", "before", "after"]), st.sampled_from([1, 9])),
        min_size=1,
        max_size=5,
    )
)
def test_any_history_of_waits_dry_runs_as_it_ran_live(
    client: TestClient, people: list[tuple[str, int]]
) -> None:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"wait-{uuid.uuid4().hex[:8]}")
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    set_up(client, workspace, document=_document(WAITS))
    track = Tracker(client, workspace)
    started = utcnow()
    for i, (demo, seats) in enumerate(people):
        track.identify(f"u{i}", {"email": f"u{i}@acme.cn"})
        if demo == "before":
            track.track("Demo Requested", f"u{i}", {"seats": seats})
        track.track("Trial Requested", f"u{i}")
        if demo == "after":
            track.track("Demo Requested", f"u{i}", {"seats": seats})
    ws = workspace.workspace_id
    later = utcnow() + timedelta(days=3, minutes=5)
    run_due(ws, later)
    live = live_as_dry(ws, "demo-wait")
    came = sum(1 for demo, seats in people if demo == "after" and seats >= 5)
    assert live["steps"].get("await-demo → event", 0) == came
    with rolled_back() as session:
        report = dry_run(session, ws, "demo-wait", started - timedelta(minutes=1), later)
    assert (report.states, report.steps) == (live["states"], live["steps"])
