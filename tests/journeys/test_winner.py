"""S6: an A/B test whose rest waits for the winner — chosen by the click rates when the test's
time is up, or earlier by hand — and then gets the winning variant's message, once."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadpond.channels.models import Message, MessageTemplate
from leadpond.channels.tracking import Visit, record_click
from leadpond.db.engine import read_only, unit_of_work
from leadpond.journeys.runner import run_due
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.playbooks.service import PlaybookInvalid, validate_playbook
from leadpond.workspaces.service import NewWorkspace
from leadpond.workspaces.signing import sign
from tests.conftest import Tracker
from tests.journeys.conftest import AB_TEST, person_id, playbook_with, set_up

READER = Visit("Mozilla/5.0 (Macintosh) Chrome/126.0 Safari/537.36", "1.2.3.4", utcnow())


def _enroll_all(api: TestClient, track: Tracker, count: int) -> dict[int, str]:
    track.batch(
        [
            {"type": "identify", "userId": f"p{i}", "traits": {"email": f"p{i}@shop.cn"}}
            for i in range(count)
        ]
    )
    variants = {}
    for i in range(count):
        pid = person_id(api, f"p{i}")
        answer = api.post("/api/v1/journeys/retail-ab/enroll", json={"person_id": pid})
        assert answer.status_code == 201, answer.text
        variants[pid] = answer.json()["enrollment"]["variant"]
    assert {"A", "B", "rest"} <= set(variants.values())
    return variants


def _templates_by_person(ws: Any) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    with read_only() as session:
        for pid, key in session.execute(
            select(Message.person_id, MessageTemplate.key)
            .join(MessageTemplate, MessageTemplate.id == Message.template_id)
            .where(owned(Message, ws))
        ):
            found.setdefault(pid, []).append(key)
    return found


def test_the_rest_gets_the_variant_with_more_clicks_when_the_test_is_over(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, AB_TEST)
    variants = _enroll_all(api, track, 40)
    rest = {p for p, v in variants.items() if v == "rest"}
    sent = _templates_by_person(ws)
    assert set(sent) == {p for p, v in variants.items() if v != "rest"}  # the rest waits
    with unit_of_work() as session:
        session.execute(
            update(Message)
            .where(owned(Message, ws))
            .values(status="sent", sent_at=utcnow() - timedelta(hours=1))
        )
    with read_only() as session:
        by_person = dict(
            session.execute(select(Message.person_id, Message.id).where(owned(Message, ws))).all()
        )
    b_people = [p for p, v in variants.items() if v == "B"]
    with unit_of_work() as session:  # B's readers click; A's do not
        for pid in b_people[:2]:
            token = sign(session, ws, "click", {"m": by_person[pid], "u": "https://acme.cn/c"})
            record_click(session, token, READER)
    assert run_due(ws, utcnow() + timedelta(hours=23)).messages == 0
    done = run_due(ws, utcnow() + timedelta(hours=24, minutes=5))
    assert done.messages == len(rest)
    sent = _templates_by_person(ws)
    assert {p: sent[p] for p in rest} == {p: ["case-b"] for p in rest}
    assert run_due(ws, utcnow() + timedelta(days=3)).messages == 0  # once
    report = api.get("/api/v1/journeys/retail-ab/report").json()
    [winner] = report["winners"]
    assert (winner["split"], winner["variant"], winner["by"], winner["decided_by"]) == (
        "ab",
        "B",
        "clicks",
        "auto",
    )
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["winner"]["messages"] == {"queued": len(rest)}


def test_a_winner_chosen_by_hand_is_sent_at_once_and_stands(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, AB_TEST)
    variants = _enroll_all(api, track, 30)
    rest = {p for p, v in variants.items() if v == "rest"}
    wrong = api.post("/api/v1/journeys/retail-ab/winner", json={"split": "ab", "variant": "rest"})
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_input")
    assert "rest" in wrong.json()["message"]
    unknown = api.post("/api/v1/journeys/retail-ab/winner", json={"split": "nope", "variant": "A"})
    assert unknown.status_code == 400
    chosen = api.post("/api/v1/journeys/retail-ab/winner", json={"split": "ab", "variant": "A"})
    assert chosen.status_code == 201, chosen.text
    assert (chosen.json()["variant"], chosen.json()["by"]) == ("A", "hand")
    again = api.post("/api/v1/journeys/retail-ab/winner", json={"split": "ab", "variant": "B"})
    assert (again.status_code, again.json()["code"]) == (409, "winner_decided")
    assert run_due(ws, utcnow() + timedelta(seconds=1)).messages == len(rest)
    sent = _templates_by_person(ws)
    assert {p: sent[p] for p in rest} == {p: ["case-a"] for p in rest}


@pytest.mark.parametrize(
    ("winner", "message"),
    [
        ({"split": "send-a"}, "is not an earlier split"),
        ({"split": "ab", "by": "likes"}, "by"),
    ],
)
def test_a_send_winner_must_name_an_earlier_split(winner: dict[str, Any], message: str) -> None:
    broken = {
        **AB_TEST,
        "steps": [*AB_TEST["steps"][:3], {"id": "winner", "send_winner": winner}],
    }
    with pytest.raises(PlaybookInvalid, match=message):
        validate_playbook(playbook_with(broken))
