"""Folding an account that was made from an address alone into the named account it belongs to."""

import uuid

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from leadpond.accounts.models import SHARED_KEY_KINDS, Account, AccountKey, PersonAccount
from leadpond.kit.scope import owned


def absorb_account(
    session: Session, workspace_id: uuid.UUID, loser: Account, survivor_id: int
) -> None:
    """Move the loser's keys and people to the survivor, then delete the loser.

    A person linked to both keeps the survivor's link; shared keys the survivor already holds
    are dropped rather than duplicated.
    """
    held = aliased(AccountKey)
    session.execute(
        delete(AccountKey).where(
            owned(AccountKey, workspace_id),
            AccountKey.account_id == loser.id,
            AccountKey.kind.in_(SHARED_KEY_KINDS),
            exists(
                select(held.id).where(
                    and_(
                        held.account_id == survivor_id,
                        held.kind == AccountKey.kind,
                        held.value == AccountKey.value,
                    )
                )
            ),
        )
    )
    session.execute(
        update(AccountKey)
        .where(owned(AccountKey, workspace_id), AccountKey.account_id == loser.id)
        .values(account_id=survivor_id)
        .execution_options(synchronize_session=False)
    )
    both = aliased(PersonAccount)
    session.execute(
        delete(PersonAccount)
        .where(
            owned(PersonAccount, workspace_id),
            PersonAccount.account_id == loser.id,
            exists(
                select(both.id).where(
                    both.account_id == survivor_id, both.person_id == PersonAccount.person_id
                )
            ),
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(PersonAccount)
        .where(owned(PersonAccount, workspace_id), PersonAccount.account_id == loser.id)
        .values(account_id=survivor_id)
        .execution_options(synchronize_session=False)
    )
    session.delete(loser)


def take_over_fields(survivor: Account, loser: Account) -> None:
    """The survivor keeps its own values and fills its gaps from the loser."""
    survivor.domain = survivor.domain or loser.domain
    survivor.uscc = survivor.uscc or loser.uscc
    survivor.industry = survivor.industry or loser.industry
    if loser.traits:
        survivor.traits = {**loser.traits, **(survivor.traits or {})}
