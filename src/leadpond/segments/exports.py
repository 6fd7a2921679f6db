"""Segment members as a table: chosen columns, suppression flagged, CSV (Excel-ready) or XLSX."""

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.accounts.scope import accounts
from leadpond.kit.clock import isoformat
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.state import chunks
from leadpond.segments.definitions import PERSON, InvalidSegment
from leadpond.segments.models import Segment, SegmentAccountMember, SegmentMember

PERSON_COLUMNS = ("name", "company", "title", "owner", "phone", "email")
ACCOUNT_COLUMNS = ("name", "domain", "industry", "uscc", "people")
SUPPRESSED = "suppressed"
_COLUMN = re.compile(r"^[\w.\-]{1,64}$")
_TRUE = {"true", "yes", "1", "y", "是"}
# A cell Excel would run as a formula (not a phone number such as +86 138 ...).
_FORMULA = re.compile(r"^(?:[=@\t\r]|[+\-](?![\d\s()]+$))")


# Who opted out in the consent records (channels' subscriptions: a package above this one, so
# leadpond.wiring installs the reader here).
OptOutReader = Callable[[Session, uuid.UUID, Iterable[int]], set[int]]
_opt_out_reader: OptOutReader | None = None


def install_opt_out_reader(reader: OptOutReader) -> None:
    """Set who answers "which of these people unsubscribed" (leadpond.wiring does)."""
    global _opt_out_reader
    _opt_out_reader = reader


def opted_out(session: Session, workspace_id: uuid.UUID, ids: Iterable[int]) -> set[int]:
    """Which of these people unsubscribed (email or SMS) in the consent records."""
    if _opt_out_reader is None:
        raise RuntimeError("the opt-out reader is not installed: import leadpond.wiring")
    return _opt_out_reader(session, workspace_id, ids)


def suppression(traits: dict[str, Any], unsubscribed: bool = False) -> str:
    """'unsubscribed', 'do_not_contact' (or both) when the person must not be contacted:
    ``unsubscribed`` when the consent records say so, or either trait does."""
    flags = [
        flag
        for flag, names in (
            ("unsubscribed", ("unsubscribed",)),
            ("do_not_contact", ("do_not_contact", "doNotContact")),
        )
        if any(_truthy(traits.get(name)) for name in names)
        or (flag == "unsubscribed" and unsubscribed)
    ]
    return ",".join(flags)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE


def check_columns(segment: Segment, columns: Sequence[str] | None) -> list[str]:
    """The columns to export (defaults per level); any trait name is a column for people."""
    default = PERSON_COLUMNS if segment.level == PERSON else ACCOUNT_COLUMNS
    chosen = [c.strip() for c in columns if c.strip()] if columns else list(default)
    bad = [c for c in chosen if not _COLUMN.match(c)]
    if bad:
        raise InvalidSegment(f"not a column name: {bad[0]!r}")
    if segment.level != PERSON:
        unknown = [c for c in chosen if c not in (*ACCOUNT_COLUMNS, "account_id", "since")]
        if unknown:
            raise InvalidSegment(f"account exports have no column {unknown[0]!r}")
    return chosen


def export_rows(
    session: Session, workspace_id: uuid.UUID, segment: Segment, columns: Sequence[str]
) -> Iterator[list[Any]]:
    """The header, then one row per member (people: plus the suppression flag)."""
    if segment.level == PERSON:
        yield ["person_id", *columns, "since", SUPPRESSED]
        member_ids = list(
            session.execute(
                select(SegmentMember.person_id, SegmentMember.since)
                .where(owned(SegmentMember, workspace_id), SegmentMember.segment_id == segment.id)
                .order_by(SegmentMember.person_id)
            )
        )
        since = {pid: at for pid, at in member_ids}
        for ids in chunks(since):
            out = opted_out(session, workspace_id, ids)
            for pid, traits, links in person_rows(session, workspace_id, ids):
                values = [person_value(c, traits, links) for c in columns]
                yield [pid, *values, isoformat(since[pid]), suppression(traits, pid in out)]
        return
    yield ["account_id", *columns, "since"]
    rows = session.execute(
        select(SegmentAccountMember.account_id, SegmentAccountMember.since)
        .where(
            owned(SegmentAccountMember, workspace_id),
            SegmentAccountMember.segment_id == segment.id,
        )
        .order_by(SegmentAccountMember.account_id)
    )
    since = {aid: at for aid, at in rows}
    for ids in chunks(since):
        for account, people in account_rows(session, workspace_id, ids):
            values = [
                people if c == "people" else getattr(account, c, None)
                for c in columns
                if c not in ("account_id", "since")
            ]
            yield [account.id, *values, isoformat(since[account.id])]


