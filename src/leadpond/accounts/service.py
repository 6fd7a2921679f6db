"""Linking people to accounts: the pipeline stage, and relinking after a merge or unmerge.

Per workspace and batch the stage reads every key its events could hit in a few set-wise
queries, decides in memory (``matching.AccountDirectory``), then writes new accounts, keys and
links in bulk: no query per event.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from leadpond.accounts.consolidate import absorb_account, take_over_fields
from leadpond.accounts.links import LinkChange, write_links
from leadpond.accounts.matching import (
    AccountDirectory,
    AccountSignals,
    KeyRef,
    deletions,
    fuzzy_eligible,
    group_signals,
    person_signals,
    title_of,
)
from leadpond.accounts.models import (
    SHARED_KEY_KINDS,
    Account,
    AccountKey,
    AccountSettings,
    PersonAccount,
)
from leadpond.db.engine import dialect_insert
from leadpond.flow.batch import Batch, time_order_sql
from leadpond.ingest.models import Event, json_member
from leadpond.kit.scope import owned
from leadpond.normalise.roles import DEFAULT_ROLE_KEYWORDS, RoleTable, role_inferrer
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in

_CHUNK = 500
_LINKING_CALLS = ("identify", "group")


@dataclass(slots=True)
class Observation:
    """One event's word on a person's company and title."""

    person_id: int
    at: datetime
    signals: AccountSignals | None
    title: str | None


@dataclass
class _Plan:
    """What one batch decided, before new accounts have ids."""

    directory: AccountDirectory
    accounts: dict[int, Account]
    new_keys: list[tuple[int, KeyRef]] = field(default_factory=list)
    links: dict[tuple[int, int], LinkChange] = field(default_factory=dict)
    titles: dict[int, tuple[datetime, str]] = field(default_factory=dict)
    absorbed: list[tuple[int, int]] = field(default_factory=list)


def observe(
    call: str, group_id: str | None, traits: Any, person_id: int, at: datetime
) -> Observation | None:
    """What an identify or group call says about its person's company; None if nothing."""
    if call not in _LINKING_CALLS or not isinstance(traits, dict):
        return None
    if call == "group":
        signals = group_signals(group_id, traits)
        return Observation(person_id, at, signals, None) if signals else None
    signals, title = person_signals(traits), title_of(traits)
    if signals is None and title is None:
        return None
    return Observation(person_id, at, signals, title)


def link_batch(batch: Batch) -> None:
    """Pipeline stage: link each event's person to the account its company signals point at."""
    for workspace_id, events in batch.by_workspace().items():
        observations = [
            found
            for event in events
            if event.person_id is not None
            and event.type in _LINKING_CALLS
            and (
                found := observe(
                    event.type,
                    event.group_id,
                    event.payload.get("traits"),
                    event.person_id,
                    event.timestamp,
                )
            )
            is not None
        ]
        if observations:
            link_observations(batch.session, workspace_id, observations)


def relink_people(session: Session, workspace_id: uuid.UUID, person_ids: Iterable[int]) -> None:
    """Recompute the account links of these people from their identify and group events.

    Runs on every merge, unmerge and rebuild (``pipeline.hooks.people_changed``): merged-away
    people end with no links; a live person gets the links its events imply. Each event is read
    on its own, never the merged traits: an email from one source and a company name from
    another are no evidence that the two belong together.
    """
    ids = sorted(set(person_ids))
    if not ids:
        return
    session.execute(
        delete(PersonAccount).where(
            owned(PersonAccount, workspace_id), PersonAccount.person_id.in_(ids)
        )
    )
    live = session.scalars(select(Person.id).where(live_in(workspace_id), Person.id.in_(ids))).all()
    if not live:
        return
    # The live ids were chosen within the workspace, so they alone scope the query: with
    # ``workspace_id`` SQLite walks the workspace's events instead of each person's timeline.
    # Only the traits are decoded (the payload's context is large and never read here).
    rows = session.execute(
        select(
            Event.type,
            Event.group_id,
            json_member(session, "traits"),
            Event.person_id,
            Event.timestamp,
        )
        .where(Event.person_id.in_(live), Event.type.in_(_LINKING_CALLS))
        .order_by(*time_order_sql())
    )
    observations = [
        found
        for call, group_id, traits, person_id, at in rows
        if (found := observe(call, group_id, traits, person_id, at))
    ]
    if observations:
        link_observations(session, workspace_id, observations)


def role_table(session: Session, workspace_id: uuid.UUID) -> RoleTable:
    """The workspace's title keyword table, or the default one."""
    stored = session.scalar(
        select(AccountSettings.role_keywords).where(owned(AccountSettings, workspace_id))
    )
    return stored if stored else DEFAULT_ROLE_KEYWORDS


