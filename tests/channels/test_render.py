"""Templates: person, account and content variables, defaults for what is missing, HTML escaped,
the sandbox holding, syntax errors refused when saved, a preview for a chosen person."""

from fastapi.testclient import TestClient

from leadpond.channels.models import MessageTemplate
from leadpond.channels.render import RenderFailed, message_context, render_template
from tests.channels.conftest import person
from tests.channels.conftest import template as save_template
from tests.conftest import Tracker


def _render(body: str, channel: str = "email", **context: object) -> str:
    template = MessageTemplate(key="t", channel=channel, subject="s", body=body)
    return render_template(template, message_context(dict(context), {}, "https://u")).body


def test_missing_values_render_empty_and_defaults_work() -> None:
    body = "{{ person.traits.name }}|{{ person.traits.company.name | default('贵公司') }}"
    assert _render(body, person={"traits": {}}) == "|贵公司"
    assert _render("{{ account.name | default('—') }}", account={}) == "—"


def test_html_is_escaped_in_email_bodies() -> None:
    assert _render("{{ person.traits.name }}", person={"traits": {"name": "<b>x"}}) == "&lt;b&gt;x"


def test_the_sandbox_refuses_to_reach_python_internals() -> None:
    try:
        _render("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    except RenderFailed:
        return
    raise AssertionError("the sandbox let a template reach object.__subclasses__")


def test_json_bodies_render_every_string_and_stay_json() -> None:
    sms = MessageTemplate(key="t", channel="sms", body='{"code": "{{ code }}", "n": 1}')
    context = message_context({}, {"code": '12"34'}, None)
    assert render_template(sms, context).document == {"code": '12"34', "n": 1}


def test_a_syntax_error_is_refused_with_its_field_and_line(api: TestClient) -> None:
    response = api.post(
        "/api/v1/templates",
        json={"key": "bad", "channel": "email", "subject": "s", "body": "ok\n{% if %}"},
    )
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["line"]) == ("body", 2)
    not_json = api.post("/api/v1/templates", json={"key": "s", "channel": "sms", "body": "hi"})
    assert not_json.status_code == 400 and not_json.json()["field"] == "body"


def test_a_preview_renders_for_a_chosen_person(api: TestClient, track: Tracker) -> None:
    save_template(api, "welcome")
    pid = person(track, api, "u1", email="li@acme.cn", name="李雷")
    response = api.post("/api/v1/templates/welcome:preview", json={"person_id": pid})
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "你好 李雷"
    assert response.json()["body"] == "<p>Hi 李雷 of acme.cn</p>"
    missing = api.post("/api/v1/templates/welcome:preview", json={"person_id": 999999})
    assert missing.status_code == 404
