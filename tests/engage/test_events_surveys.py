"""On-site surveys, the own-fields registration's rate limit, and the owner's note by email."""

import re
import uuid
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadpond.accounts.models import Account
from leadpond.channels.models import Message
from leadpond.db.engine import read_only, unit_of_work
from leadpond.engage.events_models import EventRegistration
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.users.models import ConsoleUser, Membership
from leadpond.workspaces.service import NewWorkspace
from tests.engage.events_world import conference, create, form_token, register_on_page
from tests.engage.forms_helpers import PERSON, make_form, open_page, post


def test_a_survey_on_the_microsite_carries_the_event_into_the_report(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    survey = make_form(api, key=f"s{uuid.uuid4().hex[:8]}", name_zh="现场满意度调研")
    body = conference(f"conf-{uuid.uuid4().hex[:8]}")
    answer = api.post("/api/v1/events", json={**body, "surveys": ["no_such_form"]})
    assert answer.status_code == 400 and answer.json()["field"] == "surveys[0]"
    event = create(api, {**body, "surveys": [survey["key"]]})
    assert event["surveys"] == [survey["key"]]
    register_on_page(client, event["key"], email=PERSON["email"].lower(), mobile="13800138000")

    site = client.get(f"/e/{event['key']}?lang=zh").text
    found = re.search(r'<a class="btn secondary survey" data-survey="[^"]+" href="([^"]+)"', site)
    assert found is not None and "现场满意度调研" in site
    link = unescape(found.group(1))
    assert f"event={event['key']}" in link
    posted = post(client, link, open_page(client, link), **PERSON)
    assert posted.status_code == 200
    # The same form without the event (or naming an event that does not list it) is no answer
    # of the event's.
    other = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}"))
    plain = f"/f/{survey['key']}?ws={workspace.workspace_id}&event={other['key']}"
    post(TestClient(client.app), plain, open_page(client, plain), **{**PERSON, "product": "tsdb"})
    worker.drain()
    with read_only() as session:
        answers = [
            p["properties"].get("event_id")
            for p in session.scalars(select(Event.payload).where(Event.event == "Form Submitted"))
            if p["properties"].get("form_id") == survey["key"]
        ]
    assert sorted(map(str, answers)) == sorted([event["key"], "None"])
    report = api.get(f"/api/v1/events/{event['id']}/accounts-report").json()["items"]
    surveys = [a["surveys"] for line in report for a in line["attendees"]]
    assert surveys == [[survey["key"]]]


def test_twenty_own_field_posts_a_second_register_only_up_to_the_limit(
    api: TestClient, client: TestClient
) -> None:
    event = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}"))
    token = form_token(client, event["key"])
    for n in range(20):
        answer = client.post(
            f"/e/{event['key']}/register",
            data={
                "form_token": token,
                "name": f"机器{n}",
                "mobile": f"139{n:08d}",
                "company": "上海银行",
            },
        )
        assert answer.status_code == 200
    with read_only() as session:
        registered = session.scalar(
            select(func.count()).where(EventRegistration.event_id == event["id"])
        )
    assert registered == 5  # the forms' default per-address limit


def test_the_same_person_registering_twice_is_one_registration(
    api: TestClient, client: TestClient
) -> None:
    event = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}"))
    register_on_page(client, event["key"])
    register_on_page(client, event["key"], name="张伟 ")
    with read_only() as session:
        registered = session.scalar(
            select(func.count()).where(EventRegistration.event_id == event["id"])
        )
    assert registered == 1


def test_an_owner_without_wecom_gets_the_note_by_email(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    event = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}"))
    register_on_page(client, event["key"], email="zhangwei@shbank.cn")
    worker.drain()
    note = {
        "key": f"owner-mail-{uuid.uuid4().hex[:6]}",
        "channel": "email",
        "purpose": "transactional",
        "subject": "{{ event.name }}: {{ report.account }}",
        "body": "{{ report.came }} / {{ report.registered }}",
    }
    assert api.post("/api/v1/templates", json=note).status_code == 201, note
    url = f"/api/v1/events/{event['id']}/accounts-report:notify"
    first = api.post(url, json={"email_template": note["key"]}).json()
    assert first["queued"] == 0 and first["without_owner"]
    wrong = api.post(url, json={"template": note["key"]})
    assert wrong.status_code == 400 and wrong.json()["field"] == "template"
    with unit_of_work() as session:
        account = session.scalars(
            select(Account).where(owned(Account, workspace.workspace_id))
        ).first()
        assert account is not None
        user = ConsoleUser(email="li.na@example.cn", name="李娜", password_hash="-")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, workspace_id=workspace.workspace_id, role="sales"))
        account.traits = {**account.traits, "owner": "李娜"}
    assert api.post(url, json={"email_template": note["key"]}).json()["queued"] == 1
    assert api.post(url, json={"email_template": note["key"]}).json()["queued"] == 1
    with read_only() as session:
        mails = session.scalars(
            select(Message).where(
                owned(Message, workspace.workspace_id), Message.channel == "email"
            )
        ).all()
    assert len(mails) == 1 and mails[0].variables["notify_email"] == "li.na@example.cn"
    assert mails[0].purpose == "transactional"
