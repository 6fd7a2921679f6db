"""The people directory: search, filter, sort and page a workspace's people inside the database.

What a search matches is ``people_search``'s: ways of matching (a name's, email's, phone's or
company's start, a part of a Chinese name), each an index range; here they are counted and
paged way by way (``_read_search``). A persona is the playbook's named condition, compiled to
SQL by the condition language (the same WHERE clause a segment of ``{persona: key}`` gets).
Sorting is on indexed columns.
"""

import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import CompoundSelect, Select, func, or_, select, union_all
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.conditions.ast import Persona
from leadpond.db.among import among
from leadpond.identity.models import Identifier
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import InvalidInput
from leadpond.kit.pagination import Page, PageQuery, count
from leadpond.kit.schemas import UtcDatetime
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person, known_contact, name_key
from leadpond.profiles.scope import people
from leadpond.reports import people_search
from leadpond.reports.people_search import Way
from leadpond.rules.models import PersonScore, PersonStage, PersonTag
from leadpond.segments import personas
from leadpond.segments.build import person_filter, set_based
from leadpond.segments.definitions import load_segments
from leadpond.segments.models import PersonaMember

SORTS: dict[str, Any] = {
    "last_seen": Person.last_seen_at,
    "events": Person.event_count,
    "name": name_key(),
    "id": Person.id,
}
SORT_NAMES = tuple(f"{sign}{name}" for name in SORTS for sign in ("-", ""))
# A filter matching at most this many people is read as a list of ids (see ``_narrowed``).
CANDIDATE_LIMIT = 5000
# Past this many matches of a filter the directory's count stops and says "more than".
COUNT_LIMIT = 10_000


@dataclass
class PeopleQuery:
    """What the marketer asked the directory for."""

    q: str | None = None
    tag: str | None = None
    stage: str | None = None
    account_id: int | None = None
    score_model: str | None = None
    min_score: float | None = None
    persona: str | None = None
    sort: str = "-last_seen"
    # Only people with a name, email or phone (the console's default): anonymous visitors,
    # known by a cookie alone, are most rows of a directory and rarely what a marketer wants.
    known: bool = False


class PersonRow(BaseModel):
    """One line of the directory."""

    id: int
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    account_id: int | None
    title: str | None
    role: str | None
    stage: str | None
    tags: list[str]
    scores: dict[str, float]
    event_count: int
    first_seen_at: UtcDatetime | None
    last_seen_at: UtcDatetime | None


@dataclass
class PersonaPeople:
    """Who holds a persona now: its kept memberships (``segments.personas``, a select of person
    ids) where they are current, else WHERE clauses over ``Person`` evaluating its criteria
    (the condition language's SQL: a persona not kept, or memberships not yet built for this
    playbook)."""

    members: Select[Any] | None
    clauses: list[Any]


def persona_people(session: Session, workspace_id: uuid.UUID, key: str) -> PersonaPeople:
    """The persona's people now (see ``PersonaPeople``); an unknown persona is refused."""
    loaded = load_segments(session, workspace_id)
    if key not in loaded.context.personas:
        known = ", ".join(loaded.context.personas) or "none"
        raise InvalidInput(
            f"no such persona: {key!r} (the playbook defines: {known})", field="persona"
        )
    if key in personas.kept(loaded) and personas.is_current(session, workspace_id):
        return PersonaPeople(personas.members_of(workspace_id, key), [])
    return PersonaPeople(None, person_filter(session, loaded, Persona(key=key), utcnow()))


def persona_filter(
    session: Session,
    workspace_id: uuid.UUID,
    key: str,
    *,
    of_people: Sequence[int] | None = None,
) -> tuple[list[Any], bool]:
    """WHERE clauses over ``Person`` for the persona's people now, and whether they evaluate
    its criteria. Kept memberships are an index range, or with ``of_people`` (a question about
    these people only) a probe per person."""
    found = persona_people(session, workspace_id, key)
    if found.members is None:
        return found.clauses, True
    members = found.members
    if of_people is not None:
        members = members.where(among(session, PersonaMember.person_id, of_people))
    return [Person.id.in_(members)], False


