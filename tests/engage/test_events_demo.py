"""The demo workspace's conference and webinar, made through the events service: the
pipeline gives their attendees the playbook's tags, and the accounts report has lines."""

import uuid
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.db.engine import read_only, unit_of_work
from leadpond.demo import service
from leadpond.demo.events import CONFERENCE, WEBINAR, ensure_events
from leadpond.demo.service import DemoOptions
from leadpond.engage import events_report
from leadpond.engage.events_models import MarketingEvent
from leadpond.engage.events_registration import list_registrations
from leadpond.kit.pagination import PageQuery
from leadpond.kit.scope import owned
from tests.engage.events_world import events_named, people_with, tags_of


def test_the_demo_has_a_conference_and_a_webinar_through_the_events_paths(
    client: TestClient, tmp_path: Path
) -> None:
    options = DemoOptions(
        people=80,
        seed=21,
        end=date(2026, 2, 28),
        workspace=f"demo-{uuid.uuid4().hex[:8]}",
        truth_root=tmp_path / "truth",
        credentials_path=tmp_path / "credentials.json",
    )
    report = service.run(options)
    ws = report.workspace_id
    with read_only() as session:
        made = {
            e.kind: e
            for e in session.scalars(select(MarketingEvent).where(owned(MarketingEvent, ws)))
        }
        assert made["conference"].key.startswith(CONFERENCE)
        assert made["webinar"].key.startswith(WEBINAR)
        total, regs = list_registrations(session, made["conference"], PageQuery(limit=1000))
        assert total > 5 and {r.attendance for r in regs} == {"checked_in", "no_show"}
        lines = events_report.accounts_report(session, made["conference"])
    assert lines and all(line.next_step in events_report.NEXT_STEPS for line in lines)
    assert any(a.booths for line in lines for a in line.attendees)
    assert events_named(ws, "Webinar Attended") > 0
    visitors = people_with(ws, "Booth Checked In")
    assert any(any(t.startswith("interest:") for t in tags_of(p)) for p in visitors)
    assert ensure_events(ws) == []  # made once
    page = client.get(f"/e/{made['conference'].key}/register")
    assert page.status_code == 200 and 'class="leadpond-form"' in page.text
    site = client.get(f"/e/{made['conference'].key}").text
    assert 'data-survey="conference_survey"' in site
    with unit_of_work() as session:
        conference = session.get(MarketingEvent, made["conference"].id)
        assert conference is not None
        queued, without = events_report.notify_owners(
            session, conference, "event-report-wecom", "event-report-email"
        )
    assert queued + len(without) == len([line for line in lines if line.account_id])
