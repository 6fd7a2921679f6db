"""Members as lists show them: the person's name, email, company and title, or the account."""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from leadpond.segments.definitions import PERSON
from leadpond.segments.exports import (
    account_rows,
    opted_out,
    person_rows,
    person_value,
    suppression,
)
from leadpond.segments.schemas import MemberRead


def member_reads(
    session: Session, workspace_id: uuid.UUID, level: str, rows: list[tuple[int, datetime | None]]
) -> list[MemberRead]:
    """One ``MemberRead`` per (id, since), in the given order."""
    ids = [member_id for member_id, _ in rows]
    if not ids:
        return []
    if level == PERSON:
        people = {
            pid: (traits, links) for pid, traits, links in person_rows(session, workspace_id, ids)
        }
        out = opted_out(session, workspace_id, ids)
        return [
            MemberRead(
                id=pid,
                since=since,
                name=_text(person_value("name", *people[pid])),
                email=_text(person_value("email", *people[pid])),
                company=_text(person_value("company", *people[pid])),
                title=_text(person_value("title", *people[pid])),
                suppressed=suppression(people[pid][0], pid in out) or None,
            )
            for pid, since in rows
            if pid in people
        ]
    accounts = {a.id: (a, n) for a, n in account_rows(session, workspace_id, ids)}
    return [
        MemberRead(
            id=aid,
            since=since,
            name=accounts[aid][0].name,
            domain=accounts[aid][0].domain,
            industry=accounts[aid][0].industry,
        )
        for aid, since in rows
        if aid in accounts
    ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
