"""What the accounts API reads and answers."""

from typing import Any

from pydantic import BaseModel, Field

from leadpond.accounts.models import (
    Account,
    AccountKey,
    AccountMerge,
    AccountSuggestion,
    PersonAccount,
)
from leadpond.kit.schemas import UtcDatetime


class AccountRead(BaseModel):
    id: int
    name: str
    domain: str | None
    uscc: str | None
    industry: str | None
    traits: dict[str, Any]
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def build(cls, account: Account) -> "AccountRead":
        return cls(
            id=account.id,
            name=account.name,
            domain=account.domain,
            uscc=account.uscc,
            industry=account.industry,
            traits=account.traits or {},
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class AccountKeyRead(BaseModel):
    kind: str
    value: str


class AccountPersonRead(BaseModel):
    person_id: int
    role: str | None
    title: str | None
    is_primary: bool
    source: str
    first_seen_at: UtcDatetime
    last_seen_at: UtcDatetime


class AccountDetail(AccountRead):
    keys: list[AccountKeyRead]
    people: list[AccountPersonRead]

    @classmethod
    def assemble(
        cls, account: Account, keys: list[AccountKey], people: list[PersonAccount]
    ) -> "AccountDetail":
        return cls(
            **AccountRead.build(account).model_dump(),
            keys=[AccountKeyRead(kind=k.kind, value=k.value) for k in keys],
            people=[
                AccountPersonRead(
                    person_id=link.person_id,
                    role=link.role,
                    title=link.title,
                    is_primary=link.is_primary,
                    source=link.source,
                    first_seen_at=link.first_seen_at,
                    last_seen_at=link.last_seen_at,
                )
                for link in people
            ],
        )


class AliasCreate(BaseModel):
    alias: str = Field(min_length=1, max_length=300)


class RoleTableBody(BaseModel):
    roles: dict[str, list[str]]


class AccountMergeBody(BaseModel):
    account_id: int = Field(ge=1, le=2**62, description="the account folded into this one")


class AccountMergeRead(BaseModel):
    id: int
    survivor_id: int
    merged_id: int
    merged_name: str
    reason: str
    actor: str
    created_at: UtcDatetime
    undone_at: UtcDatetime | None
    undone_by: str | None

    @classmethod
    def build(cls, merge: AccountMerge) -> "AccountMergeRead":
        return cls(
            id=merge.id,
            survivor_id=merge.survivor_id,
            merged_id=merge.merged_id,
            merged_name=str(merge.snapshot.get("account", {}).get("name", "")),
            reason=merge.reason,
            actor=merge.actor,
            created_at=merge.created_at,
            undone_at=merge.undone_at,
            undone_by=merge.undone_by,
        )


class AccountEvidenceRead(BaseModel):
    comparison: str
    level: str
    weight: float | None


class AccountSuggestionRead(BaseModel):
    id: int
    account_a_id: int
    account_b_id: int
    score: float
    evidence: list[AccountEvidenceRead]
    status: str
    created_at: UtcDatetime
    decided_at: UtcDatetime | None
    decided_by: str | None

    @classmethod
    def build(cls, s: AccountSuggestion) -> "AccountSuggestionRead":
        return cls(
            id=s.id,
            account_a_id=s.account_a_id,
            account_b_id=s.account_b_id,
            score=s.score,
            evidence=[AccountEvidenceRead(**item) for item in s.evidence or []],
            status=s.status,
            created_at=s.created_at,
            decided_at=s.decided_at,
            decided_by=s.decided_by,
        )


class AccountSuggestionPage(BaseModel):
    total: int
    items: list[AccountSuggestionRead]
    next_cursor: str | None


class AccountSuggestionDecision(BaseModel):
    suggestion: AccountSuggestionRead
    account_id: int | None = None
