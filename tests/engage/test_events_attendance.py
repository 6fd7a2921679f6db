"""Webinar attendance (a platform's export with bad rows, the live API), no-shows, and the
post-event accounts report with its XLSX, badges PDF and the owners' notes; on both
databases."""

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadpond.accounts.models import Account
from leadpond.channels.models import Message
from leadpond.config import get_settings
from leadpond.db.engine import read_only, unit_of_work
from leadpond.engage.events_models import MarketingEvent
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
)

EXPORT = (
    "姓名,手机号,邮箱,观看时长（分钟）\n"
    "张伟,13800138000,,45\n"
    "李娜,,lina@pingan.com,12\n"
    "坏手机,12345,,30\n"
    "无时长,13900139003,,\n"
    ",,,\n"
    "负数,13900139004,,-5\n"
    "王芳,13900139005,,01:10:30\n"
)


def _webinar(api: TestClient) -> dict[str, object]:
    key = f"webi-{uuid.uuid4().hex[:8]}"
    return create(api, conference(key, kind="webinar", booths=[], sessions=[], city="线上"))


def test_an_export_with_bad_rows_keeps_the_good_ones(
    api: TestClient, workspace: NewWorkspace
) -> None:
    webinar = _webinar(api)
    url = f"/api/v1/events/{webinar['id']}/attendance:import"
    files = {"file": ("viewers.csv", EXPORT.encode("utf-8-sig"), "text/csv")}
    report = api.post(url, files=files)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["recorded"], body["registered"], body["unchanged"]) == (3, 3, 0)
    assert [r["row"] for r in body["rejected"]] == [4, 5, 7]
    assert "mobile" in body["rejected"][0]["message"]
    again = api.post(url, files=files).json()
    assert (again["recorded"], again["unchanged"]) == (0, 3)
    minutes = {
        r["phone"] or r["email"]: r["watch_minutes"]
        for r in api.get(f"/api/v1/events/{webinar['id']}/registrations").json()["items"]
    }
    assert minutes == {"+8613800138000": 45, "lina@pingan.com": 12, "+8613900139005": 70}
    worker.drain()
    assert events_named(workspace.workspace_id, "Webinar Attended") == 3
    assert len(people_with(workspace.workspace_id, "Webinar Attended")) == 3


def test_an_xlsx_export_and_a_file_without_the_columns(api: TestClient) -> None:
    webinar = _webinar(api)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Email", "Duration (minutes)"])
    sheet.append(["Li Na", "lina@pingan.com", 33])
    buffer = io.BytesIO()
    book.save(buffer)
    url = f"/api/v1/events/{webinar['id']}/attendance:import"
    xlsx = ("zoom.xlsx", buffer.getvalue(), "application/octet-stream")
    assert api.post(url, files={"file": xlsx}).json()["recorded"] == 1
    wrong = api.post(url, files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")})
    assert wrong.status_code == 400 and "watch" in wrong.json()["message"]


def test_a_live_platform_reports_viewers(api: TestClient, workspace: NewWorkspace) -> None:
    webinar = _webinar(api)
    url = f"/api/v1/events/{webinar['id']}/attendance"
    viewers = [
        {"mobile": MOBILE, "watch_minutes": 40},
        {"email": "not-an-email", "watch_minutes": 5},
        {"email": "lina@pingan.com", "watch_minutes": 50, "mode": "replay"},
    ]
    body = api.post(url, json={"attendees": viewers}).json()
    assert body["recorded"] == 2 and [r["row"] for r in body["rejected"]] == [2]
    more = api.post(url, json={"attendees": [{"mobile": MOBILE, "watch_minutes": 55}]}).json()
    assert more["recorded"] == 1  # more minutes: kept, the timeline keeps its one event
    worker.drain()
    assert events_named(workspace.workspace_id, "Webinar Attended") == 2
    assert len(people_with(workspace.workspace_id, "Webinar Attended")) == 2


def test_no_shows_after_the_end(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    event = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}"))
    register_on_page(client, event["key"])
    register_on_page(client, event["key"], mobile="13900139006", name="赵敏")
    api.post(f"/api/v1/events/{event['id']}/checkins", json={"mobile": MOBILE})
    early = api.post(f"/api/v1/events/{event['id']}:mark-no-shows")
    assert early.status_code == 400
    with unit_of_work() as session:
        session.execute(
            update(MarketingEvent)
            .where(MarketingEvent.id == event["id"])
            .values(
                starts_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1),
                ends_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1),
            )
        )
    assert api.post(f"/api/v1/events/{event['id']}:mark-no-shows").json() == {"no_shows": 1}
    regs = api.get(f"/api/v1/events/{event['id']}/registrations").json()["items"]
    assert sorted(r["attendance"] for r in regs) == ["checked_in", "no_show"]


