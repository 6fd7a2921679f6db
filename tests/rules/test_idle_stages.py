"""Idle stage rules: "dormant after 90 days without activity", live, swept, and replayed alike."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.db.engine import read_only
from leadpond.kit.clock import isoformat, utcnow
from leadpond.pipeline.sweep import sweep_idle_stages
from leadpond.playbooks.service import default_source
from leadpond.segments.models import SegmentMember
from tests.conftest import Tracker, finish_job
from tests.rules.helpers import person_id, stage, state


def _visit(user_id: str, at: datetime, **traits: Any) -> list[dict[str, Any]]:
    """An identified person's page view."""
    stamp = isoformat(at)
    return [
        {"type": "identify", "userId": user_id, "traits": traits, "timestamp": stamp},
        {
            "type": "page",
            "userId": user_id,
            "name": "Home",
            "properties": {"path": "/"},
            "timestamp": stamp,
        },
    ]


def _dormancies(api: TestClient, pid: int) -> list[dict[str, Any]]:
    return [h for h in stage(api, pid)["history"] if h["to_stage"] == "dormant"]


def test_old_history_arrives_already_dormant_at_the_moment_it_went_quiet(
    track: Tracker, api: TestClient
) -> None:
    last = (utcnow() - timedelta(days=120)).replace(microsecond=0)
    track.batch(_visit("quiet", last))
    pid = person_id(api, user_id="quiet")
    assert stage(api, pid)["stage"] == "dormant"
    [change] = _dormancies(api, pid)
    assert change["from_stage"] == "visit"
    assert datetime.fromisoformat(change["at"]).replace(tzinfo=None) == last + timedelta(days=90)
    assert "no activity for 90d" in change["reason"]
    assert change["event_id"] is None


def test_a_new_event_revives_a_dormant_person(track: Tracker, api: TestClient) -> None:
    track.batch(_visit("back", utcnow() - timedelta(days=200)))
    pid = person_id(api, user_id="back")
    assert stage(api, pid)["stage"] == "dormant"
    track.batch(_visit("back", utcnow() - timedelta(minutes=5)))
    assert stage(api, pid)["stage"] == "visit"
    assert [h["to_stage"] for h in stage(api, pid)["history"]][-2:] == ["dormant", "visit"]


def test_the_sweep_moves_people_when_their_quiet_period_ends_and_agrees_with_a_backfill(
    track: Tracker, api: TestClient
) -> None:
    last = (utcnow() - timedelta(days=60)).replace(microsecond=0)
    track.batch(_visit("soon", last) + _visit("active", utcnow() - timedelta(days=1)))
    soon, active = person_id(api, user_id="soon"), person_id(api, user_id="active")
    sweep_idle_stages()
    assert stage(api, soon)["stage"] == "visit"

    later = utcnow() + timedelta(days=31)
    reports = sweep_idle_stages(now=later)
    assert soon in next(iter(r.moved for r in reports.values() if soon in r.moved))
    assert stage(api, soon)["stage"] == "dormant"
    assert datetime.fromisoformat(_dormancies(api, soon)[0]["at"]).replace(
        tzinfo=None
    ) == last + timedelta(days=90)
    assert stage(api, active)["stage"] == "visit"
    # The watermark: a second sweep looks at nobody new and changes nothing.
    again = sweep_idle_stages(now=later + timedelta(minutes=1))
    assert all(not r.moved for r in again.values())
    assert len(_dormancies(api, soon)) == 1


DORMANT_RULE = "  - to: dormant"


