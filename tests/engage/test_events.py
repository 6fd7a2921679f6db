"""Events (issue #18, S3): registration on the H5 page, badge QR, check-in by badge and by
mobile (idempotent), booth and session check-in points, the default playbook's points and
tags, approval, capacity and the waitlist, the confirmation through the outbox; on both
databases."""

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadpond.channels.models import Message
from leadpond.db.engine import read_only, unit_of_work
from leadpond.jobs.models import Job
from leadpond.jobs.runner import JobRunner
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.engage.events_world import (
    MOBILE,
    conference,
    create,
    events_named,
    people_with,
    register_on_page,
    score_of,
    tags_of,
)


def _key() -> str:
    return f"conf-{uuid.uuid4().hex[:8]}"


def test_register_check_in_and_visit_a_booth_gives_points_and_tags(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    event = create(api, conference(_key()))
    html, token = register_on_page(client, event["key"])
    assert token and "报名成功" in html and "<svg" in html
    again, token_again = register_on_page(client, event["key"], mobile="+86 138 0013 8000")
    assert token_again and "报名成功" in again  # the same person: the same registration
    listed = api.get(f"/api/v1/events/{event['id']}/registrations").json()
    assert listed["total"] == 1 and listed["items"][0]["phone"] == "+8613800138000"

    first = api.post(f"/api/v1/events/{event['id']}/checkins", json={"badge_token": token})
    assert first.status_code == 200, first.text
    assert first.json()["already_checked_in"] is False
    retry = api.post(f"/api/v1/events/{event['id']}/checkins", json={"badge_token": token})
    assert retry.json()["already_checked_in"] is True
    by_mobile = api.post(f"/api/v1/events/{event['id']}/checkins", json={"mobile": MOBILE})
    assert by_mobile.json()["already_checked_in"] is True and by_mobile.json()["walk_in"] is False

    points = {p["point"]: p for p in api.post(f"/api/v1/events/{event['id']}/points").json()}
    booth_url = points["booth:b1"]["url"].split("://", 1)[1].split("/", 1)[1]
    visited = client.get(f"/{booth_url}")  # the attendee's phone: the badge cookie says who
    assert visited.status_code == 200 and "打卡成功" in visited.text
    assert "已在此打过卡" in client.get(f"/{booth_url}").text
    session_url = points["session:keynote"]["url"].split("://", 1)[1].split("/", 1)[1]
    assert "打卡成功" in client.get(f"/{session_url}").text

    worker.drain()
    ws = workspace.workspace_id
    assert events_named(ws, "Event Checked In") == 1
    assert events_named(ws, "Booth Checked In") == 1
    assert events_named(ws, "Session Checked In") == 1
    [person] = people_with(ws, "Event Registered")
    assert people_with(ws, "Booth Checked In") == {person}
    assert {"interest:graph_database", "product_pref:graph_database"} <= tags_of(person)
    assert score_of(person) == 1 + 3 + 2  # registered, registered and checked in, booth

    read = api.get(f"/api/v1/events/{event['id']}").json()
    assert read["registrations"] == {"approved": 1} and read["checked_in"] == 1


def test_a_booth_point_asks_for_the_mobile_without_a_badge_cookie(
    api: TestClient, client: TestClient
) -> None:
    event = create(api, conference(_key()))
    [booth] = [
        p
        for p in api.post(f"/api/v1/events/{event['id']}/points").json()
        if p["point"] == "booth:b2"
    ]
    path = "/" + booth["url"].split("://", 1)[1].split("/", 1)[1]
    asked = client.get(path)
    assert asked.status_code == 200 and 'name="mobile"' in asked.text
    token = re.search(r'name="t" value="([^"]+)"', asked.text)
    assert token is not None
    bad = client.post(path.split("?")[0], data={"t": token.group(1), "mobile": "12"})
    assert bad.status_code == 400
    done = client.post(path.split("?")[0], data={"t": token.group(1), "mobile": "13900139000"})
    assert "打卡成功" in done.text
    forged = client.get(path.split("?")[0] + "?t=" + token.group(1)[:-3] + "abc")
    assert forged.status_code == 404
    walk_ins = api.get(f"/api/v1/events/{event['id']}/registrations").json()["items"]
    assert [(r["phone"], r["source"]) for r in walk_ins] == [("+8613900139000", "walk_in")]


def test_walk_in_by_mobile_registers_and_checks_in_once(
    api: TestClient, workspace: NewWorkspace
) -> None:
    event = create(api, conference(_key()))
    body = {"mobile": "139 0013 9001", "name": "李娜", "company": "平安科技"}
    first = api.post(f"/api/v1/events/{event['id']}/checkins", json=body).json()
    assert first["walk_in"] is True and first["registration"]["source"] == "walk_in"
    second = api.post(f"/api/v1/events/{event['id']}/checkins", json=body).json()
    assert second["already_checked_in"] is True and second["walk_in"] is False
    worker.drain()
    assert events_named(workspace.workspace_id, "Event Registered") == 1
    assert events_named(workspace.workspace_id, "Event Checked In") == 1


def test_bad_check_ins_change_nothing(api: TestClient, workspace: NewWorkspace) -> None:
    event = create(api, conference(_key()))
    url = f"/api/v1/events/{event['id']}/checkins"
    assert api.post(url, json={"badge_token": "nope"}).json()["code"] == "link_not_found"
    both = api.post(url, json={"badge_token": "x", "mobile": MOBILE})
    assert both.status_code == 422
    assert api.post(url, json={"mobile": "12345"}).json()["code"] == "invalid_input"
    assert api.get(f"/api/v1/events/{event['id']}/registrations").json()["total"] == 0
    other = create(api, conference(_key()))
    api.post(f"/api/v1/events/{other['id']}/checkins", json={"mobile": MOBILE})
    assert events_named(workspace.workspace_id, "Event Checked In") == 1


def test_a_badge_of_another_event_does_not_check_in(api: TestClient, client: TestClient) -> None:
    one, two = create(api, conference(_key())), create(api, conference(_key()))
    _, token = register_on_page(client, one["key"])
    answer = api.post(f"/api/v1/events/{two['id']}/checkins", json={"badge_token": token})
    assert answer.status_code == 404


def test_approval_capacity_waitlist_and_reject_promotes(
    api: TestClient, client: TestClient
) -> None:
    event = create(api, conference(_key(), capacity=1, approval_required=True))
    html, token = register_on_page(client, event["key"])
    assert token is None and "等待审核" in html
    html, _ = register_on_page(client, event["key"], mobile="13900139002", name="赵敏")
    assert "候补" in html
    regs = api.get(f"/api/v1/events/{event['id']}/registrations").json()["items"]
    assert [r["status"] for r in regs] == ["pending", "waitlisted"]
    pending = api.post(f"/api/v1/events/{event['id']}/checkins", json={"mobile": MOBILE})
    assert pending.status_code == 409 and pending.json()["code"] == "registration_not_approved"
    base = f"/api/v1/events/{event['id']}/registrations"
    rejected = api.post(f"{base}/{regs[0]['id']}:reject").json()
    assert rejected["status"] == "rejected"
    promoted = api.get(f"{base}?status=pending").json()["items"]
    assert [r["id"] for r in promoted] == [regs[1]["id"]]
    approved = api.post(f"{base}/{regs[1]['id']}:approve").json()
    assert approved["status"] == "approved"
    assert api.post(f"{base}/{regs[1]['id']}:approve").json()["status"] == "approved"
    assert api.post(f"{base}/999999:approve").json()["code"] == "registration_not_found"


def test_the_registration_page_refuses_bad_input_and_forged_posts(
    api: TestClient, client: TestClient
) -> None:
    event = create(api, conference(_key()))
    page = client.get(f"/e/{event['key']}/register?lang=en")
    assert page.status_code == 200 and "Mobile" in page.text
    forged = client.post(
        f"/e/{event['key']}/register", data={"form_token": "x", "name": "a", "mobile": MOBILE}
    )
    assert forged.status_code == 400
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None
    missing = client.post(
        f"/e/{event['key']}/register",
        data={"form_token": token.group(1), "name": "a", "mobile": MOBILE},
    )
    assert missing.status_code == 400 and "company" in missing.text
    bot = client.post(
        f"/e/{event['key']}/register",
        data={
            "form_token": token.group(1),
            "name": "a",
            "mobile": MOBILE,
            "company": "c",
            "website": "http://spam",
        },
    )
    assert bot.status_code == 200
    assert api.get(f"/api/v1/events/{event['id']}/registrations").json()["total"] == 0
    assert client.get("/e/no-such-event/register").status_code == 404


def test_the_confirmation_goes_through_the_outbox_once_the_person_is_known(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    template = {
        "key": "event-confirm",
        "channel": "email",
        "purpose": "transactional",
        "subject": "报名成功：{{ event.name }}",
        "body": '<p>{{ event.starts_at }}</p><img src="{{ badge.qr_png_url }}">',
    }
    made = api.post("/api/v1/templates", json=template)
    assert made.status_code == 201, made.text
    event = create(api, conference(_key(), messages={"confirm_email": "event-confirm"}))
    register_on_page(client, event["key"], email="zhangwei@shbank.cn")
    register_on_page(client, event["key"], email="zhangwei@shbank.cn")
    JobRunner().run_pending()  # not processed yet: the job waits for the pipeline
    with read_only() as session:
        assert (
            session.scalars(select(Message).where(owned(Message, workspace.workspace_id))).all()
            == []
        )
    worker.drain()
    with unit_of_work() as session:  # the retry is due now (no waiting in tests)
        session.execute(update(Job).where(Job.kind == "events.confirm").values(run_at=utcnow()))
    JobRunner().run_pending()
    with read_only() as session:
        messages = session.scalars(
            select(Message).where(owned(Message, workspace.workspace_id))
        ).all()
    assert [(m.channel, m.idempotency_key.split(":")[0]) for m in messages] == [
        ("email", "event-confirm")
    ]
    assert "/badge?t=" in messages[0].variables["badge"]["url"]
