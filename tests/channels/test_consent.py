"""Consent and suppression: every skip reason, marketing against transactional, the
``unsubscribed`` trait (kept working, and migrated to subscription rows)."""

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from leadpond.channels import consent
from leadpond.channels.deliverer import Deliverer
from leadpond.channels.models import Message, Purpose
from leadpond.db import migrate
from leadpond.db.engine import unit_of_work
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import SMTP, FakeSender, message, person, send, set_channel
from tests.channels.conftest import template as save_template
from tests.conftest import Tracker


def _status(api: TestClient, message_id: int) -> tuple[str, str | None]:
    found = message(api, message_id)
    return found["status"], found["reason"]


def test_every_skip_reason(
    api: TestClient,
    track: Tracker,
    deliverer: Deliverer,
    sender: FakeSender,
    workspace: NewWorkspace,
) -> None:
    ws = workspace.workspace_id
    save_template(api, "news")
    save_template(api, "broken", body="{{ person.traits.name.upper(1, 2, 3) }}")
    nobody = person(track, api, "no-email", name="无名")
    gone_out = person(track, api, "out", email="out@acme.cn")
    bounced = person(track, api, "bounced", email="bad@acme.cn")
    fine = person(track, api, "fine", email="fine@acme.cn", name="韩梅梅")
    not_configured = send(api, fine, "news")
    deliverer.run_pending()
    assert _status(api, not_configured) == ("skipped", "not_configured")

    set_channel(api, "email", "smtp", SMTP)
    with unit_of_work() as session:
        consent.unsubscribe(session, ws, gone_out, "email", "test")
        consent.suppress(session, ws, "email", "BAD@acme.cn", "hard_bounce")
    ids = {
        "no_address": send(api, nobody, "news"),
        "unsubscribed": send(api, gone_out, "news"),
        "suppressed": send(api, bounced, "news"),
        "invalid_template": send(api, fine, "broken"),
    }
    deliverer.run_pending()
    for reason, mid in ids.items():
        assert _status(api, mid) == ("skipped", reason)
    assert sender.handed == []
    assert message(api, ids["invalid_template"])["history"][-1]["detail"]["detail"]


def test_transactional_ignores_unsubscribes_but_not_suppressions(
    api: TestClient, track: Tracker, deliverer: Deliverer, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_channel(api, "email", "smtp", SMTP)
    save_template(api, "receipt", purpose="transactional")
    out = person(track, api, "out", email="out@acme.cn")
    bounced = person(track, api, "bounced", email="bad@acme.cn")
    with unit_of_work() as session:
        consent.unsubscribe(session, ws, out, "email", "test")
        consent.suppress(session, ws, "email", "bad@acme.cn", "hard_bounce")
    receipt = send(api, out, "receipt")
    blocked = send(api, bounced, "receipt")
    deliverer.run_pending()
    assert _status(api, receipt) == ("sent", None)
    assert _status(api, blocked) == ("skipped", "suppressed")


def test_the_unsubscribed_trait_still_counts(
    api: TestClient, track: Tracker, deliverer: Deliverer
) -> None:
    set_channel(api, "email", "smtp", SMTP)
    save_template(api, "news")
    pid = person(track, api, "u", email="u@acme.cn", unsubscribed=True)
    mid = send(api, pid, "news")
    deliverer.run_pending()
    assert _status(api, mid) == ("skipped", "unsubscribed")


def test_a_wechat_marketing_message_has_no_consent(
    api: TestClient, track: Tracker, deliverer: Deliverer, workspace: NewWorkspace
) -> None:
    refused = api.post(
        "/api/v1/templates",
        json={"key": "promo", "channel": "wechat", "body": "{}", "purpose": "marketing"},
    )
    assert refused.status_code == 400 and refused.json()["field"] == "purpose"
    set_channel(api, "wechat", "template", {"app_id": "wx1", "app_secret": "s"})
    save_template(api, "notice", channel="wechat", subject=None, body="{}", purpose="transactional")
    pid = person(track, api, "w", email="w@acme.cn")
    mid = send(api, pid, "notice", channel="wechat")
    with unit_of_work() as session:  # as a journey written before the rule might have
        found = session.get(Message, mid)
        assert found is not None
        found.purpose = Purpose.MARKETING.value
    deliverer.run_pending()
    assert _status(api, mid) == ("skipped", "no_consent")


def test_unsubscribes_show_in_segment_member_lists(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    pid = person(track, api, "m", email="m@acme.cn", plan="pro")
    created = api.post(
        "/api/v1/segments",
        json={"key": "pro", "kind": "static", "people": [pid]},
    )
    assert created.status_code == 201, created.text
    members = api.get("/api/v1/segments/pro/members").json()["items"]
    assert members[0]["suppressed"] is None
    with unit_of_work() as session:
        consent.unsubscribe(session, workspace.workspace_id, pid, "email", "link")
    members = api.get("/api/v1/segments/pro/members").json()["items"]
    assert members[0]["suppressed"] == "unsubscribed"


def test_the_trait_migration_writes_subscription_rows(empty_database: str) -> None:
    migrate.upgrade(empty_database, "20261206_1400")
    engine = create_engine(empty_database)
    ws = uuid.uuid4()
    stored_ws = ws.hex if empty_database.startswith("sqlite") else str(ws)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspace (id, name, created_at) VALUES (:id, 'w', CURRENT_TIMESTAMP)"
            ),
            {"id": stored_ws},
        )
        people = (
            (1, '{"unsubscribed": true}'),
            (2, '{"do_not_contact": "yes"}'),
            (3, '{"unsubscribed": false}'),
        )
        for pid, traits in people:
            connection.execute(
                text(
                    "INSERT INTO person (id, workspace_id, traits, trait_times, event_count, "
                    "created_at, updated_at) VALUES (:id, :ws, :traits, '{}', 0, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": pid, "ws": stored_ws, "traits": traits},
            )
    migrate.upgrade(empty_database)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT person_id, channel, status, source FROM subscription ORDER BY 1, 2")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "email", "unsubscribed", "trait:unsubscribed"),
        (1, "sms", "unsubscribed", "trait:unsubscribed"),
        (2, "email", "unsubscribed", "trait:unsubscribed"),
        (2, "sms", "unsubscribed", "trait:unsubscribed"),
    ]
