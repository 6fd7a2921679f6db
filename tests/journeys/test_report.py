"""A journey's report (scenario S6): per step, how many ran it and wait at it; per send, the
messages' fates with opens and clicks by people only; per A/B variant, people, opens, clicks and
goals side by side with p-values against the first variant."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadpond.channels.models import Message
from leadpond.channels.tracking import Visit, record_click, record_open
from leadpond.db.engine import read_only, unit_of_work
from leadpond.journeys.report import two_proportion_p
from leadpond.journeys.runner import run_due
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.workspaces.service import NewWorkspace
from leadpond.workspaces.signing import sign
from tests.conftest import Tracker
from tests.journeys.conftest import AB_TEST, SPLIT, person_id, set_up

READER = Visit(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36", "1.2.3.4", utcnow()
)
SCANNER = Visit("Barracuda Sentinel (EE)", "5.6.7.8", utcnow())


def test_two_proportion_p_matches_the_textbook() -> None:
    # 200/1000 vs 250/1000: z = 2.68, p = 0.0074 (pooled two-proportion z-test).
    assert two_proportion_p(200, 1000, 250, 1000) == pytest.approx(0.0074, abs=1e-4)
    assert two_proportion_p(10, 100, 10, 100) == 1.0
    assert two_proportion_p(0, 100, 0, 100) is None
    assert two_proportion_p(1, 0, 1, 10) is None


def test_the_report_counts_steps_sends_and_variants_by_people_not_scanners(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    ws = workspace.workspace_id
    set_up(api, workspace, SPLIT)
    track.batch(
        [
            {"type": "identify", "userId": f"p{i}", "traits": {"email": f"p{i}@shop.cn"}}
            for i in range(30)
        ]
    )
    variants: dict[int, str] = {}
    for i in range(30):
        pid = person_id(api, f"p{i}")
        answer = api.post("/api/v1/journeys/retail-case/enroll", json={"person_id": pid})
        variants[pid] = answer.json()["enrollment"]["variant"]
    with unit_of_work() as session:  # every message left an hour ago
        session.execute(
            update(Message)
            .where(owned(Message, ws))
            .values(status="sent", sent_at=utcnow() - timedelta(hours=1))
        )
    with read_only() as session:
        messages = {
            pid: mid
            for mid, pid in session.execute(
                select(Message.id, Message.person_id).where(owned(Message, ws))
            )
        }
    a_people = sorted(p for p, v in variants.items() if v == "A")
    b_people = sorted(p for p, v in variants.items() if v == "B")
    with unit_of_work() as session:
        for pid in a_people[:3] + b_people[:1]:  # people open and click
            record_open(session, sign(session, ws, "open", {"m": messages[pid]}), READER)
            record_click(
                session,
                sign(session, ws, "click", {"m": messages[pid], "u": "https://acme.cn/case"}),
                READER,
            )
        for pid in b_people:  # a scanner opens and clicks everything of B
            record_open(session, sign(session, ws, "open", {"m": messages[pid]}), SCANNER)
            record_click(
                session,
                sign(session, ws, "click", {"m": messages[pid], "u": "https://acme.cn/case"}),
                SCANNER,
            )
    answer = api.get("/api/v1/journeys/retail-case/report")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["entered"] == 30
    assert report["states"] == {"exited": len(a_people), "completed": len(b_people)}
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["ab"]["ran"] == 30 and steps["ab"]["waiting"] == 0
    assert steps["send-a"]["messages"] == {"sent": len(a_people), "opened": 3, "clicked": 3}
    assert steps["send-b"]["messages"] == {"sent": len(b_people), "opened": 1, "clicked": 1}
    a, b = report["variants"]
    assert (a["variant"], a["people"], a["messages"], a["clicked"]) == (
        "A",
        len(a_people),
        len(a_people),
        3,
    )
    assert (b["variant"], b["people"], b["clicked"]) == ("B", len(b_people), 1)
    assert a["click_rate"] == round(3 / len(a_people), 4)
    assert "click_p_value" not in a or a["click_p_value"] is None
    assert b["click_p_value"] == two_proportion_p(3, len(a_people), 1, len(b_people))
    assert api.get("/api/v1/journeys/nope/report").status_code == 404


def test_a_step_that_waits_counts_each_enrollment_once(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    set_up(api, workspace, AB_TEST)
    for i in range(12):
        track.identify(f"w{i}", {"email": f"w{i}@shop.cn"})
        pid = person_id(api, f"w{i}")
        answer = api.post("/api/v1/journeys/retail-ab/enroll", json={"person_id": pid})
        assert answer.status_code == 201, answer.text
    chosen = api.post("/api/v1/journeys/retail-ab/winner", json={"split": "ab", "variant": "A"})
    assert chosen.status_code == 201, chosen.text
    run_due(workspace.workspace_id, utcnow() + timedelta(seconds=1))
    steps = {s["id"]: s for s in api.get("/api/v1/journeys/retail-ab/report").json()["steps"]}
    rest = steps["winner"]
    assert rest["waiting"] == 0 and rest["ran"] == rest["messages"]["queued"]
