"""Check-in is idempotent whatever the order of scans and retries: the event log gets one
``Event Checked In`` per attendee scanned, however often and by whichever means (badge or
mobile) they were scanned; on both databases."""

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadpond.db.engine import read_only, unit_of_work
from leadpond.engage import events as ev
from leadpond.engage import events_checkin as checkins
from leadpond.engage import events_registration as registrations
from leadpond.engage.events_models import EventCheckin
from leadpond.engage.events_schemas import EventBody
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.workspaces.service import NewWorkspace

PHONES = ("13800000001", "13800000002", "13800000003")
scans = st.lists(
    st.tuples(st.integers(0, len(PHONES) - 1), st.sampled_from(("badge", "mobile"))),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(scanned=scans)
def test_any_order_of_scans_checks_each_attendee_in_once(
    workspace: NewWorkspace, scanned: list[tuple[int, str]]
) -> None:
    ws, now = workspace.workspace_id, datetime.now(UTC).replace(tzinfo=None)
    body = EventBody(
        key=f"p-{uuid.uuid4().hex[:10]}",
        name_zh="沙龙",
        kind="salon",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=3),
    )
    with unit_of_work() as session:
        event = ev.create_event(session, ws, body, "test")
        tokens = []
        for phone in PHONES:
            attendee = registrations.attendee_from({"mobile": phone, "name": "x"})
            registration, _ = registrations.register(
                session, event, attendee, source="api", anonymous_id=None, now=now
            )
            tokens.append(ev.badge_token(session, registration))
        event_id, key = event.id, event.key
    answers = []
    for index, how in scanned:  # each scan its own request, as retries are
        with unit_of_work() as session:
            event = ev.event_by_key(session, key)
            if how == "badge":
                done = checkins.check_in_badge(session, event, tokens[index], now)
            else:
                attendee = registrations.attendee_from({"mobile": PHONES[index]})
                done = checkins.check_in_mobile(session, event, attendee, now)
            answers.append((index, done.already))
    first_seen = {index: position for position, (index, _) in reversed(list(enumerate(answers)))}
    assert [already for _, already in answers] == [
        first_seen[index] != position for position, (index, _) in enumerate(answers)
    ]
    with read_only() as session:
        rows = session.scalar(select(func.count()).where(EventCheckin.event_id == event_id))
        logged = session.scalar(
            select(func.count()).where(
                owned(Event, ws),
                Event.event == "Event Checked In",
                Event.message_id.like(f"event-{event_id}-checkin-%"),
            )
        )
    assert rows == logged == len({index for index, _ in scanned})
