"""What the accounts API reads and answers."""

from typing import Any

from pydantic import BaseModel, Field

from leadpond.accounts.models import Account, AccountKey, PersonAccount
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
