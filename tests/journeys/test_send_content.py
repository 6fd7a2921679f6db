"""Recommend-and-send (``send_content``), live through the engine on both databases: each
person gets their next best item with a tracked link per person × item (channel
``journey:<key>``), the step log and explain say which item and why, a second pick leaves out
what was sent, nothing left goes to ``fallback``, running the step again makes no second link
or message, and a click on the link records the journey's channel. The dry-run of the same
history reports what the live run did and keeps nothing (no link, no message)."""

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadpond.acquisition.models import TrackingLink
from leadpond.channels.models import Message
from leadpond.db.engine import read_only, rolled_back, unit_of_work
from leadpond.ingest.models import Event
from leadpond.journeys.dryrun import dry_run
from leadpond.journeys.engine import _load
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.nextcontent import send_content
from leadpond.journeys.runner import run_due
from leadpond.journeys.service import journeys_of
from leadpond.journeys.steps import StepRun
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.content.test_content_api import make
from tests.journeys.conftest import explained_steps, live_as_dry, messages, person_id, set_up

CONTENT_MAIL = {
    "key": "content-mail",
    "channel": "email",
    "subject": "{{ content.title }}",
    "body": (
        "{% for item in items %}<p><a href='{{ item.url }}'>{{ item.title }}</a> "
        "{{ item.summary }}</p>{% endfor %}<a href='{{ unsubscribe_url }}'>退订</a>"
    ),
}


def _nurture(trigger: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": "nurture",
        "trigger": trigger,
        "steps": [
            {
                "id": "first",
                "send_content": {
                    "channel": "email",
                    "template": "content-mail",
                    "topic": "graph_database",
                },
            },
            {
                "id": "more",
                "send_content": {
                    "channel": "email",
                    "template": "content-mail",
                    "limit": 2,
                    "topic": "graph_database",
                    "fallback": "none-left",
                },
                "next": "exit",
            },
            {"id": "none-left", "add_tags": ["content:exhausted"]},
        ],
    }


def _reader(track: Tracker, user_id: str) -> None:
    """Someone who read a graph-database item (an interest in the topic, and a stage)."""
    track.identify(user_id, traits={"email": f"{user_id}@bank.cn", "name": user_id})
    track.track(
        "Content Viewed",
        user_id,
        {"content_id": "seen-graph", "content_category": "product", "topic": "graph_database"},
    )


def _pool(api: TestClient, stage: str) -> None:
    make(api, key="seen-graph", type="case", topics=["graph_database"], stages=[stage])
    make(
        api,
        key="graph-best",
        title="图数据库最佳实践",
        summary="十个案例",
        type="case",
        topics=["graph_database"],
        stages=[stage],
    )
    make(api, key="graph-next", type="whitepaper", topics=["graph_database"], stages=["advocate"])
    make(api, key="bi-same-stage", type="tips", topics=["bi"], stages=[stage])


def _count(ws: uuid.UUID, table: Any) -> int:
    with read_only() as session:
        return session.scalar(select(func.count()).select_from(table).where(owned(table, ws))) or 0