def _load_keys(session: Session, workspace_id: uuid.UUID, keys: set[KeyRef]) -> list[Any]:
    by_kind: dict[str, list[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, []).append(value)
    found = list[Any]()
    # One IN list per kind: SQLite uses the (workspace, kind, value) index only this way; a
    # row-value IN makes it walk every key of the workspace.
    for kind, values in sorted(by_kind.items()):
        values.sort()
        for start in range(0, len(values), _CHUNK):
            found += session.execute(
                select(AccountKey.kind, AccountKey.value, AccountKey.account_id).where(
                    owned(AccountKey, workspace_id),
                    AccountKey.kind == kind,
                    AccountKey.value.in_(values[start : start + _CHUNK]),
                )
            ).all()
    return found


def _load_directory(
    session: Session, workspace_id: uuid.UUID, observations: list[Observation]
) -> AccountDirectory:
    """Every stored key the observations could meet, and the names of the accounts met."""
    directory = AccountDirectory()
    signals = [o.signals for o in observations if o.signals is not None]
    directory.load(_load_keys(session, workspace_id, {k for s in signals for k in s.exact_keys()}))
    typo_keys: set[KeyRef] = set()
    for s in signals:
        if s.name is not None and fuzzy_eligible(s.name) and directory.resolve(s) is None:
            typo_keys.add(("name_deletion", s.name.full_key))
            for shorter in deletions(s.name.full_key):
                typo_keys |= {("name_deletion", shorter), ("name", shorter), ("alias", shorter)}
    if typo_keys:
        directory.load(_load_keys(session, workspace_id, typo_keys))
    met = sorted(directory.accounts())
    for start in range(0, len(met), _CHUNK):
        directory.load(
            session.execute(
                select(AccountKey.kind, AccountKey.value, AccountKey.account_id).where(
                    AccountKey.account_id.in_(met[start : start + _CHUNK]),
                    AccountKey.kind.in_(("name", "alias", "group_id", "uscc")),
                )
            ).all()
        )
    return directory


def _new_account(signals: AccountSignals, workspace_id: uuid.UUID) -> Account:
    name = signals.name
    return Account(
        workspace_id=workspace_id,
        name=signals.display_name or signals.domain or signals.group_id or signals.uscc or "",
        name_key=name.full_key if name else None,
        core_key=name.core_key if name else None,
        domain=signals.domain,
        uscc=signals.uscc,
        industry=signals.industry,
        traits=dict(signals.traits),
    )


def _enrich(account: Account, signals: AccountSignals) -> None:
    """Fill what the account lacks; a group call's traits are the company's own, newest win."""
    if signals.display_name and signals.name and account.name_key is None:
        account.name = signals.display_name
        account.name_key, account.core_key = signals.name.full_key, signals.name.core_key
    account.domain = account.domain or signals.domain
    account.uscc = account.uscc or signals.uscc
    account.industry = account.industry or signals.industry
    if signals.traits and any(account.traits.get(k) != v for k, v in signals.traits.items()):
        account.traits = {**(account.traits or {}), **signals.traits}


def _plan(
    session: Session, workspace_id: uuid.UUID, observations: list[Observation]
) -> tuple[_Plan, list[Account]]:
    directory = _load_directory(session, workspace_id, observations)
    known = sorted(a for a in directory.accounts() if a > 0)
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(known)))}
    plan, created = _Plan(directory, accounts), []
    for seen in observations:
        signals = seen.signals
        if signals is None:
            if seen.title and seen.at >= plan.titles.get(seen.person_id, (seen.at, ""))[0]:
                plan.titles[seen.person_id] = (seen.at, seen.title)
            continue
        pair = directory.absorbable(signals)
        if pair is not None:
            directory.absorb(*pair)
            plan.absorbed.append(pair)
            take_over_fields(plan.accounts[pair[1]], plan.accounts[pair[0]])
        ref = directory.resolve(signals)
        if ref is None:
            created.append(_new_account(signals, workspace_id))
            ref = -len(created)
            plan.accounts[ref] = created[-1]
        else:
            _enrich(plan.accounts[ref], signals)
        plan.new_keys += [(ref, key) for key in directory.claim(ref, signals)]
        change = plan.links.get((seen.person_id, ref))
        if change is None:
            change = plan.links[(seen.person_id, ref)] = LinkChange(
                signals.source, seen.at, seen.at
            )
        change.see(signals.source, seen.at, seen.title)
    return plan, created


def link_observations(
    session: Session, workspace_id: uuid.UUID, observations: list[Observation]
) -> None:
    """Find or create the accounts the observations point at and link their people."""
    plan, created = _plan(session, workspace_id, observations)
    final = plan.directory.final
    if created:
        session.add_all(a for ref, a in plan.accounts.items() if ref < 0 and final(ref) == ref)
        session.flush()
    real = {ref: plan.accounts[final(ref)].id for ref in plan.accounts}
    for loser, survivor in plan.absorbed:
        if loser > 0:
            absorb_account(session, workspace_id, plan.accounts[loser], real[survivor])
    _insert_keys(session, workspace_id, [(real[ref], key) for ref, key in plan.new_keys])
    changes: dict[tuple[int, int], LinkChange] = {}
    for (person, ref), change in plan.links.items():
        merged = changes.get((person, real[ref]))
        if merged is None:
            changes[(person, real[ref])] = change
        else:
            merged.see(change.source, change.first_seen_at, None)
            merged.see(change.source, change.last_seen_at, None)
            if change.title and change.title_seen_at:
                merged.see(change.source, change.title_seen_at, change.title)
    roles = role_table(session, workspace_id)
    write_links(session, workspace_id, changes, plan.titles, role_inferrer(roles))


def _insert_keys(session: Session, workspace_id: uuid.UUID, keys: list[tuple[int, KeyRef]]) -> None:
    """Owned keys insert strictly: a concurrent worker's claim rolls the batch back to retry.

    Shared keys (core names, typo deletions) may already be held by the account through
    another of its names, which this batch did not read; those inserts skip what exists.
    """
    rows = [
        {"workspace_id": workspace_id, "kind": kind, "value": value, "account_id": account}
        for account, (kind, value) in keys
    ]
    owned = [row for row in rows if row["kind"] not in SHARED_KEY_KINDS]
    shared = [row for row in rows if row["kind"] in SHARED_KEY_KINDS]
    # Core inserts on the table: the ORM's bulk insert costs more per row than the insert.
    table = cast(Table, AccountKey.__table__)
    if owned:
        session.execute(table.insert(), owned)
    if shared:
        session.execute(dialect_insert(session, table).on_conflict_do_nothing(), shared)