def test_the_accounts_report_badges_and_owner_notes(
    api: TestClient, client: TestClient, workspace: NewWorkspace
) -> None:
    event = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}"))
    _, token = register_on_page(client, event["key"], email="zhangwei@shbank.cn")
    other = TestClient(client.app)
    register_on_page(
        other,
        event["key"],
        mobile="13900139007",
        name="钱进",
        title="采购经理",
        email="qianjin@shbank.cn",
    )
    api.post(f"/api/v1/events/{event['id']}/checkins", json={"badge_token": token})
    points = {p["point"]: p["url"] for p in api.post(f"/api/v1/events/{event['id']}/points").json()}
    client.get("/" + points["booth:b1"].split("://", 1)[1].split("/", 1)[1])
    worker.drain()
    report = api.get(f"/api/v1/events/{event['id']}/accounts-report").json()["items"]
    [bank] = [line for line in report if line["registered"] == 2]
    assert bank["came"] == 1 and bank["interests"] == ["graph_database"]
    came = {a["name"]: a for a in bank["attendees"]}
    assert came["张伟"]["came"] and came["张伟"]["booths"] == ["图数据库展台"]
    assert came["张伟"]["role"] == "executive" and not came["钱进"]["came"]
    assert bank["next_step"] == "book_demo" and bank["score_change"] == 6 + 1  # and 钱进 registered
    xlsx = api.get(f"/api/v1/events/{event['id']}/accounts-report.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3 and "张伟" in rows[1] + rows[2]

    pdf = api.get(f"/api/v1/events/{event['id']}/badges.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    template = {
        "key": "owner-note",
        "channel": "webhook",
        "purpose": "transactional",
        "body": '{"account": "{{ report.account }}", "came": "{{ report.came }}"}',
    }
    assert api.post("/api/v1/templates", json=template).status_code == 201
    url = f"/api/v1/events/{event['id']}/accounts-report:notify"
    assert api.post(url, json={"template": "owner-note"}).json()["queued"] == 0
    with unit_of_work() as session:
        account = session.scalars(
            select(Account).where(owned(Account, workspace.workspace_id))
        ).first()
        assert account is not None
        account.traits = {**account.traits, "owner_wecom_userid": "zhangsan"}
    assert api.post(url, json={"template": "owner-note"}).json()["queued"] == 1
    assert api.post(url, json={"template": "owner-note"}).json()["queued"] == 1
    with read_only() as session:
        notes = session.scalars(
            select(Message).where(
                owned(Message, workspace.workspace_id), Message.channel == "webhook"
            )
        ).all()
    assert len(notes) == 1 and notes[0].variables["report"]["came"] == 1


def test_badges_without_a_chinese_font_fail_clearly(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    event = create(api, conference(f"conf-{uuid.uuid4().hex[:8]}"))
    monkeypatch.setenv("LEADPOND_BADGE_FONT", str(tmp_path / "missing.ttc"))
    get_settings.cache_clear()
    try:
        answer = api.get(f"/api/v1/events/{event['id']}/badges.pdf")
    finally:
        monkeypatch.delenv("LEADPOND_BADGE_FONT")
        get_settings.cache_clear()
    assert answer.status_code == 500 and answer.json()["code"] == "badge_font_missing"
    assert "LEADPOND_BADGE_FONT" in answer.json()["message"]