def person_rows(
    session: Session, workspace_id: uuid.UUID, ids: list[int]
) -> list[tuple[int, dict[str, Any], list[tuple[str, str | None]]]]:
    """(id, traits, [(account name, title)] primary first) for some people."""
    links: dict[int, list[tuple[str, str | None]]] = {}
    for pid, name, title in session.execute(
        select(PersonAccount.person_id, Account.name, PersonAccount.title)
        .join(Account, Account.id == PersonAccount.account_id)
        .where(owned(PersonAccount, workspace_id), PersonAccount.person_id.in_(ids))
        .order_by(PersonAccount.is_primary.desc(), PersonAccount.id)
    ):
        links.setdefault(pid, []).append((name, title))
    # By primary key, the workspace checked on the rows: with the workspace in the WHERE clause
    # SQLite without statistics walked a (workspace, …) index over every person of it.
    return [
        (pid, traits or {}, links.get(pid, []))
        for pid, traits, owner in session.execute(
            select(Person.id, Person.traits, Person.workspace_id)
            .where(Person.id.in_(ids))
            .order_by(Person.id)
        )
        if owner == workspace_id
    ]


def account_rows(
    session: Session, workspace_id: uuid.UUID, ids: list[int]
) -> list[tuple[Account, int]]:
    """Accounts and how many people are linked to each."""
    counts: dict[int, int] = {}
    for aid in session.scalars(
        select(PersonAccount.account_id).where(
            owned(PersonAccount, workspace_id), PersonAccount.account_id.in_(ids)
        )
    ):
        counts[aid] = counts.get(aid, 0) + 1
    found = session.scalars(accounts(workspace_id).where(Account.id.in_(ids)).order_by(Account.id))
    return [(a, counts.get(a.id, 0)) for a in found]


def person_value(column: str, traits: dict[str, Any], links: list[tuple[str, str | None]]) -> Any:
    """One export cell: the well-known columns, else the trait at that (dotted) path."""
    if column == "name":
        return _name(traits)
    if column == "company":
        company = traits.get("company")
        if isinstance(company, dict):
            company = company.get("name")
        return company or (links[0][0] if links else None)
    if column == "title":
        return traits.get("title") or next((t for _, t in links if t), None)
    if column == "phone":
        return traits.get("phone") or traits.get("mobile")
    value: Any = traits
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _name(traits: dict[str, Any]) -> str | None:
    name = traits.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    first = str(traits.get("firstName") or traits.get("first_name") or "").strip()
    last = str(traits.get("lastName") or traits.get("last_name") or "").strip()
    if not (first or last):
        return None
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"  # Chinese order: family name first, no space
    return f"{first} {last}".strip()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return str(value)
    return value


def to_csv(rows: Iterator[list[Any]]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    yield "\ufeff".encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(
            ["'" + v if isinstance(v, str) and _FORMULA.match(v) else _cell(v) for v in row]
        )
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()


def to_xlsx(rows: Iterator[list[Any]], title: str) -> bytes:
    """A one-sheet workbook; every text cell is stored as text, never as a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "segment")
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_cell(value))
            if isinstance(value, str):
                cell.data_type = "s"
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