def _apply(api: TestClient, source: str) -> None:
    response = api.post(
        "/api/v1/playbook", content=source, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text


def test_a_new_idle_rule_is_caught_up_by_the_sweep_exactly_as_a_backfill_would(
    track: Tracker, api: TestClient
) -> None:
    source = default_source()
    assert DORMANT_RULE in source
    _apply(api, source.split(DORMANT_RULE)[0] + source[source.index("\npersonas:") :])
    last = (utcnow() - timedelta(days=200)).replace(microsecond=0)
    track.batch(_visit("old", last, email="old@bank.cn"))
    pid = person_id(api, user_id="old")
    assert stage(api, pid)["stage"] == "registered"

    _apply(api, source)  # the dormant rule arrives, without a backfill
    assert stage(api, pid)["stage"] == "registered"
    sweep_idle_stages()
    assert stage(api, pid)["stage"] == "dormant"
    assert datetime.fromisoformat(_dormancies(api, pid)[0]["at"]).replace(
        tzinfo=None
    ) == last + timedelta(days=90)
    swept = state(api, pid)
    finish_job(api, api.post("/api/v1/rules/backfill"))
    assert state(api, pid) == swept


def test_a_sticky_stage_never_goes_dormant(track: Tracker, api: TestClient) -> None:
    track.batch(
        _visit("gone", utcnow() - timedelta(days=300), lead_status="disqualified"),
    )
    pid = person_id(api, user_id="gone")
    sweep_idle_stages(now=utcnow() + timedelta(days=1))
    assert stage(api, pid)["stage"] == "disqualified"
    assert _dormancies(api, pid) == []


def test_customers_do_not_go_dormant(track: Tracker, api: TestClient) -> None:
    long_ago = utcnow() - timedelta(days=200)
    track.batch(
        [
            *_visit("buyer", long_ago),
            {
                "type": "track",
                "userId": "buyer",
                "event": "Order Completed",
                "timestamp": isoformat(long_ago + timedelta(hours=1)),
            },
        ]
    )
    pid = person_id(api, user_id="buyer")
    sweep_idle_stages(now=utcnow() + timedelta(days=1))
    assert stage(api, pid)["stage"] == "customer"
    assert _dormancies(api, pid) == []


def test_the_sweep_updates_segments_that_read_the_stage(track: Tracker, api: TestClient) -> None:
    created = api.post(
        "/api/v1/segments",
        json={"key": "sleepers", "name": "Sleepers", "condition": {"stage": {"in": ["dormant"]}}},
    )
    assert created.status_code in (200, 201), created.text
    segment_id = created.json()["id"]
    track.batch(_visit("sleeper", utcnow() - timedelta(days=80)))
    pid = person_id(api, user_id="sleeper")
    with read_only() as session:
        members = set(
            session.scalars(
                select(SegmentMember.person_id).where(SegmentMember.segment_id == segment_id)
            )
        )
    assert pid not in members
    sweep_idle_stages(now=utcnow() + timedelta(days=11))
    with read_only() as session:
        members = set(
            session.scalars(
                select(SegmentMember.person_id).where(SegmentMember.segment_id == segment_id)
            )
        )
    assert pid in members


@pytest.mark.parametrize("idle", ["soon", "90", "-3d"])
def test_an_invalid_idle_period_is_rejected_with_its_path(api: TestClient, idle: str) -> None:
    source = default_source().replace("    idle: 90d", f"    idle: {idle!r}")
    response = api.post(
        "/api/v1/playbook/validate", content=source, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 422, response.text
    assert "idle" in response.text


def test_history_arriving_out_of_order_gives_what_time_order_gives(
    track: Tracker, api: TestClient
) -> None:
    days = (250, 140, 20)  # quiet gaps of 110 and 120 days: dormant twice, revived twice
    moments = [(utcnow() - timedelta(days=d)).replace(microsecond=0) for d in days]
    track.batch([call for at in moments for call in _visit("ordered", at, email="o@bank.cn")])
    for at in (moments[2], moments[0], moments[1]):  # newest first, one drained batch each
        track.batch(_visit("shuffled", at, email="s@bank.cn"))
    ordered = state(api, person_id(api, user_id="ordered"))
    shuffled = state(api, person_id(api, user_id="shuffled"))
    assert shuffled == ordered
    assert [h[1] for h in ordered["stage"]].count("dormant") == 2
