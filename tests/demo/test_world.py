"""The demo world: deterministic, valid Segment messages, realistic identifiers and noise."""

from collections import defaultdict
from datetime import UTC, date, datetime
from itertools import pairwise

import orjson
import pytest
from stdnum.cn import uscc

from leadpond.demo.world import WorldSpec, WorldStats, iter_blocks
from leadpond.ingest.spec import normalise
from leadpond.normalise.contact import normalise_email, normalise_phone

SPEC = WorldSpec(seed=11, people=400, end=date(2026, 3, 31))
STANDARD_EVENTS = {
    "Form Submitted", "Event Registered", "Event Checked In", "Booth Checked In",
    "Webinar Attended", "Content Viewed", "Whitepaper Downloaded", "Trial Requested",
    "Demo Requested", "Certification Earned", "Email Opened", "Email Clicked", "QR Scanned",
    "WeChat Followed", "Article Read", "Order Completed", "Deal Updated",
}  # fmt: skip


def _world(spec: WorldSpec, block_people: int = 5_000) -> list[tuple[dict, int, int]]:
    rows = []
    for block in iter_blocks(spec, block_people=block_people):
        rows.extend(zip(block.messages, block.people, block.companies, strict=True))
    return rows


@pytest.fixture(scope="module")
def world() -> list[tuple[dict, int, int]]:
    return _world(SPEC)


def test_the_same_seed_gives_the_same_world(world: list[tuple[dict, int, int]]) -> None:
    again = _world(SPEC)
    assert orjson.dumps(again) == orjson.dumps(world)
    other = _world(WorldSpec(seed=12, people=400, end=SPEC.end))
    assert {m["messageId"] for m, _, _ in other}.isdisjoint(m["messageId"] for m, _, _ in world)


def test_block_size_changes_the_order_but_not_the_content(
    world: list[tuple[dict, int, int]],
) -> None:
    small_blocks = _world(SPEC, block_people=25)
    key = lambda row: row[0]["messageId"]  # noqa: E731
    assert orjson.dumps(sorted(small_blocks, key=key)) == orjson.dumps(sorted(world, key=key))


def test_messages_are_valid_time_ordered_and_inside_the_year(
    world: list[tuple[dict, int, int]],
) -> None:
    received = datetime(2026, 4, 1)
    start, end = SPEC.start_at.replace(tzinfo=None), SPEC.end_at.replace(tzinfo=None)
    stamps = []
    for message, _, _ in world:
        accepted = normalise(message, received_at=received)
        assert start <= accepted.timestamp < end
        stamps.append(accepted.timestamp)
        if message["type"] == "track":
            assert message["event"] in STANDARD_EVENTS
        if message["type"] == "page":
            assert message["name"] and message["properties"]["path"].startswith("/")
    assert stamps == sorted(stamps)
    assert len({m["messageId"] for m, _, _ in world}) == len(world)


def test_company_records_carry_valid_usccs_and_phones_normalise(
    world: list[tuple[dict, int, int]],
) -> None:
    codes, phones = set(), 0
    for message, _, _ in world:
        if message["type"] == "group" and "uscc" in message["traits"]:
            assert uscc.is_valid(message["traits"]["uscc"].upper())
            codes.add(message["traits"]["uscc"].upper())
        traits = message.get("traits") if message["type"] == "identify" else None
        if traits and "phone" in traits and "转" not in traits["phone"]:
            normalised = normalise_phone(traits["phone"])
            assert normalised is not None and normalised.startswith("+861"), traits["phone"]
            phones += 1
        if traits and "email" in traits:
            assert "@" in traits["email"]
    assert len(codes) > 10 and phones > 100


def test_one_person_shows_up_under_many_identifiers(world: list[tuple[dict, int, int]]) -> None:
    ids_of: dict[int, set[str]] = defaultdict(set)
    for message, person, _ in world:
        for field in ("anonymousId", "userId"):
            if field in message:
                ids_of[person].add(message[field])
    assert max(len(ids) for ids in ids_of.values()) >= 4


def test_shared_mailboxes_and_devices_span_several_true_people(
    world: list[tuple[dict, int, int]],
) -> None:
    people_of_email: dict[str, set[int]] = defaultdict(set)
    people_of_device: dict[str, set[int]] = defaultdict(set)
    for message, person, _ in world:
        email = (message.get("traits") or {}).get("email")
        if message["type"] == "identify" and email:
            people_of_email[normalise_email(email) or email].add(person)
        if "anonymousId" in message:
            people_of_device[message["anonymousId"]].add(person)
    assert any(len(people) > 1 for people in people_of_email.values())
    assert any(len(people) > 1 for people in people_of_device.values())


def test_every_message_of_a_person_belongs_to_one_company(
    world: list[tuple[dict, int, int]],
) -> None:
    company_of: dict[int, int] = {}
    for _, person, company in world:
        assert company_of.setdefault(person, company) == company
    assert len(company_of) <= SPEC.people


def test_the_funnel_narrows_stage_by_stage() -> None:
    stats = WorldStats()
    for _ in iter_blocks(WorldSpec(seed=5, people=2_000, end=date(2026, 3, 31)), stats):
        pass
    funnel = list(stats.to_dict()["funnel_reached"].values())
    assert funnel[0] == 2_000 == stats.people
    assert all(later <= earlier for earlier, later in pairwise(funnel))
    assert funnel[2] > 200 and funnel[4] > 10 and funnel[5] > 0  # registered, opportunity, won
    assert set(stats.noise) >= {"email_typo", "phone_typo", "shared_mailbox", "kiosk_form"}
    assert (
        datetime.fromisoformat(WorldSpec(1, 1, date(2026, 3, 31)).end_at.isoformat()).tzinfo == UTC
    )
