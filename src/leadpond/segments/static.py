"""Static lists: which people a list of ids or an uploaded file names."""

import uuid
from collections.abc import Iterable
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.identity.keys import normalise_identifier
from leadpond.identity.models import Identifier
from leadpond.ingest.import_files import cell_text, read_table
from leadpond.kit.errors import InvalidInput
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.state import chunks

# File columns that name a person, tried in this order; other columns are ignored.
ID_COLUMNS = ("person_id", "user_id", "email", "phone")
_HEADER_ALIASES = {
    "person id": "person_id",
    "personid": "person_id",
    "userid": "user_id",
    "user id": "user_id",
    "e-mail": "email",
    "邮箱": "email",
    "mobile": "phone",
    "手机": "phone",
    "手机号": "phone",
    "电话": "phone",
}


def live_people(
    session: Session, workspace_id: uuid.UUID, person_ids: Iterable[int]
) -> tuple[set[int], set[int]]:
    """(live people, unknown ids): merged-away ids are replaced by their survivor."""
    wanted = set(person_ids)
    found: set[int] = set()
    unknown = set(wanted)
    pending = wanted
    for _ in range(32):  # merge chains are short; this bounds a corrupt loop
        if not pending:
            break
        next_round: set[int] = set()
        for chunk in chunks(pending):
            for pid, into in session.execute(
                select(Person.id, Person.merged_into_id).where(
                    owned(Person, workspace_id), Person.id.in_(chunk)
                )
            ):
                unknown.discard(pid)
                if into is None:
                    found.add(pid)
                else:
                    next_round.add(into)
        pending = next_round
    return found, unknown


def people_in_file(
    session: Session, workspace_id: uuid.UUID, stream: IO[bytes], filename: str
) -> tuple[set[int], list[str]]:
    """The people a CSV/XLSX file names (by person_id, user_id, email or phone column).

    Returns the person ids and one message per row that named nobody known.
    """
    headers, rows = read_table(stream, filename)
    columns = {
        index: _HEADER_ALIASES.get(h.strip().lower(), h.strip().lower())
        for index, h in enumerate(headers)
    }
    usable = {i: c for i, c in columns.items() if c in ID_COLUMNS}
    if not usable:
        rows.close()
        raise InvalidInput(f"the file needs one of these columns: {', '.join(ID_COLUMNS)}")
    wanted: list[tuple[int, list[tuple[str, str]]]] = []
    try:
        for number, row in enumerate(rows, start=2):
            keys = []
            for index, column in usable.items():
                text = cell_text(row[index]) if index < len(row) else None
                value = _normal(column, text)
                if value is not None:
                    keys.append((column, value))
            if keys:
                wanted.append((number, keys))
    finally:
        rows.close()
    return _resolve(session, workspace_id, wanted)


def _normal(column: str, text: str | None) -> str | None:
    if text is None:
        return None
    if column == "person_id":
        return text if text.isascii() and text.isdigit() else None
    return normalise_identifier(column, text)


def _resolve(
    session: Session, workspace_id: uuid.UUID, wanted: list[tuple[int, list[tuple[str, str]]]]
) -> tuple[set[int], list[str]]:
    by_key: dict[tuple[str, str], int] = {}
    for column in ID_COLUMNS[1:]:
        values = {v for _, keys in wanted for c, v in keys if c == column}
        for chunk in _text_chunks(values):
            for value, pid in session.execute(
                select(Identifier.value, Identifier.person_id).where(
                    owned(Identifier, workspace_id),
                    Identifier.type == column,
                    Identifier.value.in_(chunk),
                )
            ):
                by_key[(column, value)] = pid
    chosen: dict[int, int] = {}
    problems: list[str] = []
    for number, keys in wanted:
        person: int | None = None
        for column, value in keys:
            person = int(value) if column == "person_id" else by_key.get((column, value))
            if person is not None:
                break
        if person is None:
            named = ", ".join(f"{c} {v}" for c, v in keys)
            problems.append(f"row {number}: no person with {named}")
        else:
            chosen[number] = person
    survivors, unknown = live_people(session, workspace_id, set(chosen.values()))
    problems += [f"row {n}: no person {pid}" for n, pid in chosen.items() if pid in unknown]
    return survivors, problems


def _text_chunks(values: set[str], size: int = 500) -> list[list[str]]:
    ordered = sorted(values)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]
