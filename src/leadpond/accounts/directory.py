"""Reading accounts, attaching aliases and keeping the role keyword table: what the API serves."""

import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, union
from sqlalchemy.orm import Session

from leadpond.accounts.matching import deletions, fuzzy_eligible
from leadpond.accounts.models import Account, AccountKey, AccountSettings, PersonAccount
from leadpond.accounts.scope import accounts, live_links
from leadpond.accounts.service import role_table
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.kit.pagination import count
from leadpond.kit.scope import in_workspace, owned
from leadpond.normalise.company import normalise_company_name, normalise_domain
from leadpond.normalise.roles import InvalidRoleTable, check_role_table


class AccountNotFound(NotFound):
    code = "account_not_found"


class AliasTaken(Conflict):
    code = "alias_taken"


def _holding(workspace_id: uuid.UUID, *conditions: ColumnElement[bool]) -> Select[int]:
    return select(AccountKey.account_id).where(owned(AccountKey, workspace_id), or_(*conditions))


def find_accounts(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    domain: str | None,
    name: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Account]]:
    """Accounts by domain and/or by name as typed (星环科技 finds 北京星环信息科技有限公司).

    A name matches an account holding the same full name or alias key, or the same core key:
    a search may return every account sharing a trade name, unlike the pipeline's matcher.
    """
    stmt = accounts(workspace_id)
    if domain is not None:
        normalised = normalise_domain(domain)
        if normalised is None:
            raise InvalidInput(f"{domain!r} is not a domain", field="domain")
        stmt = stmt.where(
            Account.id.in_(
                _holding(
                    workspace_id, (AccountKey.kind == "domain") & (AccountKey.value == normalised)
                )
            )
        )
    if name is not None:
        company = normalise_company_name(name)
        if company is None:
            raise InvalidInput(f"{name!r} does not name a company", field="name")
        conditions = [
            AccountKey.kind.in_(("name", "alias")) & (AccountKey.value == company.full_key)
        ]
        if company.core_matchable:
            conditions.append(
                (AccountKey.kind == "core_name") & (AccountKey.value == company.core_key)
            )
        stmt = stmt.where(Account.id.in_(_holding(workspace_id, *conditions)))
    rows = session.scalars(stmt.order_by(Account.id).limit(limit).offset(offset)).all()
    return count(session, stmt), list(rows)


# Above every character a key can continue with: ``value >= k AND value < k + _TOP`` is the keys
# starting with ``k``, a range of the (workspace, kind, value) index on both databases.
_TOP = "\U0010ffff"
_LATIN_WORD = re.compile(r"^[a-z0-9][a-z0-9-]{2,}$")


def accounts_for_search(
    session: Session, workspace_id: uuid.UUID, text: str, limit: int
) -> list[int]:
    """Accounts a directory search may mean: a company name or its start (成都中海 finds
    成都中海地产, held as its regional name key), a trade name (星环科技 finds every 星环), a
    domain (``zhonghai.com``, ``www.zhonghai.com``) or a domain's start (``zhonghai``). Each is
    an equality or a prefix range on the account keys' (workspace, kind, value) index."""
    parts: list[Select[Any]] = []

    def keys(*conditions: ColumnElement[bool]) -> None:
        parts.append(
            select(AccountKey.account_id).where(owned(AccountKey, workspace_id), *conditions)
        )

    company = normalise_company_name(text)
    if company is not None and company.full_key:
        start = company.full_key
        keys(
            AccountKey.kind.in_(("name", "alias")),
            AccountKey.value >= start,
            AccountKey.value < start + _TOP,
        )
        if company.core_matchable:
            keys(AccountKey.kind == "core_name", AccountKey.value == company.core_key)
    word = text.strip().lower()
    domain = normalise_domain(word) if "." in word else None
    if domain is not None:
        keys(AccountKey.kind == "domain", AccountKey.value == domain)
    elif _LATIN_WORD.match(word):
        keys(AccountKey.kind == "domain", AccountKey.value >= word, AccountKey.value < word + _TOP)
    if not parts:
        return []
    found = union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return list(session.scalars(select(found.c[0]).limit(limit)))


def get_account(session: Session, workspace_id: uuid.UUID, account_id: int) -> Account:
    """The account, or 404 when it is not in this workspace."""
    account = session.scalar(accounts(workspace_id).where(Account.id == account_id))
    if account is None:
        raise AccountNotFound(f"account {account_id} not found")
    return account


def people_of(session: Session, workspace_id: uuid.UUID, account_id: int) -> list[PersonAccount]:
    """The live people linked to the account, primary links first."""
    return list(
        session.scalars(
            live_links(workspace_id)
            .where(PersonAccount.account_id == account_id)
            .order_by(PersonAccount.is_primary.desc(), PersonAccount.person_id)
        )
    )


def keys_of(session: Session, workspace_id: uuid.UUID, account_id: int) -> list[AccountKey]:
    """The account's identifying keys (group ids, codes, domains, names, aliases)."""
    return list(
        session.scalars(
            in_workspace(AccountKey, workspace_id)
            .where(
                AccountKey.account_id == account_id,
                AccountKey.kind.in_(("group_id", "uscc", "domain", "name", "alias")),
            )
            .order_by(AccountKey.id)
        )
    )


def add_alias(session: Session, workspace_id: uuid.UUID, account_id: int, alias: str) -> Account:
    """Attach a name (an English name, an abbreviation) to the account explicitly.

    An alias outranks a name learned from data; 409 when another account holds the alias.
    """
    account = get_account(session, workspace_id, account_id)
    company = normalise_company_name(alias)
    if company is None:
        raise InvalidInput(f"{alias!r} does not name a company", field="alias")
    holder = session.scalar(
        select(AccountKey.account_id).where(
            owned(AccountKey, workspace_id),
            AccountKey.kind == "alias",
            AccountKey.value == company.full_key,
        )
    )
    if holder == account.id:
        return account
    if holder is not None:
        raise AliasTaken(f"alias {alias!r} belongs to account {holder}", account_id=holder)
    wanted = [("alias", company.full_key)]
    if company.core_matchable:
        wanted.append(("core_name", company.core_key))
    if fuzzy_eligible(company):
        wanted += [("name_deletion", shorter) for shorter in sorted(deletions(company.full_key))]
    held = set(
        session.execute(
            select(AccountKey.kind, AccountKey.value).where(
                AccountKey.account_id == account.id,
                AccountKey.kind.in_(("core_name", "name_deletion")),
            )
        )
    )
    session.add_all(
        AccountKey(workspace_id=workspace_id, kind=kind, value=value, account_id=account.id)
        for kind, value in wanted
        if (kind, value) not in held
    )
    session.flush()
    return account


def get_role_table(session: Session, workspace_id: uuid.UUID) -> dict[str, list[str]]:
    """The title keyword table the workspace infers roles with."""
    return {role: list(words) for role, words in role_table(session, workspace_id).items()}


def put_role_table(
    session: Session, workspace_id: uuid.UUID, table: Mapping[str, object]
) -> dict[str, list[str]]:
    """Replace the workspace's title keyword table; applies to titles seen from now on."""
    try:
        checked = check_role_table(table)
    except InvalidRoleTable as exc:
        raise InvalidInput(str(exc), field="roles") from exc
    settings = session.get(AccountSettings, workspace_id)
    if settings is None:
        session.add(AccountSettings(workspace_id=workspace_id, role_keywords=checked))
    else:
        settings.role_keywords = checked
    session.flush()
    return checked
