"""Writing person ↔ account links in bulk: which is primary, and the title and role of each.

Links are read as plain rows and written with one bulk insert and one bulk update per batch:
the ORM unit of work costs more than the whole matching on a batch of sign-ups.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from leadpond.accounts.models import PersonAccount
from leadpond.kit.scope import owned

SOURCE_RANK = {"company_name": 1, "email_domain": 2, "uscc": 3, "group": 4}
_CHUNK = 500


@dataclass(slots=True)
class LinkChange:
    """What a batch saw of one person at one account."""

    source: str
    first_seen_at: datetime
    last_seen_at: datetime
    title: str | None = None
    title_seen_at: datetime | None = None

    def see(self, source: str, at: datetime, title: str | None) -> None:
        """Fold in one more observation: strongest source, widest span, newest title."""
        if SOURCE_RANK[source] > SOURCE_RANK[self.source]:
            self.source = source
        self.first_seen_at = min(self.first_seen_at, at)
        self.last_seen_at = max(self.last_seen_at, at)
        if title and (self.title_seen_at is None or at >= self.title_seen_at):
            self.title, self.title_seen_at = title, at


@dataclass(slots=True)
class _Link:
    id: int | None
    person_id: int
    account_id: int
    source: str
    first_seen_at: datetime
    last_seen_at: datetime
    role: str | None = None
    title: str | None = None
    title_seen_at: datetime | None = None
    is_primary: bool = False
    dirty: bool = False

    def row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "dirty"}


_COLUMNS = tuple(getattr(PersonAccount, f.name) for f in fields(_Link) if f.name != "dirty")
_TABLE = cast(Table, PersonAccount.__table__)
_UPDATE = _TABLE.update().where(_TABLE.c.id == bindparam("b_id"))


def _load(session: Session, workspace_id: uuid.UUID, people: list[int]) -> dict[int, list[_Link]]:
    links: dict[int, list[_Link]] = {}
    for start in range(0, len(people), _CHUNK):
        rows = session.execute(
            select(*_COLUMNS).where(
                owned(PersonAccount, workspace_id),
                PersonAccount.person_id.in_(people[start : start + _CHUNK]),
            )
        )
        for row in rows:
            links.setdefault(row.person_id, []).append(_Link(*row))
    return links


def write_links(
    session: Session,
    workspace_id: uuid.UUID,
    changes: dict[tuple[int, int], LinkChange],
    titles: dict[int, tuple[datetime, str]],
    infer_role: Callable[[str], str | None],
) -> None:
    """Apply the batch's link changes (person, account id) and title-only updates per person.

    A title-only update (an identify with a title and no company) goes to the primary link.
    """
    people = sorted({person for person, _ in changes} | set(titles))
    links = _load(session, workspace_id, people)
    for (person, account), change in changes.items():
        held = links.setdefault(person, [])
        link = next((x for x in held if x.account_id == account), None)
        if link is None:
            link = _Link(
                None, person, account, change.source, change.first_seen_at, change.last_seen_at
            )
            held.append(link)
        else:
            if SOURCE_RANK[change.source] > SOURCE_RANK.get(link.source, 0):
                link.source, link.dirty = change.source, True
            if change.first_seen_at < link.first_seen_at:
                link.first_seen_at, link.dirty = change.first_seen_at, True
            if change.last_seen_at > link.last_seen_at:
                link.last_seen_at, link.dirty = change.last_seen_at, True
        if change.title and change.title_seen_at:
            _retitle(link, change.title, change.title_seen_at, infer_role)
    for person in people:
        held = links.get(person, [])
        primary = _choose_primary(held)
        for link in held:
            if link.is_primary != (link is primary):
                link.is_primary, link.dirty = link is primary, True
        pending = titles.get(person)
        if primary is not None and pending is not None:
            _retitle(primary, pending[1], pending[0], infer_role)
    every = [link for held in links.values() for link in held]
    new = [link.row() | {"workspace_id": workspace_id} for link in every if link.id is None]
    changed = [link.row() for link in every if link.id is not None and link.dirty]
    # Core statements: the ORM's bulk paths spend more per row than SQLite does, and its bulk
    # update runs row by row on pysqlite (no multi-row rowcount). Every row has every column.
    if new:
        session.execute(_TABLE.insert(), [{k: v for k, v in r.items() if k != "id"} for r in new])
    if changed:
        session.execute(
            _UPDATE,
            [{k: v for k, v in r.items() if k != "id"} | {"b_id": r["id"]} for r in changed],
        )


def _retitle(
    link: _Link, title: str, at: datetime, infer_role: Callable[[str], str | None]
) -> None:
    """Newest title wins, by event time, whatever the arrival order."""
    if link.title_seen_at is None or at >= link.title_seen_at:
        link.title, link.title_seen_at = title[:200], at
        link.role, link.dirty = infer_role(title), True


def _choose_primary(links: list[_Link]) -> _Link | None:
    """The newest group call's account, else the first account the person was linked to."""
    grouped = [link for link in links if link.source == "group"]
    if grouped:
        return max(grouped, key=lambda link: (link.last_seen_at, -link.account_id))
    if not links:
        return None
    return min(links, key=lambda link: (link.first_seen_at, link.account_id))
