"""Next best content: for people (set-wise) and for an account, the published items of their
stage and interests that they have not seen, ranked, each with the reasons it was picked.

A person's interests are their interest tags (``interest:``, ``product_pref:``,
``industry_pref:``, ``topic:``) and their account's industry; what they have seen is every
item their ``Content Viewed`` and ``Whitepaper Downloaded`` events name.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.accounts.scope import live_links
from leadpond.content.analytics import INTEREST_CATEGORIES, prop
from leadpond.content.models import ContentItem
from leadpond.content.service import facets_of
from leadpond.ingest.models import Event
from leadpond.kit.scope import in_workspace, owned
from leadpond.reports.content_tally import DOWNLOADED, VIEWED
from leadpond.rules.models import PersonStage, PersonTag
from leadpond.rules.vocabulary import stage_order

STAGE_POINTS, NEXT_STAGE_POINTS, TOPIC_POINTS, INDUSTRY_POINTS = 3.0, 1.0, 2.0, 1.0


@dataclass(frozen=True)
class Reason:
    code: str  # stage, next_stage, interest, industry
    value: str

    def read(self) -> dict[str, str]:
        """The reason for the API: its code, value and an English sentence."""
        return {"code": self.code, "value": self.value, "text": self.text}

    @property
    def text(self) -> str:
        return {
            "stage": f"serves their stage {self.value}",
            "next_stage": f"prepares their next stage {self.value}",
            "interest": f"on their interest {self.value}",
            "industry": f"for their industry {self.value}",
        }[self.code]


@dataclass(frozen=True)
class Pick:
    item: ContentItem
    score: float
    reasons: tuple[Reason, ...]


@dataclass
class Profile:
    """What a recommendation is made for: stage, interests, industries, items seen."""

    stage: str | None = None
    interests: set[str] = field(default_factory=set)
    industries: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)


def _profiles(
    session: Session, workspace_id: uuid.UUID, person_ids: Sequence[int]
) -> dict[int, Profile]:
    found = {pid: Profile() for pid in person_ids}
    for pid, stage in session.execute(
        select(PersonStage.person_id, PersonStage.stage).where(
            owned(PersonStage, workspace_id), PersonStage.person_id.in_(person_ids)
        )
    ):
        found[pid].stage = stage
    prefixes = tuple(f"{c}:" for c in INTEREST_CATEGORIES)
    for pid, tag in session.execute(
        select(PersonTag.person_id, PersonTag.tag).where(
            owned(PersonTag, workspace_id), PersonTag.person_id.in_(person_ids)
        )
    ):
        if tag.startswith(prefixes):
            category, _, value = tag.partition(":")
            (found[pid].industries if category == "industry_pref" else found[pid].interests).add(
                value
            )
    for pid, industry in session.execute(
        live_links(workspace_id, PersonAccount.person_id, Account.industry)
        .join(Account, Account.id == PersonAccount.account_id)
        .where(PersonAccount.person_id.in_(person_ids), Account.industry.is_not(None))
    ):
        found[pid].industries.add(industry)
    for pid, key in session.execute(
        select(Event.person_id, prop("content_id"))
        .where(
            owned(Event, workspace_id),
            Event.person_id.in_(person_ids),
            Event.event.in_((VIEWED, DOWNLOADED)),
        )
        .distinct()
    ):
        if key:
            found[pid].seen.add(key)
    return found


def _rank(
    profile: Profile,
    candidates: Iterable[tuple[ContentItem, dict[str, list[str]]]],
    order: list[str],
    limit: int,
) -> list[Pick]:
    following = None
    if profile.stage in order and order.index(profile.stage) + 1 < len(order):
        following = order[order.index(profile.stage) + 1]
    picks = []
    for item, facets in candidates:
        if item.key in profile.seen:
            continue
        reasons: list[Reason] = []
        if profile.stage and profile.stage in facets["stage"]:
            reasons.append(Reason("stage", profile.stage))
        elif following and following in facets["stage"]:
            reasons.append(Reason("next_stage", following))
        topics = [*facets["topic"], *facets["product"]]
        reasons += [Reason("interest", t) for t in dict.fromkeys(topics) if t in profile.interests]
        reasons += [Reason("industry", i) for i in facets["industry"] if i in profile.industries]
        if not reasons:
            continue
        points = {
            "stage": STAGE_POINTS,
            "next_stage": NEXT_STAGE_POINTS,
            "interest": TOPIC_POINTS,
            "industry": INDUSTRY_POINTS,
        }
        picks.append(Pick(item, sum(points[r.code] for r in reasons), tuple(reasons)))
    picks.sort(
        key=lambda p: (-p.score, -(p.item.published_at or p.item.created_at).timestamp(), p.item.id)
    )
    return picks[:limit]


def _candidates(
    session: Session, workspace_id: uuid.UUID
) -> list[tuple[ContentItem, dict[str, list[str]]]]:
    items = list(
        session.scalars(
            in_workspace(ContentItem, workspace_id).where(ContentItem.status == "published")
        )
    )
    facets = facets_of(session, workspace_id, [i.id for i in items])
    return [(item, facets[item.id]) for item in items]


def recommend(
    session: Session, workspace_id: uuid.UUID, person_ids: Sequence[int], limit: int = 5
) -> dict[int, list[Pick]]:
    """The next best items for each person (set-wise: a few queries for all of them)."""
    if not person_ids:
        return {}
    profiles = _profiles(session, workspace_id, list(person_ids))
    candidates = _candidates(session, workspace_id)
    order = stage_order(session, workspace_id)
    return {pid: _rank(p, candidates, order, limit) for pid, p in profiles.items()}


def profile_of(session: Session, workspace_id: uuid.UUID, person_id: int) -> Profile:
    """The person's stage, interests, industries and seen items (what picks are made from)."""
    return _profiles(session, workspace_id, [person_id])[person_id]


def recommend_for_account(
    session: Session, workspace_id: uuid.UUID, account_id: int, limit: int = 5
) -> tuple[Profile, list[Pick]]:
    """The next best items for an account's people together: their most common stage, all
    their interests and industries, and nothing any of them has seen."""
    people = list(
        session.scalars(
            live_links(workspace_id, PersonAccount.person_id).where(
                PersonAccount.account_id == account_id
            )
        )
    )
    profiles = _profiles(session, workspace_id, people)
    merged = Profile()
    stages: dict[str, int] = defaultdict(int)
    for profile in profiles.values():
        if profile.stage:
            stages[profile.stage] += 1
        merged.interests |= profile.interests
        merged.industries |= profile.industries
        merged.seen |= profile.seen
    account = session.scalar(in_workspace(Account, workspace_id).where(Account.id == account_id))
    if account is not None and account.industry:
        merged.industries.add(account.industry)
    merged.stage = max(sorted(stages), key=lambda s: stages[s]) if stages else None
    order = stage_order(session, workspace_id)
    return merged, _rank(merged, _candidates(session, workspace_id), order, limit)
