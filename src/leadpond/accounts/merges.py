"""Merging accounts by hand, recorded and reversible like person merges.

A merge folds one account into another (keys, people's links, missing fields) and keeps a
snapshot of everything the folded account held; undoing it brings the account back under its
own id with its keys and links, restores the survivor's own fields, and keeps the two apart
(their suggestion, if any, is marked rejected).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from leadpond.accounts.consolidate import absorb_account, take_over_fields
from leadpond.accounts.directory import get_account
from leadpond.accounts.models import (
    SHARED_KEY_KINDS,
    Account,
    AccountKey,
    AccountMerge,
    AccountSuggestion,
    PersonAccount,
)
from leadpond.flow.hooks import people_changed
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.kit.scope import in_workspace, owned


class AccountMergeNotFound(NotFound):
    code = "account_merge_not_found"


class AccountMergeUndone(Conflict):
    code = "account_merge_undone"


class AccountsConflict(Conflict):
    code = "accounts_conflict"


_FIELDS = ("name", "name_key", "core_key", "domain", "uscc", "industry", "traits")
_LINK_FIELDS = ("role", "title", "is_primary", "source")
_LINK_TIMES = ("title_seen_at", "first_seen_at", "last_seen_at")


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _untime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _snapshot(
    session: Session, workspace_id: uuid.UUID, survivor: Account, loser: Account
) -> dict[str, Any]:
    keys = session.execute(
        select(AccountKey.kind, AccountKey.value).where(
            owned(AccountKey, workspace_id), AccountKey.account_id == loser.id
        )
    ).all()
    links = session.scalars(
        in_workspace(PersonAccount, workspace_id).where(PersonAccount.account_id == loser.id)
    ).all()
    both = session.scalars(
        select(PersonAccount.person_id).where(
            owned(PersonAccount, workspace_id),
            PersonAccount.account_id == survivor.id,
            PersonAccount.person_id.in_([link.person_id for link in links]),
        )
    ).all()
    return {
        "linked_to_both": sorted(both),
        "account": {field: getattr(loser, field) for field in _FIELDS}
        | {"created_at": _time(loser.created_at)},
        "survivor": {field: getattr(survivor, field) for field in ("domain", "uscc", "industry")}
        | {"traits": survivor.traits},
        "keys": [[kind, value] for kind, value in keys],
        "links": [
            {"person_id": link.person_id}
            | {field: getattr(link, field) for field in _LINK_FIELDS}
            | {field: _time(getattr(link, field)) for field in _LINK_TIMES}
            for link in links
        ],
    }


def merge_accounts(
    session: Session,
    workspace_id: uuid.UUID,
    survivor_id: int,
    merged_id: int,
    *,
    actor: str,
    reason: str = "manual",
) -> AccountMerge:
    """Fold ``merged_id`` into ``survivor_id``; the record can undo it."""
    if survivor_id == merged_id:
        raise InvalidInput("an account cannot be merged into itself", field="account_id")
    survivor = get_account(session, workspace_id, survivor_id)
    loser = get_account(session, workspace_id, merged_id)
    if survivor.uscc and loser.uscc and survivor.uscc != loser.uscc:
        raise AccountsConflict(
            f"accounts {survivor.id} and {loser.id} hold different credit codes: "
            "two companies, not one"
        )
    snapshot = _snapshot(session, workspace_id, survivor, loser)
    people = {link["person_id"] for link in snapshot["links"]}
    take_over_fields(survivor, loser)
    absorb_account(session, workspace_id, loser, survivor.id)
    record = AccountMerge(
        workspace_id=workspace_id,
        survivor_id=survivor.id,
        merged_id=merged_id,
        snapshot=snapshot,
        reason=reason,
        actor=actor,
    )
    session.add(record)
    _retire_suggestions(session, workspace_id, merged_id)
    session.flush()
    people_changed(session, workspace_id, people)
    return record


def _retire_suggestions(session: Session, workspace_id: uuid.UUID, account_id: int) -> None:
    session.execute(
        update(AccountSuggestion)
        .where(
            owned(AccountSuggestion, workspace_id),
            AccountSuggestion.status == "pending",
            or_(
                AccountSuggestion.account_a_id == account_id,
                AccountSuggestion.account_b_id == account_id,
            ),
        )
        .values(status="stale")
        .execution_options(synchronize_session=False)
    )


def unmerge_accounts(
    session: Session, workspace_id: uuid.UUID, merge_id: int, *, actor: str
) -> AccountMerge:
    """Bring a merged account back, with its keys, its people's links and the survivor's own
    fields; the two are then kept apart."""
    record = session.get(AccountMerge, merge_id)
    if record is None or record.workspace_id != workspace_id:
        raise AccountMergeNotFound(f"account merge {merge_id} not found")
    if record.undone_at is not None:
        raise AccountMergeUndone(f"account merge {merge_id} was undone already")
    survivor = get_account(session, workspace_id, record.survivor_id)
    snapshot = record.snapshot
    restored = Account(id=record.merged_id, workspace_id=workspace_id, **snapshot["account"])
    restored.created_at = _untime(snapshot["account"]["created_at"]) or utcnow()
    session.add(restored)
    for field, value in snapshot["survivor"].items():
        setattr(survivor, field, value)
    session.flush()
    _restore_keys(session, workspace_id, survivor.id, restored.id, snapshot["keys"])
    people = _restore_links(session, workspace_id, survivor.id, restored.id, snapshot)
    record.undone_at, record.undone_by = utcnow(), actor
    _keep_apart(session, workspace_id, survivor.id, restored.id, actor)
    session.flush()
    people_changed(session, workspace_id, people)
    return record


def _restore_keys(
    session: Session, workspace_id: uuid.UUID, survivor: int, restored: int, keys: list[list[str]]
) -> None:
    unique = [(kind, value) for kind, value in keys if kind not in SHARED_KEY_KINDS]
    shared = [(kind, value) for kind, value in keys if kind in SHARED_KEY_KINDS]
    for start in range(0, len(unique), 500):
        session.execute(
            update(AccountKey)
            .where(
                owned(AccountKey, workspace_id),
                AccountKey.account_id == survivor,
                tuple_(AccountKey.kind, AccountKey.value).in_(unique[start : start + 500]),
            )
            .values(account_id=restored)
            .execution_options(synchronize_session=False)
        )
    for start in range(0, len(shared), 500):
        session.execute(
            delete(AccountKey)
            .where(
                owned(AccountKey, workspace_id),
                AccountKey.account_id == restored,
                tuple_(AccountKey.kind, AccountKey.value).in_(shared[start : start + 500]),
            )
            .execution_options(synchronize_session=False)
        )
    if shared:
        now = utcnow()
        session.execute(
            insert(AccountKey),
            [
                {
                    "workspace_id": workspace_id,
                    "kind": kind,
                    "value": value,
                    "account_id": restored,
                    "created_at": now,
                }
                for kind, value in shared
            ],
        )


def _restore_links(
    session: Session,
    workspace_id: uuid.UUID,
    survivor: int,
    restored: int,
    snapshot: dict[str, Any],
) -> set[int]:
    """The restored account's people are linked to it again, as they were; links the merge
    moved onto the survivor leave it (those of people who worked at both stay)."""
    links: list[dict[str, Any]] = snapshot["links"]
    people = {link["person_id"] for link in links}
    moved = people - set(snapshot.get("linked_to_both", []))
    if moved:
        session.execute(
            delete(PersonAccount)
            .where(
                owned(PersonAccount, workspace_id),
                PersonAccount.account_id == survivor,
                PersonAccount.person_id.in_(moved),
            )
            .execution_options(synchronize_session=False)
        )
    if links:
        session.execute(
            insert(PersonAccount),
            [
                {
                    "workspace_id": workspace_id,
                    "account_id": restored,
                    "person_id": link["person_id"],
                }
                | {field: link[field] for field in _LINK_FIELDS}
                | {field: _untime(link[field]) for field in _LINK_TIMES}
                for link in links
            ],
        )
    return people


def _keep_apart(
    session: Session, workspace_id: uuid.UUID, survivor: int, restored: int, actor: str
) -> None:
    """A pair an operator split is never suggested again: its suggestion is rejected."""
    low, high = sorted((survivor, restored))
    found = session.scalar(
        in_workspace(AccountSuggestion, workspace_id).where(
            AccountSuggestion.account_a_id == low, AccountSuggestion.account_b_id == high
        )
    )
    if found is None:
        found = AccountSuggestion(
            workspace_id=workspace_id, account_a_id=low, account_b_id=high, score=0.0, evidence=[]
        )
        session.add(found)
    found.status, found.decided_at, found.decided_by = "rejected", utcnow(), actor


def account_merges(
    session: Session, workspace_id: uuid.UUID, account_id: int
) -> list[AccountMerge]:
    """Merges into or out of an account, oldest first, undone ones too."""
    return list(
        session.scalars(
            in_workspace(AccountMerge, workspace_id)
            .where(
                or_(AccountMerge.survivor_id == account_id, AccountMerge.merged_id == account_id)
            )
            .order_by(AccountMerge.id)
        )
    )
