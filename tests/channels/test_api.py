"""The channels API: templates, channel settings with secrets masked, sends, a person's messages
and a test send."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadpond.channels import registry
from leadpond.cli import app as cli
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import SMTP, FakeSender, person, send, set_channel
from tests.channels.conftest import template as save_template
from tests.conftest import Tracker
from tests.users.test_auth import login, make_user


def test_templates_are_listed_read_and_replaced(api: TestClient) -> None:
    save_template(api, "b")
    save_template(api, "a", purpose="transactional")
    listed = api.get("/api/v1/templates", params={"limit": 1}).json()
    assert listed["total"] == 2 and [t["key"] for t in listed["items"]] == ["a"]
    again = api.post("/api/v1/templates", json={"key": "a", "channel": "email", "body": "x"})
    assert again.status_code in (400, 409)
    replaced = api.put(
        "/api/v1/templates/a", json={"channel": "email", "subject": "新", "body": "<p>新</p>"}
    )
    assert replaced.status_code == 200 and replaced.json()["subject"] == "新"
    assert api.get("/api/v1/templates/a").json()["body"] == "<p>新</p>"
    assert api.get("/api/v1/templates/zz").status_code == 404


def test_channel_settings_never_show_a_secret(api: TestClient) -> None:
    assert api.get("/api/v1/channels/email").json()["configured"] is False
    set_channel(api, "email", "smtp", {**SMTP, "dkim_private_key": "-----BEGIN-----"})
    shown = api.get("/api/v1/channels/email").json()
    assert shown["settings"]["smtp_url"] == "smtp://user:••••@127.0.0.1:2525"
    assert shown["settings"]["dkim_private_key"] == "••••"
    assert "s3cret" not in str(shown)
    # Sent back as shown, the secrets are kept.
    set_channel(api, "email", "smtp", {**shown["settings"], "pool_size": 2})
    bad = api.put(
        "/api/v1/channels/email",
        json={"provider": "smtp", "settings": {"smtp_url": "http://x", "from": "a@b.cn"}},
    )
    assert bad.status_code == 400 and bad.json()["field"] == "settings.smtp_url"
    no_from = api.put(
        "/api/v1/channels/email",
        json={"provider": "smtp", "settings": {"smtp_url": "smtp://h:25", "from": "nobody"}},
    )
    assert no_from.json()["field"] == "settings.from"


def test_a_send_needs_a_known_template_and_person(api: TestClient, track: Tracker) -> None:
    save_template(api, "welcome")
    pid = person(track, api, "u", email="u@acme.cn")
    unknown = {"channel": "email", "template": "nope", "person_id": pid}
    assert api.post("/api/v1/sends", json=unknown).status_code == 404
    wrong = {"channel": "sms", "template": "welcome", "person_id": pid}
    assert api.post("/api/v1/sends", json=wrong).status_code == 400
    nobody = {"channel": "email", "template": "welcome", "person_id": 10**12}
    assert api.post("/api/v1/sends", json=nobody).status_code == 404
    mid = send(api, pid, "welcome", variables={"content": {"title": "t"}})
    listed = api.get(f"/api/v1/people/{pid}/messages").json()
    assert listed["items"][0]["id"] == mid and listed["items"][0]["template"] == "welcome"


def test_a_test_send_answers_what_the_provider_said(
    api: TestClient, sender: FakeSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    def factory(_settings: dict[str, Any]) -> FakeSender:
        return sender

    monkeypatch.setitem(registry.SENDERS, ("email", "smtp"), factory)
    set_channel(api, "email", "smtp", SMTP)
    answer = api.post("/api/v1/channels/email:test", json={"address": "me@acme.cn"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == "sent"
    assert sender.handed[0].address == "me@acme.cn"


def test_the_cli_sets_and_shows_a_channel(workspace: NewWorkspace, backend: str) -> None:
    runner = CliRunner()
    ws = str(workspace.workspace_id)
    done = runner.invoke(
        cli,
        [
            *("channel", "set", "email", "--workspace", ws, "--smtp-url", SMTP["smtp_url"]),
            *("--from", SMTP["from"], "--cap", "2/7", "--quiet", "21:00-08:00"),
        ],
    )
    assert done.exit_code == 0, done.output
    shown = runner.invoke(cli, ["channel", "show", "--workspace", ws])
    assert shown.exit_code == 0 and "s3cret" not in shown.output
    assert '"max": 2' in shown.output and "not configured" in shown.output
    drained = runner.invoke(cli, ["channel", "deliver", "--workspace", ws])
    assert drained.exit_code == 0, drained.output


def test_marketers_use_channels_and_only_admins_set_up_providers(
    client: TestClient, workspace: NewWorkspace
) -> None:
    admin_email = make_user(workspace.workspace_id, "admin")
    login(client, admin_email)
    settings = {"provider": "smtp", "settings": {**SMTP, "from": "A <a@acme.cn>"}}
    assert client.put("/api/v1/channels/email", json=settings).status_code == 200
    login(client, make_user(workspace.workspace_id, "marketer"))
    changed = {**settings, "settings": {**settings["settings"], "from": "B <b@acme.cn>"}}
    refused = client.put("/api/v1/channels/email", json=changed)
    assert refused.status_code == 403 and refused.json()["code"] == "role_too_low"
    tested = client.post("/api/v1/channels/email:test", json={"address": "me@acme.cn"})
    assert tested.status_code == 403
    shown = client.get("/api/v1/channels/email").json()
    assert shown["settings"]["from"] == "A <a@acme.cn>"  # nothing changed
    template = {"key": "hello", "channel": "email", "subject": "Hi", "body": "<p>Hi</p>"}
    assert client.post("/api/v1/templates", json=template).status_code == 201