def _held(model: Any, workspace_id: uuid.UUID, *conditions: Any) -> Select[Any]:
    """The people holding a row of ``model`` (tags, stages, links, scores) matching these."""
    return select(model.person_id).where(owned(model, workspace_id), *conditions)


@dataclass
class _Filtered:
    """The directory's question: the people (``base``, with the persona's, the known-contact
    and, sorted by activity, the stage's clauses), each filter that names a set of people by id
    (tag, stage by another sort, account, score), whether a persona's criteria are evaluated on
    read, the search's ways of matching (none: no search), and whether a clause of ``base`` may
    match too many to count (a stage)."""

    base: Select[Any]
    id_sets: list[Select[Any]]
    evaluated: bool
    search: list[Way]
    capped: bool = False
    listed: set[int] | None = None  # people already read as a list of ids (a kept persona's)


def _filtered(session: Session, workspace_id: uuid.UUID, query: PeopleQuery) -> _Filtered:
    """The matching people, as the clauses on every person and the filters' sets of ids."""
    stmt = people(workspace_id)
    evaluated = False
    by_activity = bool(query.stage) and query.sort.lstrip("-") == "last_seen"
    if by_activity:
        # On the person row (kept with ``person_stage``): the page walks
        # ``ix_person_stage_last_seen`` and stops at the page, where a set of ids made the
        # databases walk everyone more active first (13 s for dormant at a million people).
        # Before the known-contact clause: SQLite tests the cheap column first on each row.
        stmt = stmt.where(Person.stage == query.stage)
    if query.known:
        stmt = stmt.where(known_contact())
    id_sets: list[Select[Any]] = []
    listed: set[int] | None = None
    if query.persona:
        # Kept memberships of a few thousand people are a list looked up by id, as a tag's
        # are (``_narrowed``): given the subquery, PostgreSQL walked the workspace by last
        # activity probing each person (1 s at a million people). A larger persona stays a
        # clause of every person, counted exactly on its index.
        held = persona_people(session, workspace_id, query.persona)
        if held.members is None:
            stmt, evaluated = stmt.where(*held.clauses), True
        else:
            members = set(session.scalars(held.members.limit(CANDIDATE_LIMIT + 1)))
            if len(members) > CANDIDATE_LIMIT:
                stmt = stmt.where(Person.id.in_(held.members))
            else:
                listed = members
    search = (
        people_search.ways(session, workspace_id, query.q) if query.q and query.q.strip() else []
    )
    if query.tag:
        id_sets.append(_held(PersonTag, workspace_id, PersonTag.tag == query.tag))
    if query.stage and not by_activity:
        # Another sort walks its own index: the stage's ids are then tested on each entry's id,
        # without reading the row as the column would need (``person_stage``'s index is the
        # narrower list of them).
        id_sets.append(_held(PersonStage, workspace_id, PersonStage.stage == query.stage))
    if query.account_id is not None:
        id_sets.append(
            _held(PersonAccount, workspace_id, PersonAccount.account_id == query.account_id)
        )
    if query.score_model and query.min_score is not None:
        id_sets.append(
            _held(
                PersonScore,
                workspace_id,
                PersonScore.model == query.score_model,
                PersonScore.points >= query.min_score,
            )
        )
    return _Filtered(stmt, id_sets, evaluated, search, by_activity, listed)


@dataclass
class _Narrowed:
    """The matching people as one statement; whether it names them as a list of ids; the
    filters matching too many for a list, left as subqueries."""

    stmt: Select[Any]
    listed: bool
    dense: list[Select[Any]]


