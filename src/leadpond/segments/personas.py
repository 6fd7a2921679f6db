"""Persona memberships: who matches each of the playbook's personas now.

The directory filters by persona. Evaluating a persona's criteria on read (a regular expression
over every person's title) takes seconds at a million people, so the memberships are kept as
rows by the same live path as the segments: ``incremental.evaluate_people`` re-evaluates the
people a batch, a merge or the idle sweep touched, and a persona that reads the account is
re-evaluated for everyone at an account the batch changed. A playbook that changes rebuilds them
set-wise (``rebuild_personas``, the segments' SQL). Personas whose answer moves with time alone
(windows, decaying scores) or with colleagues are not kept: the directory evaluates those on read.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, delete, select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.conditions.ast import (
    AccountMatch,
    AccountPeople,
    AllOf,
    AnyOf,
    Condition,
    NotOf,
    Persona,
    Trait,
)
from leadpond.conditions.evaluate import ProfileSnapshot, matches
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.active import current_version_id
from leadpond.rules.state import chunks
from leadpond.segments.build import person_filter, set_based
from leadpond.segments.definitions import WorkspaceSegments
from leadpond.segments.models import PersonaBuild, PersonaMember

_MEMBERS = cast(Table, PersonaMember.__table__)


def kept(loaded: WorkspaceSegments) -> dict[str, Condition]:
    """The personas whose memberships are kept as rows (see the module's docstring)."""
    return {
        key: condition
        for key, condition in loaded.context.personas.items()
        if not loaded.changes_with_time(condition)
        and not any(isinstance(n, AccountPeople) for n in loaded.expanded(condition))
    }


def profile_only(loaded: WorkspaceSegments) -> bool:
    """True when every kept persona reads nothing but the person's traits and account: then
    only a changed trait, a link (an identify or group call), a changed account or a merge can
    move a membership, and a batch re-evaluates just those people."""
    return all(
        isinstance(n, AllOf | AnyOf | NotOf | Trait | AccountMatch | Persona)
        for condition in kept(loaded).values()
        for n in loaded.expanded(condition)
    )


def read_accounts(loaded: WorkspaceSegments) -> bool:
    """True when a kept persona reads the person's account (its industry, its traits)."""
    return any(
        isinstance(n, AccountMatch)
        for condition in kept(loaded).values()
        for n in loaded.expanded(condition)
    )


def built(session: Session, workspace_id: uuid.UUID) -> bool:
    """True when the workspace's memberships were built (then the live path keeps them)."""
    return session.get(PersonaBuild, workspace_id) is not None


def is_current(session: Session, workspace_id: uuid.UUID) -> bool:
    """True when the memberships were built for the workspace's current playbook."""
    built = session.get(PersonaBuild, workspace_id)
    return built is not None and built.playbook_version_id == current_version_id(
        session, workspace_id
    )


def members_of(workspace_id: uuid.UUID, key: str) -> Select[int]:
    """The ids of the people holding the persona (a range of the primary key)."""
    return select(PersonaMember.person_id).where(
        owned(PersonaMember, workspace_id), PersonaMember.persona == key
    )


def record(
    session: Session,
    workspace_id: uuid.UUID,
    personas: Mapping[str, Condition],
    person_ids: Iterable[int],
    snaps: Mapping[int, ProfileSnapshot],
    now: datetime,
) -> int:
    """Bring these people's memberships in line with their snapshots (no snapshot: the person
    is not live, and holds no persona); returns entries + exits written."""
    ids = set(person_ids)
    held: set[tuple[str, int]] = set()
    for chunk in chunks(ids):
        held.update(
            (persona, pid)
            for persona, pid in session.execute(
                select(PersonaMember.persona, PersonaMember.person_id).where(
                    owned(PersonaMember, workspace_id), PersonaMember.person_id.in_(chunk)
                )
            )
        )
    inside = {
        (key, pid)
        for key, condition in personas.items()
        for pid, snap in snaps.items()
        if pid in ids and matches(condition, snap)
    }
    entered, exited = inside - held, {h for h in held if h[1] in ids} - inside
    _write(session, workspace_id, entered, exited, now)
    return len(entered) + len(exited)


def _write(
    session: Session,
    workspace_id: uuid.UUID,
    entered: set[tuple[str, int]],
    exited: set[tuple[str, int]],
    now: datetime,
) -> None:
    if entered:
        session.execute(
            _MEMBERS.insert(),
            [
                {"workspace_id": workspace_id, "persona": key, "person_id": pid, "since": now}
                for key, pid in sorted(entered)
            ],
        )
    by_persona: dict[str, list[int]] = {}
    for key, pid in exited:
        by_persona.setdefault(key, []).append(pid)
    for key, pids in sorted(by_persona.items()):
        for chunk in chunks(pids):
            session.execute(
                delete(PersonaMember).where(
                    owned(PersonaMember, workspace_id),
                    PersonaMember.persona == key,
                    PersonaMember.person_id.in_(chunk),
                )
            )


def rebuild_personas(session: Session, loaded: WorkspaceSegments, now: datetime) -> dict[str, int]:
    """Recompute every kept persona's memberships set-wise and mark them current; returns
    each persona's size."""
    workspace_id = loaded.workspace_id
    personas = kept(loaded)
    sizes: dict[str, int] = {}
    held: set[tuple[str, int]] = {
        (persona, pid)
        for persona, pid in session.execute(
            select(PersonaMember.persona, PersonaMember.person_id).where(
                owned(PersonaMember, workspace_id)
            )
        )
    }
    inside: set[tuple[str, int]] = set()
    with set_based(session):
        for key in personas:
            found = session.scalars(
                select(Person.id).where(*person_filter(session, loaded, Persona(key=key), now))
            )
            matched = {(key, pid) for pid in found}
            sizes[key] = len(matched)
            inside |= matched
    _write(session, workspace_id, inside - held, held - inside, now)
    version_id = current_version_id(session, workspace_id)
    built = session.get(PersonaBuild, workspace_id)
    if version_id is None:
        if built is not None:
            session.delete(built)
    elif built is None:
        session.add(
            PersonaBuild(workspace_id=workspace_id, playbook_version_id=version_id, built_at=now)
        )
    else:
        built.playbook_version_id, built.built_at = version_id, now
    session.flush()
    return sizes


def colleagues_at_changed_accounts(
    session: Session, workspace_id: uuid.UUID, person_ids: Iterable[int], since: datetime
) -> set[int]:
    """Everyone linked to an account of these people that changed at or after ``since`` (a
    batch filled its industry or traits): their personas may read it."""
    changed: set[int] = set()
    for chunk in chunks(person_ids):
        changed.update(
            session.scalars(
                select(PersonAccount.account_id)
                .join(Account, Account.id == PersonAccount.account_id)
                .where(
                    owned(PersonAccount, workspace_id),
                    PersonAccount.person_id.in_(chunk),
                    Account.updated_at >= since,
                )
            )
        )
    people: set[int] = set()
    for chunk in chunks(changed):
        people.update(
            session.scalars(
                select(PersonAccount.person_id).where(
                    owned(PersonAccount, workspace_id), PersonAccount.account_id.in_(chunk)
                )
            )
        )
    return people
