"""Issue #20: a template's display name, one text or {zh, en} as the playbook's names, through
the templates API (kept as given, blank is none, bad shapes refused naming the field) and in the
names a list of messages shows beside them."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadpond.channels.models import Message
from leadpond.channels.reads import message_lines, template_names
from leadpond.db.engine import read_only
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import person, send
from tests.channels.conftest import template as save_template
from tests.conftest import Tracker

EMAIL = {"channel": "email", "subject": "你好", "body": "<p>Hi</p>"}


def test_a_name_in_two_languages_is_kept_read_and_replaced(api: TestClient) -> None:
    made = save_template(api, "welcome", name={"en": "Welcome email", "zh": "欢迎邮件"})
    assert made["name"] == {"zh": "欢迎邮件", "en": "Welcome email"}
    assert api.get("/api/v1/templates/welcome").json()["name"] == made["name"]
    listed = api.get("/api/v1/templates").json()["items"]
    assert [(t["key"], t["name"]) for t in listed] == [("welcome", made["name"])]

    one_text = api.put("/api/v1/templates/welcome", json={**EMAIL, "name": "欢迎"})
    assert one_text.status_code == 200, one_text.text
    assert api.get("/api/v1/templates/welcome").json()["name"] == "欢迎"
    # A PUT replaces every part: without a name the template has none (the key shows).
    unnamed = api.put("/api/v1/templates/welcome", json=EMAIL)
    assert unnamed.status_code == 200 and unnamed.json()["name"] is None
    assert api.get("/api/v1/templates/welcome").json()["name"] is None


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_blank_name_is_no_name(api: TestClient, blank: str | None) -> None:
    made = save_template(api, "blank", name=blank)
    assert made["name"] is None
    assert api.get("/api/v1/templates/blank").json()["name"] is None


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ({"fr": "Bienvenue"}, "unknown language 'fr'"),
        ({}, "at least one of zh, en"),
        ({"zh": "  "}, "the zh name is text"),
        ({"en": 7}, "the en name is text"),
        (["欢迎"], "a name is text or a mapping"),
        ("名" * 201, "at most 200 characters"),
        ({"zh": "欢迎", "en": "W" * 201}, "at most 200 characters"),
    ],
)
def test_a_bad_name_is_refused_naming_the_field_and_nothing_changes(
    api: TestClient, name: Any, said: str
) -> None:
    refused = api.post("/api/v1/templates", json={"key": "bad", **EMAIL, "name": name})
    assert refused.status_code == 422, refused.text
    answer = refused.json()
    assert answer["code"] == "invalid_request"
    assert answer["message"].startswith("body.name: ") and said in answer["message"]
    assert api.get("/api/v1/templates/bad").status_code == 404

    save_template(api, "kept", name="留着")
    changed = api.put("/api/v1/templates/kept", json={**EMAIL, "name": name})
    assert changed.status_code == 422 and changed.json()["message"].startswith("body.name: ")
    assert api.get("/api/v1/templates/kept").json()["name"] == "留着"


def test_a_list_of_messages_has_each_templates_name(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    save_template(api, "named", name={"zh": "欢迎邮件", "en": "Welcome email"})
    save_template(api, "plain")
    pid = person(track, api, "u", email="u@acme.cn")
    sent = {send(api, pid, "named"): "named", send(api, pid, "plain"): "plain"}
    with read_only() as session:
        messages = [session.get_one(Message, mid) for mid in sent]
        lines = message_lines(session, workspace.workspace_id, messages)
    assert [(line.template, line.template_name) for line in lines] == [
        ("named", {"zh": "欢迎邮件", "en": "Welcome email"}),
        ("plain", None),
    ]


def test_template_names_are_read_for_the_keys_asked(
    api: TestClient, workspace: NewWorkspace
) -> None:
    save_template(api, "named", name={"zh": "欢迎邮件"})
    save_template(api, "plain")
    save_template(api, "other", name="别的")
    with read_only() as session:
        found = template_names(session, workspace.workspace_id, {"named", "plain", "nope"})
        assert template_names(session, workspace.workspace_id, set()) == {}
    assert found == {"named": {"zh": "欢迎邮件"}, "plain": None}