def _narrowed(session: Session, filtered: _Filtered) -> _Narrowed | None:
    """The matching people, a filter matching few of them read as a list of at most
    ``CANDIDATE_LIMIT`` ids first; None when a filter matches nobody.

    With a list, the page and the count are lookups by id. Given the filter as a subquery
    instead, SQLite walked the workspace in the sort's order looking for the few (every person
    when none matched: a second at a million people). A filter matching many stays a subquery."""
    stmt = filtered.base
    listed = filtered.listed
    dense = []
    for ids in filtered.id_sets:
        found = set(session.scalars(ids.limit(CANDIDATE_LIMIT + 1)))
        if len(found) > CANDIDATE_LIMIT:
            stmt = stmt.where(Person.id.in_(ids))
            dense.append(ids)
        else:
            listed = found if listed is None else listed & found
    if listed is None:
        return _Narrowed(stmt, False, dense)
    if not listed:
        return None
    return _Narrowed(stmt.where(Person.id.in_(sorted(listed))), True, dense)


def _count(session: Session, narrowed: _Narrowed, filtered: _Filtered) -> tuple[int, bool]:
    """How many people match, and whether that is exact: past ``COUNT_LIMIT`` matches of a
    filter the count stops (counting reads each match: seconds for a stage of a million)."""
    stmt = narrowed.stmt.with_only_columns(Person.id)
    capped = narrowed.dense or filtered.evaluated or filtered.capped
    if narrowed.listed or not capped:
        # Ids looked up, or the workspace's (known) people counted on their index alone.
        return count(session, stmt), True
    counted_people = stmt
    if narrowed.dense:
        # Read from the first such filter, each of its people looked up: SQLite then walks the
        # filter's index and stops at the limit, where for ``IN`` it first read every match
        # into a list (a tag of 48,000 people: 5x slower) and joined, it walked the workspace.
        first, *others = narrowed.dense
        holders = first.subquery()
        person = filtered.base.with_only_columns(Person.id).where(Person.id == holders.c[0])
        counted_people = select(holders.c[0]).where(
            person.exists(), *(holders.c[0].in_(ids) for ids in others)
        )
    counted = count(session, counted_people.limit(COUNT_LIMIT + 1))
    return min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT


def _order(sort: str, listed: bool = False) -> list[Any]:
    """ORDER BY terms of the sort; for a list of ids (``listed``) on an expression no index
    holds, so the databases look the few people up by id and sort them rather than walk the
    sort's index through the workspace for them."""
    descending = sort.startswith("-")
    column = SORTS.get(sort.lstrip("-"))
    if column is None:
        raise InvalidInput(f"sort must be one of {', '.join(SORT_NAMES)}", field="sort")
    if listed:
        column = func.coalesce(column, None)
    if sort.lstrip("-") == "name":
        # Named people first either way: the databases disagree on where NULLs sort, and a
        # directory sorted by name opened on "#1, #2…" rows of visitors without one. Ascending,
        # both databases still read the name index in order.
        named = column.desc() if descending else column.asc()
        return [named.nulls_last(), Person.id.desc() if descending else Person.id.asc()]
    if descending:
        return [column.desc(), Person.id.desc()]
    return [column.asc(), Person.id.asc()]


class PeoplePage(Page[PersonRow]):
    """One page of the directory. ``total`` is exact when ``total_exact``; otherwise at least
    ``total`` (``COUNT_LIMIT``) people match and counting stopped there."""

    total_exact: bool = True


def search_people(
    session: Session, workspace_id: uuid.UUID, query: PeopleQuery, page: PageQuery
) -> PeoplePage:
    """One page of the directory and the number of people matching, sorted in the database."""
    _order(query.sort)  # a bad sort is an error before any read
    filtered = _filtered(session, workspace_id, query)
    # PostgreSQL guesses that a persona's JSON trait tests match one person; joined with a search
    # (a union of ids) it then picked a nested loop that took minutes at a million people. Hash
    # joins cost a scan of the workspace (under a second there) and never that.
    with set_based(session) if filtered.evaluated else nullcontext():
        narrowed = _narrowed(session, filtered)
        if narrowed is None:
            return PeoplePage(total=0, items=[])
        if filtered.search and not narrowed.listed:
            total, exact, found = _read_search(
                session, narrowed.stmt, filtered.search, query.sort, page
            )
        else:
            if filtered.search:
                # Few people to look up: each is tested for the search's ways.
                narrowed.stmt = narrowed.stmt.where(or_(*(way.where for way in filtered.search)))
            total, exact = _count(session, narrowed, filtered)
            ordered = narrowed.stmt.order_by(*_order(query.sort, narrowed.listed))
            found = list(session.scalars(page.apply(ordered)))
    if not found:
        return PeoplePage(total=total, items=[], total_exact=exact)
    items = describe(session, workspace_id, found)
    return PeoplePage(total=total, items=items, total_exact=exact)


