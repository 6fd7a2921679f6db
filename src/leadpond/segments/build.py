"""The set-based path: one SQL statement per segment answers for the whole workspace.

A full build compares that answer with the stored membership and records only the difference,
so rebuilding an up-to-date segment writes nothing. Previews run the same statement unsaved.
"""

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy import Select, func, not_, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.accounts.scope import live_links
from leadpond.conditions.ast import Condition
from leadpond.db.engine import is_postgres
from leadpond.kit.errors import LeadpondError
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.segments.definitions import DYNAMIC, PERSON, WorkspaceSegments
from leadpond.segments.membership import record_changes
from leadpond.segments.models import Segment, SegmentAccountMember, SegmentMember
from leadpond.segments.sql import definite, groups_events, to_sql

# A preview answers while someone edits; a condition that needs longer is built, not previewed.
PREVIEW_BUDGET_S = 10.0


@dataclass
class BuildReport:
    segment: str
    members: int
    entered: int
    exited: int
    seconds: float


def person_filter(
    session: Session, loaded: WorkspaceSegments, condition: Condition, now: datetime
) -> list[Any]:
    """WHERE clauses over ``Person`` for the live people matching the condition."""
    return [
        live_in(loaded.workspace_id),
        to_sql(condition, loaded.sql_context(session, now)),
    ]


def account_filter(
    session: Session,
    loaded: WorkspaceSegments,
    condition: Condition,
    match: str,
    now: datetime,
) -> list[Any]:
    """WHERE clauses over ``Account`` for accounts whose people match any/all/none."""
    test = to_sql(condition, loaded.sql_context(session, now))
    linked = live_links(loaded.workspace_id, PersonAccount.account_id)
    scope = owned(Account, loaded.workspace_id)
    if match == "any":
        return [scope, Account.id.in_(linked.where(test))]
    if match == "none":
        return [scope, Account.id.not_in(linked.where(test))]
    return [scope, Account.id.in_(linked), Account.id.not_in(linked.where(not_(definite(test))))]


def matching_ids(
    session: Session,
    loaded: WorkspaceSegments,
    condition: Condition,
    level: str,
    match: str | None,
    now: datetime,
) -> Select[Any]:
    """The ids (people or accounts) the condition selects now."""
    if level == PERSON:
        return select(Person.id).where(*person_filter(session, loaded, condition, now))
    return select(Account.id).where(
        *account_filter(session, loaded, condition, match or "any", now)
    )


@contextmanager
def set_based(session: Session, hash_joins: bool = True) -> Iterator[None]:
    """Plan the next statements for whole-workspace answers (PostgreSQL settings, local).

    JIT is off: these statements are index probes and joins whose inflated cost estimates
    (a correlated event count is costed for every person) would buy tens of milliseconds of
    compilation for nothing. With ``hash_joins`` nested loops are off too: PostgreSQL cannot
    estimate JSON trait tests (it guesses one matching row) and then picks a nested loop that
    re-reads a grouped event subquery once per person: seconds instead of a hash join's
    milliseconds. Without that subquery (``groups_events`` false) nested loops stay allowed,
    and PostgreSQL drives a correlated count from the few candidates of the other conditions.
    """
    if not is_postgres(session):
        yield
        return
    session.execute(text("SET LOCAL jit = off"))
    if hash_joins:
        session.execute(text("SET LOCAL enable_nestloop = off"))
    # After an error the transaction is rolled back, and these settings with it; resetting them
    # in a failed PostgreSQL transaction would only hide the error.
    yield
    session.execute(text("SET LOCAL jit TO DEFAULT"))
    session.execute(text("SET LOCAL enable_nestloop TO DEFAULT"))


class PreviewOverBudget(LeadpondError):
    status_code, code = 422, "preview_over_budget"


