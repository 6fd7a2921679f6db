"""The demo world, generated lazily: companies and their people in blocks of time-ordered messages.

Every draw comes from a ``random.Random`` seeded by (seed, what, index), so a world is the same
for the same seed, size and end date, and memory holds one block at a time, whatever the size.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadpond.demo.catalog import build_catalog
from leadpond.demo.companies import CompanyFactory
from leadpond.demo.journey import STAGES, Journey
from leadpond.demo.people import PersonFactory

BLOCK_PEOPLE = 5_000
YEAR = timedelta(days=365)


@dataclass(frozen=True)
class WorldSpec:
    """What identifies a world: the same spec always gives the same messages."""

    seed: int
    people: int
    end: date

    @property
    def start_at(self) -> datetime:
        """The first instant of the world's year (UTC)."""
        return self.end_at - YEAR

    @property
    def end_at(self) -> datetime:
        """The instant the world's year ends (midnight UTC starting ``end``)."""
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)


@dataclass
class Block:
    """The messages of a group of companies' people, in time order, with who each is about."""

    messages: list[dict[str, Any]]
    people: list[int]  # the true person of each message
    companies: list[int]  # the true company of each message
    person_count: int


@dataclass
class WorldStats:
    """What was generated: counts for the summary beside the ground truth."""

    people: int = 0
    companies: int = 0
    messages: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_event: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    industries: Counter[str] = field(default_factory=Counter)
    roles: Counter[str] = field(default_factory=Counter)
    noise: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts, with the stage funnel as people reaching at least each stage."""
        reached, total = {}, 0
        for stage in reversed(STAGES):
            total += self.stages[stage]
            reached[stage] = total
        return {
            "people": self.people,
            "companies": self.companies,
            "messages": self.messages,
            "messages_by_type": dict(sorted(self.by_type.items())),
            "messages_by_event": dict(sorted(self.by_event.items())),
            "funnel_reached": {stage: reached[stage] for stage in STAGES},
            "companies_by_industry": dict(sorted(self.industries.items())),
            "people_by_role": dict(sorted(self.roles.items())),
            "identity_noise": dict(sorted(self.noise.items())),
        }


def iter_blocks(
    spec: WorldSpec, stats: WorldStats | None = None, block_people: int = BLOCK_PEOPLE
) -> Iterator[Block]:
    """Generate the world block by block (whole companies per block, messages time-ordered)."""
    stats = stats if stats is not None else WorldStats()
    catalog = build_catalog(spec.seed, spec.start_at.timestamp(), spec.end_at.timestamp())
    companies, persons = CompanyFactory(spec.seed), PersonFactory(spec.seed)
    pending: list[tuple[float, dict[str, Any], int, int]] = []
    in_block = person_index = company_index = 0
    while person_index < spec.people:
        company = companies.make(company_index)
        company_index += 1
        stats.companies += 1
        stats.industries[company.industry.key] += 1
        for _ in range(min(company.contacts, spec.people - person_index)):
            person = persons.make(person_index, company)
            journey = Journey(person, catalog, spec.seed, stats.noise)
            for moment, message in journey.run():
                pending.append((moment, message, person_index, company.index))
            stats.stages[STAGES[journey.stage]] += 1
            stats.roles[person.role] += 1
            person_index += 1
            in_block += 1
        if in_block >= block_people or person_index == spec.people:
            yield _close_block(pending, in_block, stats)
            pending, in_block = [], 0
    stats.people = person_index


def _close_block(
    pending: list[tuple[float, dict[str, Any], int, int]], people: int, stats: WorldStats
) -> Block:
    pending.sort(key=lambda item: item[0])
    messages = [item[1] for item in pending]
    for message in messages:
        kind = message["type"]
        stats.by_type[kind] += 1
        stats.by_event["Page Viewed" if kind == "page" else message.get("event", kind)] += 1
    stats.messages += len(messages)
    return Block(
        messages=messages,
        people=[item[2] for item in pending],
        companies=[item[3] for item in pending],
        person_count=people,
    )
