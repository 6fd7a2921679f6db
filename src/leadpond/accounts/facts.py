"""People's accounts as the condition language sees them (``{account: {...}}`` atoms)."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.kit.scope import owned

_CHUNK = 500


def linked_accounts(
    session: Session, workspace_id: uuid.UUID, person_ids: Iterable[int]
) -> tuple[dict[int, list[int]], dict[int, dict[str, Any]]]:
    """person -> their account ids, and account id -> its fields (name, domain, industry,
    uscc, traits) for the people given."""
    links: dict[int, list[int]] = {}
    accounts: dict[int, dict[str, Any]] = {}
    ordered = sorted(person_ids)
    for start in range(0, len(ordered), _CHUNK):
        rows = session.execute(
            select(
                PersonAccount.person_id,
                Account.id,
                Account.name,
                Account.domain,
                Account.industry,
                Account.uscc,
                Account.traits,
            )
            .join(Account, Account.id == PersonAccount.account_id)
            .where(
                owned(PersonAccount, workspace_id),
                PersonAccount.person_id.in_(ordered[start : start + _CHUNK]),
            )
        )
        for pid, aid, name, domain, industry, uscc, traits in rows:
            links.setdefault(pid, []).append(aid)
            accounts[aid] = {
                "name": name,
                "domain": domain,
                "industry": industry,
                "uscc": uscc,
                "traits": traits or {},
            }
    return links, accounts
