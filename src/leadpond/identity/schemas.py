"""What the identity API reads and answers."""

from pydantic import BaseModel, Field

from leadpond.identity.models import MergeSuggestion, PersonMerge
from leadpond.kit.schemas import UtcDatetime


class IdentifierRef(BaseModel):
    type: str = Field(min_length=1, max_length=64)
    value: str = Field(min_length=1, max_length=512)


class UnmergeBody(BaseModel):
    identifier: IdentifierRef


class UnmergeRead(BaseModel):
    person_id: int
    restored_person_id: int
    moved_identifiers: int
    moved_events: int


class MergeRead(BaseModel):
    id: int
    survivor_id: int
    merged_id: int
    identifier: IdentifierRef | None
    event_id: int | None
    reason: str
    actor: str
    created_at: UtcDatetime
    undone_at: UtcDatetime | None
    undone_by: str | None

    @classmethod
    def build(cls, merge: PersonMerge) -> "MergeRead":
        identifier = (
            IdentifierRef(type=merge.identifier_type, value=merge.identifier_value)
            if merge.identifier_type and merge.identifier_value
            else None
        )
        return cls(
            id=merge.id,
            survivor_id=merge.survivor_id,
            merged_id=merge.merged_id,
            identifier=identifier,
            event_id=merge.event_id,
            reason=merge.reason,
            actor=merge.actor,
            created_at=merge.created_at,
            undone_at=merge.undone_at,
            undone_by=merge.undone_by,
        )


class EvidenceRead(BaseModel):
    """One comparison behind a suggestion: the level it reached and its weight (log2 Bayes
    factor; null for the exact name-and-company rule)."""

    comparison: str
    level: str
    weight: float | None


class SuggestionRead(BaseModel):
    id: int
    person_a_id: int
    person_b_id: int
    score: float
    reasons: list[str]
    method: str
    evidence: list[EvidenceRead]
    status: str
    created_at: UtcDatetime
    decided_at: UtcDatetime | None
    decided_by: str | None

    @classmethod
    def build(cls, s: MergeSuggestion) -> "SuggestionRead":
        return cls(
            id=s.id,
            person_a_id=s.person_a_id,
            person_b_id=s.person_b_id,
            score=s.score,
            reasons=list(s.reasons),
            method=s.method,
            evidence=[EvidenceRead(**item) for item in s.evidence or []],
            status=s.status,
            created_at=s.created_at,
            decided_at=s.decided_at,
            decided_by=s.decided_by,
        )


class SuggestionPage(BaseModel):
    """One page of the review queue; pass ``next_cursor`` as ``cursor`` for the next one."""

    total: int
    items: list[SuggestionRead]
    next_cursor: str | None


class ScanBody(BaseModel):
    full: bool = Field(
        default=False, description="score every pair, not only those of changed people"
    )


class SuggestionDecision(BaseModel):
    suggestion: SuggestionRead
    person_id: int | None = None


class IdentifierTypeRead(BaseModel):
    type: str
    priority: int
    limit: int
    weak: bool
    blocked: list[str]


class IdentitySettingsRead(BaseModel):
    types: list[IdentifierTypeRead]
    blocked: list[str]
    trait_source_ranking: list[str]