def _read_search(
    session: Session, stmt: Select[Any], ways: list[Way], sort: str, page: PageQuery
) -> tuple[int, bool, list[Person]]:
    """The count and the page of the people of ``stmt`` matching the search, way by way.

    Each way's people are read from its own index, at most ``COUNT_LIMIT`` + 1 of them: the
    count is their union (past the limit it stops there, "more than"). The ways read whole are
    a list of ids for the page; one matching more gives its first ``offset + limit`` people in
    the page's order (an index walk that stops early, or its index range sorted), and the page
    is the best of those candidates: the page of the whole search is among them."""
    matched = [_people_of(session, stmt, way) for way in ways]
    everyone = set().union(*matched)
    if not everyone:
        return 0, True, []
    if len(everyone) > COUNT_LIMIT or any(len(ids) > COUNT_LIMIT for ids in matched):
        total, exact = COUNT_LIMIT, False
    else:
        total, exact = len(everyone), True
    few = set().union(*(ids for ids in matched if len(ids) <= COUNT_LIMIT))
    many = [way for way, ids in zip(ways, matched, strict=True) if len(ids) > COUNT_LIMIT]
    if len(few) > COUNT_LIMIT:  # a list too long to look up: its ways give their firsts
        few, many = set(), ways
    if not many:
        candidates: Select[Any] | CompoundSelect[Any] | None = None
    else:
        wanted = page.offset + page.limit
        firsts = [
            stmt.where(way.where)
            .with_only_columns(Person.id)
            .order_by(*_order(sort, way.listed))
            .limit(wanted)
            .subquery()
            for way in many
        ]
        if few:
            firsts.append(
                stmt.where(people_search.among(session, list(few)))
                .with_only_columns(Person.id)
                .order_by(*_order(sort, listed=True))
                .limit(wanted)
                .subquery()
            )
        heads = [select(first.c.id) for first in firsts]
        candidates = union_all(*heads) if len(heads) > 1 else heads[0]
    if candidates is None:
        shown = stmt.where(people_search.among(session, list(few)))
    else:
        shown = stmt.where(Person.id.in_(candidates))
    ordered = shown.order_by(*_order(sort, listed=True))
    return total, exact, list(session.scalars(page.apply(ordered)))


def _people_of(session: Session, stmt: Select[Any], way: Way) -> set[int]:
    """The people of ``stmt`` matching ``way``: all of them, or more than ``COUNT_LIMIT``.

    People of other rows are read from those rows, each person looked up (``EXISTS``), so the
    read stops at the limit: as ``IN``, PostgreSQL first read every matching row into a hash."""
    if way.holders is None:
        matching = stmt.where(way.where).with_only_columns(Person.id)
        return set(session.scalars(matching.limit(COUNT_LIMIT + 1)))
    holders = way.holders.subquery()
    person = stmt.with_only_columns(Person.id).where(Person.id == holders.c[0])
    rows = select(holders.c[0]).where(person.exists())
    limit = 4 * (COUNT_LIMIT + 1)
    while True:
        # A person holding several matching rows comes as often: read in parts, stop once more
        # than the limit of people came (the LIMIT bounds the read and asks for a plan that
        # starts at once); rarely, people holding four rows each need a longer read.
        people_found: set[int] = set()
        read = 0
        found = session.scalars(rows.limit(limit), execution_options={"yield_per": 2000})
        for part in found.partitions():
            read += len(part)
            people_found.update(part)
            if len(people_found) > COUNT_LIMIT:
                found.close()
                return people_found
        if read < limit:
            return people_found
        limit *= 4