def test_each_person_gets_their_next_item_with_a_tracked_link(
    api: TestClient, client: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    assert api.post("/api/v1/templates", json=CONTENT_MAIL).status_code == 201
    set_up(api, workspace, _nurture({"api": True}))
    ws = workspace.workspace_id
    _reader(track, "u-1")
    pid = person_id(api, "u-1")
    stage = api.get(f"/api/v1/people/{pid}/stage").json()["stage"]
    _pool(api, stage)
    answer = api.post("/api/v1/journeys/nurture/enroll", json={"person_id": pid})
    assert answer.status_code == 201, answer.text
    steps = explained_steps(api, "nurture", pid)
    [first] = steps["first"]["detail"]["items"]
    assert first["key"] == "graph-best"
    assert {(r["code"], r["value"]) for r in first["reasons"]} >= {
        ("stage", stage),
        ("interest", "graph_database"),
    }
    # The second pick leaves out what the first sent; the topic filter keeps bi out.
    assert [i["key"] for i in steps["more"]["detail"]["items"]] == ["graph-next"]
    sent = messages(ws)
    assert [m.variables["content"]["key"] for m in sent] == ["graph-best", "graph-next"]
    assert sent[0].variables["content"]["title"] == "图数据库最佳实践"
    url = sent[0].variables["content"]["url"]
    code = url.rsplit("/l/", 1)[1]
    assert code == first["link"]
    with read_only() as session:
        links = list(session.scalars(select(TrackingLink).where(owned(TrackingLink, ws))))
        assert sorted(link.channel for link in links) == ["journey:nurture"] * 2
        assert all(f"lk={link.code}" in link.target for link in links)
    # The same step run again for the same enrollment (a retry): no second link or message.
    with unit_of_work() as session:
        [eid] = session.scalars(select(Enrollment.id).where(owned(Enrollment, ws)))
        _, journeys = journeys_of(session, ws) or (0, {})
        journey = journeys["nurture"]
        [row] = _load(session, [eid])
        row.step = "first"
        send_content(StepRun(session, ws, journey, journey.steps["first"], utcnow()), [row])
    assert _count(ws, TrackingLink) == 2 and len(messages(ws)) == 2
    # A click records the journey as the channel.
    clicked = client.get(f"/l/{code}", follow_redirects=False)
    assert clicked.status_code == 302
    with read_only() as session:
        [props] = session.scalars(
            select(Event.payload).where(owned(Event, ws), Event.event == "Link Clicked")
        )
    assert props["properties"]["channel"] == "journey:nurture"
    # Nothing left to recommend (they read every graph item): the fallback, nothing sent.
    _reader(track, "u-2")
    for key in ("graph-best", "graph-next"):
        track.track("Content Viewed", "u-2", {"content_id": key, "topic": "graph_database"})
    other = person_id(api, "u-2")
    assert api.post("/api/v1/journeys/nurture/enroll", json={"person_id": other}).status_code == 201
    steps = explained_steps(api, "nurture", other)
    assert steps["first"]["detail"]["skipped"] == "nothing_left"
    assert steps["more"]["detail"]["skipped"] == "nothing_left"
    assert "none-left" in steps
    assert len(messages(ws)) == 2


def test_without_its_template_the_step_makes_no_link(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    set_up(api, workspace, _nurture({"api": True}))
    _reader(track, "u-1")
    pid = person_id(api, "u-1")
    _pool(api, api.get(f"/api/v1/people/{pid}/stage").json()["stage"])
    assert api.post("/api/v1/journeys/nurture/enroll", json={"person_id": pid}).status_code == 201
    steps = explained_steps(api, "nurture", pid)
    assert steps["first"]["detail"]["skipped"] == "no_template"
    assert _count(workspace.workspace_id, TrackingLink) == 0
    assert messages(workspace.workspace_id) == []


def test_the_dry_run_reports_what_the_live_run_did_and_keeps_nothing(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    assert api.post("/api/v1/templates", json=CONTENT_MAIL).status_code == 201
    set_up(api, workspace, _nurture({"event": "Nurture Me"}))
    ws = workspace.workspace_id
    started = utcnow()
    for i in range(3):
        _reader(track, f"u-{i}")
    stage = api.get(f"/api/v1/people/{person_id(api, 'u-0')}/stage").json()["stage"]
    _pool(api, stage)
    track.identify("cold", traits={"email": "cold@bank.cn"})
    for user in ("u-0", "u-1", "u-2", "cold"):
        track.track("Nurture Me", user, {})
    later = utcnow() + timedelta(minutes=5)
    run_due(ws, later)
    live = live_as_dry(ws, "nurture")
    assert live["messages"] == {"email content-mail": 8}
    before = tuple(_count(ws, t) for t in (Enrollment, StepLog, Message, TrackingLink))
    with rolled_back() as session:
        report = dry_run(session, ws, "nurture", started - timedelta(minutes=1), later)
    assert tuple(_count(ws, t) for t in (Enrollment, StepLog, Message, TrackingLink)) == before
    dry = {
        "enrolled": report.enrolled,
        "states": report.states,
        "steps": report.steps,
        "messages": report.messages,
        "paths": {
            p["person_id"]: [f"{s['step']}:{s['kind']}:{s.get('arm')}" for s in p["path"]]
            for p in report.people
        },
    }
    assert dry == live
