"""An event that registers through a form of the form builder: the page renders the form, a
post goes through its anti-spam and dedupe, ``Form Submitted`` carries the event's id, and the
attendee registers once; on both databases."""

import re
import uuid

from fastapi.testclient import TestClient

from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.engage.events_world import conference, create, events_named

FORM = {
    "name_zh": "大会报名",
    "status": "published",
    "min_fill_seconds": 0,
    "fields": [
        {"key": "name", "type": "text", "label_zh": "姓名", "maps_to": "name", "required": True},
        {"key": "mobile", "type": "mobile", "label_zh": "手机号", "required": True},
        {"key": "company", "type": "company", "label_zh": "公司", "required": True},
        {"key": "title", "type": "title", "label_zh": "职位"},
    ],
}


def _form(api: TestClient, **extra: object) -> str:
    key = f"register_{uuid.uuid4().hex[:6]}"
    made = api.post("/api/v1/forms", json={**FORM, "key": key, **extra})
    assert made.status_code == 201, made.text
    return key


def _post(client: TestClient, key: str, **values: str) -> tuple[int, str]:
    page = client.get(f"/e/{key}/register?utm_source=wechat")
    assert page.status_code == 200 and 'class="leadpond-form"' in page.text
    posted = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    answer = client.post(
        f"/e/{key}/register?utm_source=wechat",
        data={**posted, "name": "孙丽", "mobile": "13900139100", "company": "中信银行", **values},
    )
    return answer.status_code, answer.text


def test_registering_through_a_form_of_the_form_builder(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    form = _form(api)
    event = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}", registration_form=form))
    status, html = _post(client, event["key"])
    assert status == 200 and 'id="badge-token"' in html
    status, html = _post(client, event["key"])  # the same person posts again
    assert status == 200 and 'id="badge-token"' in html
    status, html = _post(client, event["key"], mobile="12")
    assert status == 422 and 'role="alert"' in html
    registrations = api.get(f"/api/v1/events/{event['id']}/registrations").json()
    assert registrations["total"] == 1
    assert registrations["items"][0]["company"] == "中信银行"
    worker.drain()
    assert events_named(workspace.workspace_id, "Event Registered") == 1
    submissions = api.get(f"/api/v1/forms/{form}/submissions").json()["items"]
    assert len(submissions) == 1 and submissions[0]["context"]["utm_source"] == "wechat"


def test_a_bot_filling_the_honeypot_registers_nobody(api: TestClient, client: TestClient) -> None:
    event = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}", registration_form=_form(api)))
    status, html = _post(client, event["key"], website="http://spam.example")
    assert status == 200 and "badge-token" not in html
    assert api.get(f"/api/v1/events/{event['id']}/registrations").json()["total"] == 0


def test_the_registration_form_must_exist_and_ask_a_mobile_or_email(api: TestClient) -> None:
    missing = api.post(
        "/api/v1/events", json=conference(f"conf-{uuid.uuid4().hex[:8]}", registration_form="nope")
    )
    assert missing.status_code == 400 and missing.json()["field"] == "registration_form"
    nameless = _form(
        api, fields=[{"key": "name", "type": "text", "label_zh": "姓名", "maps_to": "name"}]
    )
    anonymous = api.post(
        "/api/v1/events",
        json=conference(f"conf-{uuid.uuid4().hex[:8]}", registration_form=nameless),
    )
    assert anonymous.status_code == 400 and "mobile" in anonymous.json()["message"]