def people_by_role(
    session: Session, workspace_id: uuid.UUID, links_by_role: dict[str, list[PersonAccount]]
) -> dict[str, list[PersonRow]]:
    """Directory rows of an account's people, grouped by their role there (the link's role and
    title in each row: a person may hold another title at another account)."""
    wanted = [link.person_id for links in links_by_role.values() for link in links]
    found = list(session.scalars(people(workspace_id).where(Person.id.in_(wanted))))
    rows = {row.id: row for row in describe(session, workspace_id, found)}
    grouped: dict[str, list[PersonRow]] = {}
    for role, links in links_by_role.items():
        for link in links:
            row = rows.get(link.person_id)
            if row is not None:
                at_account = {"role": link.role, "title": link.title or row.title}
                grouped.setdefault(role, []).append(row.model_copy(update=at_account))
    return grouped


def describe(session: Session, workspace_id: uuid.UUID, found: list[Person]) -> list[PersonRow]:
    """Directory rows for these people: contact identifiers, company, stage, tags, scores."""
    ids = [p.id for p in found]
    contacts = _contacts(session, ids)
    companies = _companies(session, ids)
    stages: dict[int, str] = {
        person_id: stage
        for person_id, stage in session.execute(
            select(PersonStage.person_id, PersonStage.stage).where(PersonStage.person_id.in_(ids))
        )
    }
    tags: dict[int, list[str]] = {pid: [] for pid in ids}
    for person_id, tag in session.execute(
        select(PersonTag.person_id, PersonTag.tag)
        .where(PersonTag.person_id.in_(ids))
        .order_by(PersonTag.added_at, PersonTag.id)
    ):
        tags[person_id].append(tag)
    scores: dict[int, dict[str, float]] = {pid: {} for pid in ids}
    # By person alone, as the reads above: with the workspace too, SQLite without statistics
    # read every score of the workspace by (workspace, model) instead of the primary key.
    for person_id, model, points in session.execute(
        select(PersonScore.person_id, PersonScore.model, PersonScore.points).where(
            PersonScore.person_id.in_(ids)
        )
    ):
        scores[person_id][model] = points
    rows = []
    for person in found:
        traits = person.traits or {}
        account_id, company, title, role = companies.get(person.id, (None, None, None, None))
        rows.append(
            PersonRow(
                id=person.id,
                name=_text(traits.get("name")),
                email=contacts.get((person.id, "email")),
                phone=contacts.get((person.id, "phone")),
                company=company or _text(traits.get("company")),
                account_id=account_id,
                title=title or _text(traits.get("title")),
                role=role,
                stage=stages.get(person.id),
                tags=tags[person.id],
                scores=scores[person.id],
                event_count=person.event_count,
                first_seen_at=person.first_seen_at,
                last_seen_at=person.last_seen_at,
            )
        )
    return rows


def _contacts(session: Session, ids: list[int]) -> dict[tuple[int, str], str]:
    """(person, email|phone) -> the person's first identifier of that type."""
    contacts: dict[tuple[int, str], str] = {}
    for person_id, id_type, value in session.execute(
        select(Identifier.person_id, Identifier.type, Identifier.value)
        .where(Identifier.person_id.in_(ids), Identifier.type.in_(("email", "phone")))
        .order_by(Identifier.id)
    ):
        contacts.setdefault((person_id, id_type), value)
    return contacts


def _companies(
    session: Session, ids: list[int]
) -> dict[int, tuple[int | None, str | None, str | None, str | None]]:
    """person -> (account id, company name, title, role) of the person's primary account."""
    companies: dict[int, tuple[int | None, str | None, str | None, str | None]] = {}
    for person_id, linked_id, name, title, role in session.execute(
        select(
            PersonAccount.person_id,
            Account.id,
            Account.name,
            PersonAccount.title,
            PersonAccount.role,
        )
        .join(Account, Account.id == PersonAccount.account_id)
        .where(PersonAccount.person_id.in_(ids))
        .order_by(PersonAccount.is_primary.desc(), PersonAccount.id)
    ):
        companies.setdefault(person_id, (linked_id, name, title, role))
    return companies


def _text(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return str(value) if value not in (None, "") else None