@contextmanager
def time_budget(session: Session, seconds: float) -> Iterator[None]:
    """Stop the statements run inside once ``seconds`` have passed (PreviewOverBudget).

    PostgreSQL: a transaction-local ``statement_timeout``; SQLite: a progress handler that
    interrupts the statement, called every few thousand virtual-machine steps.
    """
    if is_postgres(session):
        previous = session.scalar(text("SELECT current_setting('statement_timeout')"))
        limit = {"value": f"{max(1, round(seconds * 1000))}ms"}
        session.execute(text("SELECT set_config('statement_timeout', :value, true)"), limit)
        try:
            yield
        except DBAPIError as exc:
            if isinstance(exc.orig, psycopg.errors.QueryCanceled):
                raise _over_budget(seconds) from exc
            raise
        session.execute(
            text("SELECT set_config('statement_timeout', :value, true)"), {"value": previous}
        )
        return
    driver = cast(sqlite3.Connection, session.connection().connection.driver_connection)
    deadline = time.monotonic() + seconds
    driver.set_progress_handler(lambda: time.monotonic() > deadline, 4000)
    try:
        yield
    except OperationalError as exc:
        if "interrupted" in str(exc.orig) and time.monotonic() > deadline:
            raise _over_budget(seconds) from exc
        raise
    finally:
        driver.set_progress_handler(None, 0)


def _over_budget(seconds: float) -> PreviewOverBudget:
    return PreviewOverBudget(
        f"the preview took longer than {seconds:g} s; narrow the condition or save the segment "
        "and let it build"
    )


def _hash_joins(
    session: Session, loaded: WorkspaceSegments, cond: Condition, level: str, now: datetime
) -> bool:
    """Person statements keep nested loops unless they group events (see ``set_based``)."""
    if not is_postgres(session):
        return False
    return level != PERSON or groups_events(cond, loaded.sql_context(session, now))


def current_members(session: Session, segment: Segment) -> set[int]:
    """The stored membership of a segment."""
    if segment.level == PERSON:
        query = select(SegmentMember.person_id).where(SegmentMember.segment_id == segment.id)
    else:
        query = select(SegmentAccountMember.account_id).where(
            SegmentAccountMember.segment_id == segment.id
        )
    return set(session.scalars(query))


def lock_segments(session: Session, segment_ids: Iterable[int]) -> None:
    """Serialise writers of these segments (PostgreSQL row locks; SQLite has one writer)."""
    ids = sorted(segment_ids)
    if ids and is_postgres(session):
        session.execute(select(Segment.id).where(Segment.id.in_(ids)).with_for_update())


def rebuild(
    session: Session,
    loaded: WorkspaceSegments,
    segment: Segment,
    now: datetime,
    reason: str = "full rebuild",
) -> BuildReport:
    """Recompute a dynamic segment from scratch and record who entered and who left."""
    started = time.perf_counter()
    condition = loaded.conditions.get(segment.id)
    if segment.kind != DYNAMIC or condition is None:
        members = current_members(session, segment)
        return BuildReport(segment.key, len(members), 0, 0, 0.0)
    lock_segments(session, [segment.id])
    query = matching_ids(session, loaded, condition, segment.level, segment.account_match, now)
    with set_based(session, _hash_joins(session, loaded, condition, segment.level, now)):
        matched = set(session.scalars(query))
    current = current_members(session, segment)
    entered, exited = matched - current, current - matched
    record_changes(session, segment, entered, exited, now, reason)
    seconds = time.perf_counter() - started
    session.execute(
        update(Segment)
        .where(Segment.id == segment.id)
        .values(member_count=len(matched), last_built_at=now, last_build_seconds=seconds)
    )
    return BuildReport(segment.key, len(matched), len(entered), len(exited), round(seconds, 4))


def preview(
    session: Session,
    loaded: WorkspaceSegments,
    condition: Condition,
    level: str,
    match: str | None,
    now: datetime,
    sample: int = 20,
) -> tuple[int, list[int]]:
    """How many people (or accounts) an unsaved condition selects, and the first few ids;
    PreviewOverBudget past ``PREVIEW_BUDGET_S``."""
    condition = loaded.with_stage_keys(condition)
    query = matching_ids(session, loaded, condition, level, match, now)
    column = Person.id if level == PERSON else Account.id
    with (
        time_budget(session, PREVIEW_BUDGET_S),
        set_based(session, _hash_joins(session, loaded, condition, level, now)),
    ):
        count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        ids = list(session.scalars(query.order_by(column).limit(sample)))
    return int(count), ids
