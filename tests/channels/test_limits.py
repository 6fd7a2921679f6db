"""Frequency caps and quiet hours, on a clock the test moves: wait or drop, marketing only."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from leadpond.channels.deliverer import Deliverer
from leadpond.channels.limits import quiet_until
from leadpond.channels.outbox import claim, record_outcomes
from leadpond.channels.senders.base import Outcome, Result
from leadpond.channels.settings import QuietHours
from leadpond.db.engine import unit_of_work
from leadpond.kit.clock import parse_timestamp
from tests.channels.conftest import SMTP, Clock, FakeSender, message, person, send, set_channel
from tests.channels.conftest import template as save_template
from tests.conftest import Tracker

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENINGS = {"start": "21:00", "end": "08:00", "time_zone": "Asia/Shanghai"}


def _utc(local: datetime) -> datetime:
    return local.replace(tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def test_quiet_hours_wrap_past_midnight() -> None:
    quiet = QuietHours.model_validate(EVENINGS)
    day = datetime(2026, 6, 3)
    assert quiet_until(_utc(day.replace(hour=20, minute=59)), quiet) is None
    assert quiet_until(_utc(day.replace(hour=21)), quiet) == _utc(datetime(2026, 6, 4, 8))
    assert quiet_until(_utc(day.replace(hour=7, minute=59)), quiet) == _utc(day.replace(hour=8))
    assert quiet_until(_utc(day.replace(hour=8)), quiet) is None
    lunch = QuietHours.model_validate({"start": "12:00", "end": "13:30"})
    assert quiet_until(_utc(day.replace(hour=12, minute=5)), lunch) == _utc(
        day.replace(hour=13, minute=30)
    )


@given(
    moment=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    start=st.times(),
    end=st.times(),
    zone=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]),
)
def test_the_due_time_is_never_inside_quiet_hours(
    moment: datetime, start: time, end: time, zone: str
) -> None:
    quiet = QuietHours(start=start, end=end, time_zone=zone)
    until = quiet_until(moment, quiet)
    if until is not None:
        assert until > moment
        assert until - moment <= timedelta(hours=25)
        assert quiet_until(until, quiet) is None


def test_quiet_hours_hold_marketing_until_morning_or_drop_it(
    api: TestClient, track: Tracker, deliverer: Deliverer, sender: FakeSender, clock: Clock
) -> None:
    set_channel(api, "email", "smtp", SMTP, quiet_hours=EVENINGS)
    save_template(api, "news")
    save_template(api, "code", purpose="transactional")
    pid = person(track, api, "u", email="u@acme.cn")
    evening = clock.now.replace(hour=14)  # 22:00 in Shanghai
    clock.now = evening
    news, code = send(api, pid, "news"), send(api, pid, "code")
    deliverer.run_pending()
    assert message(api, code)["status"] == "sent"
    held = message(api, news)
    assert held["status"] == "queued"
    assert parse_timestamp(held["due_at"]) == evening + timedelta(hours=10)
    clock.advance(hours=10)
    deliverer.run_pending()
    assert message(api, news)["status"] == "sent"

    set_channel(api, "email", "smtp", SMTP, quiet_hours={**EVENINGS, "on_quiet": "drop"})
    clock.now = evening + timedelta(days=1)
    dropped = send(api, pid, "news")
    deliverer.run_pending()
    found = message(api, dropped)
    assert (found["status"], found["reason"]) == ("skipped", "quiet_hours")


def test_a_cap_holds_the_third_message_in_a_week(
    api: TestClient, track: Tracker, deliverer: Deliverer, clock: Clock
) -> None:
    caps = {"marketing": [{"max": 2, "days": 7}], "on_cap": "wait"}
    set_channel(api, "email", "smtp", SMTP, caps=caps)
    save_template(api, "news")
    pid = person(track, api, "u", email="u@acme.cn")
    # Three in one batch: the cap counts the two let through before the third.
    first, second, third = (send(api, pid, "news") for _ in range(3))
    deliverer.run_pending()
    statuses = [message(api, m)["status"] for m in (first, second, third)]
    assert statuses == ["sent", "sent", "queued"]
    clock.advance(days=6, hours=23)
    deliverer.run_pending()
    assert message(api, third)["status"] == "queued"
    clock.advance(hours=1, seconds=1)
    deliverer.run_pending()
    assert message(api, third)["status"] == "sent"


def test_a_cap_set_to_drop_skips(
    api: TestClient, track: Tracker, deliverer: Deliverer, clock: Clock
) -> None:
    caps = {"marketing": [{"max": 1, "days": 1}], "on_cap": "drop"}
    set_channel(api, "email", "smtp", SMTP, caps=caps)
    save_template(api, "news")
    save_template(api, "receipt", purpose="transactional")
    pid = person(track, api, "u", email="u@acme.cn")
    ids = [send(api, pid, "news"), send(api, pid, "news"), send(api, pid, "receipt")]
    deliverer.run_pending()
    found = [(message(api, m)["status"], message(api, m)["reason"]) for m in ids]
    assert found == [("sent", None), ("skipped", "capped"), ("sent", None)]


def test_a_message_in_flight_elsewhere_holds_a_capped_one_until_it_has_left_or_failed(
    api: TestClient, track: Tracker, deliverer: Deliverer, clock: Clock
) -> None:
    """Two deliverers (or one deliverer's two batches, claimed while the last is sent) each
    holding one of a person's messages must not both let theirs through a cap of one; nor may
    the cap drop a message for one that may still fail."""
    caps = {"marketing": [{"max": 1, "days": 1}], "on_cap": "drop"}
    set_channel(api, "email", "smtp", SMTP, caps=caps)
    save_template(api, "news")
    pid = person(track, api, "u", email="u@acme.cn")
    first, second = send(api, pid, "news"), send(api, pid, "news")
    with unit_of_work() as session:  # another deliverer claims the first, and stalls
        other = claim(session, "other", 60, 1, clock(), deliverer.workspace_id)
    assert [m.id for m in other] == [first]
    deliverer.run_pending()
    held = message(api, second)
    assert (held["status"], held["reason"]) == ("queued", None)
    assert parse_timestamp(held["due_at"]) == clock() + timedelta(seconds=60)
    with unit_of_work() as session:  # the other deliverer's provider refused it
        record_outcomes(session, "other", [Outcome(first, Result.PERMANENT)], clock())
    clock.advance(seconds=61)
    deliverer.run_pending()
    assert [message(api, m)["status"] for m in (first, second)] == ["failed", "sent"]
