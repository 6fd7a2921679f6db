"""Importing people from CSV and XLSX files: every good row becomes an identify event.

A row goes into the event log like any other channel (source ``import``), so the pipeline, the
identity rules and the timeline treat it like a tracking call. Its messageId is derived from the
workspace and the row's normalised values: importing the same file again changes nothing.
"""

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select

from leadpond import __version__
from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest.import_files import cell_text, parse_cell_time, read_table, time_zone
from leadpond.ingest.models import Event
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import (
    MAX_EVENT_BYTES,
    AcceptedMessage,
    MessageRejected,
    check_time_range,
)
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.errors import InvalidInput
from leadpond.kit.scope import owned
from leadpond.normalise.contact import normalise_email, normalise_phone

CHUNK_ROWS = 5000
DEFAULT_TIMEZONE = "Asia/Shanghai"
IGNORE = ""
EXTERNAL_PREFIX = "external:"
EXTERNAL_ID_TRAITS = ("crm_id", "wechat_unionid", "wechat_openid")

# Target -> the header spellings it answers to (compared case-, width- and space-insensitively).
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "user_id": ("user_id", "userid", "用户ID"),
    "email": ("email", "e-mail", "email_address", "邮箱", "邮箱地址", "电子邮件", "电子邮箱"),
    "phone": ("phone", "phone_number", "mobile", "手机", "手机号", "手机号码", "电话", "联系电话"),
    "name": ("name", "full_name", "姓名"),
    "first_name": ("first_name", "firstname", "名"),
    "last_name": ("last_name", "lastname", "surname", "姓"),
    "company": ("company", "company_name", "公司", "公司名称", "单位", "单位名称", "企业名称"),
    "title": ("title", "job_title", "职位", "职务", "头衔"),
    "department": ("department", "部门"),
    "industry": ("industry", "行业"),
    "city": ("city", "城市"),
    "province": ("province", "省份"),
    "uscc": ("uscc", "统一社会信用代码"),
    "wechat_unionid": ("wechat_unionid", "unionid"),
    "wechat_openid": ("wechat_openid", "openid"),
    "crm_id": ("crm_id",),
    "timestamp": ("timestamp", "created_at", "时间", "创建时间"),
}

_LOOSE = re.compile(r"[\s_\-.]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^\w]+")


def column_key(header: str) -> str:
    """A header as compared for mapping: ``E-Mail``, ``email`` and ``ＥＭＡＩＬ`` are one key."""
    return _LOOSE.sub("", unicodedata.normalize("NFKC", header).strip().lower())


_DEFAULT_BY_KEY = {column_key(a): t for t, aliases in DEFAULT_COLUMNS.items() for a in aliases}
_TARGET_BY_KEY = {column_key(target): target for target in DEFAULT_COLUMNS}


def trait_name(header: str) -> str:
    """The custom trait a header becomes: snake_case; Chinese text is kept as it is."""
    text = _CAMEL.sub("_", unicodedata.normalize("NFKC", header).strip())
    return _NOT_WORD.sub("_", text).strip("_").lower()


def default_target(header: str) -> str:
    """The trait a column fills when no mapping names it: a known header's target, else the
    custom trait of its name."""
    return _DEFAULT_BY_KEY.get(column_key(header)) or trait_name(header) or header


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    header: str
    target: str

    @property
    def external_type(self) -> str | None:
        """The externalIds type this column carries, if it is an external id."""
        if self.target.startswith(EXTERNAL_PREFIX):
            return self.target[len(EXTERNAL_PREFIX) :]
        return self.target if self.target in EXTERNAL_ID_TRAITS else None

    @property
    def is_identifier(self) -> bool:
        return self.target in ("user_id", "email", "phone") or self.external_type is not None


def plan_columns(headers: list[str], mapping: dict[str, str] | None = None) -> list[Column]:
    """Which trait each column fills: the defaults, then ``mapping`` (header -> target, "" ignores).

    Raises InvalidInput for a mapping that names no column, two columns filling one target, or
    a file without any identifier column.
    """
    targets = {index: default_target(header) for index, header in enumerate(headers) if header}
    for wanted, target in (mapping or {}).items():
        matches = [i for i, h in enumerate(headers) if h == wanted.strip()] or [
            i for i, h in enumerate(headers) if h and column_key(h) == column_key(wanted)
        ]
        if not matches:
            raise InvalidInput(
                f"mapping names a column that is not in the file: {wanted!r} "
                f"(columns: {', '.join(h for h in headers if h)})"
            )
        target = target.strip()
        target = _TARGET_BY_KEY.get(column_key(target), target)
        if target.startswith(EXTERNAL_PREFIX) and not target[len(EXTERNAL_PREFIX) :].strip():
            raise InvalidInput(f"mapping {wanted!r}: external ids need a type, e.g. external:crm")
        for index in matches:
            targets[index] = target
    columns = [Column(i, headers[i], t) for i, t in sorted(targets.items()) if t != IGNORE]
    seen: dict[str, Column] = {}
    for column in columns:
        if column.target in seen:
            raise InvalidInput(
                f"columns {seen[column.target].header!r} and {column.header!r} both map to "
                f"{column.target!r}; map one elsewhere, e.g. --map {column.header}=other_name"
            )
        seen[column.target] = column
    if not any(column.is_identifier for column in columns):
        raise InvalidInput(
            "no column holds an identifier: a file needs user_id, email, phone or an external id"
        )
    return columns


@dataclass(frozen=True, slots=True)
class RowContext:
    workspace_id: uuid.UUID
    columns: list[Column]
    zone: ZoneInfo
    received_at: datetime
    filename: str


@dataclass
class RowValues:
    """What one row says, checked cell by cell; ``canonical`` is what its messageId hashes."""

    problems: list[dict[str, Any]] = field(default_factory=list)
    traits: dict[str, str] = field(default_factory=dict)
    external_ids: list[dict[str, str]] = field(default_factory=list)
    canonical: dict[str, str] = field(default_factory=dict)
    user_id: str | None = None
    moment: datetime | None = None
    original_time: str | None = None
    has_identifier: bool = False


def read_row(number: int, cells: tuple[Any, ...] | list[Any], ctx: RowContext) -> RowValues:
    """Every non-empty mapped cell of a row, validated; each bad cell becomes a problem."""
    row = RowValues()

    def problem(column: Column, code: str, reason: str, value: str = "") -> None:
        row.problems.append(
            {"row": number, "column": column.header, "code": code, "reason": reason, "value": value}
        )

    for column in ctx.columns:
        raw = cells[column.index] if column.index < len(cells) else None
        text = cell_text(raw)
        if text is None:
            continue
        target, external = column.target, column.external_type
        row.has_identifier = row.has_identifier or column.is_identifier
        value = text
        if target == "timestamp":
            row.moment = parse_cell_time(raw if isinstance(raw, date) else text, ctx.zone)
            if row.moment is None:
                problem(column, "bad_time", f"not a date or time: {text!r}", text)
                continue
            try:
                check_time_range(row.moment, ctx.received_at, column.header)
            except MessageRejected as exc:
                problem(column, "time_out_of_range", f"{exc.message}: {text!r}", text)
                continue
            value, row.original_time = isoformat(row.moment) or text, text
        elif target == "email":
            value = normalise_email(text) or ""
            if not value:
                problem(column, "bad_email", f"not a valid email address: {text!r}", text)
        elif target == "phone":
            value = normalise_phone(text) or ""
            if not value:
                problem(column, "bad_phone", f"not a valid phone number: {text!r}", text)
        elif (target == "user_id" or external) and len(text) > 255:
            problem(column, "identifier_too_long", "an identifier may hold at most 255 characters")
        if target == "user_id":
            row.user_id = text
        elif external is not None:
            row.external_ids.append(
                {"id": text, "type": external, "collection": "users", "encoding": "none"}
            )
        elif target != "timestamp":
            row.traits[target] = text
        row.canonical[target] = value
    if not row.has_identifier:
        row.problems.append(
            {
                "row": number,
                "column": ", ".join(c.header for c in ctx.columns if c.is_identifier),
                "code": "no_identifier",
                "reason": "no identifier in this row (user_id, email, phone or an external id)",
                "value": "",
            }
        )
    return row


def build_message(
    number: int, cells: tuple[Any, ...] | list[Any], ctx: RowContext
) -> tuple[AcceptedMessage | None, list[dict[str, Any]]]:
    """One data row as an identify message, or the problems that keep it out."""
    row = read_row(number, cells, ctx)
    if row.problems:
        return None, row.problems
    digest = hashlib.sha256(
        orjson.dumps([str(ctx.workspace_id), row.canonical], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    timestamp = row.moment or ctx.received_at
    context: dict[str, Any] = {
        "library": {"name": "leadpond-import", "version": __version__},
        "import": {"file": ctx.filename, "row": number},
    }
    if row.external_ids:
        context["externalIds"] = row.external_ids
    payload: dict[str, Any] = {
        "type": "identify",
        "messageId": f"import-{digest}",
        "traits": row.traits,
        "context": context,
        "timestamp": isoformat(timestamp),
        "originalTimestamp": row.original_time,
        "receivedAt": isoformat(ctx.received_at),
    }
    if row.user_id:
        payload["userId"] = row.user_id
    if len(orjson.dumps(payload)) > MAX_EVENT_BYTES:
        reason = f"the row holds more than {MAX_EVENT_BYTES} bytes"
        return None, [
            {"row": number, "column": "", "code": "row_too_large", "reason": reason, "value": ""}
        ]
    message = AcceptedMessage(
        message_id=payload["messageId"],
        type="identify",
        event=None,
        user_id=row.user_id,
        anonymous_id=None,
        group_id=None,
        timestamp=timestamp,
        payload=payload,
    )
    return message, []


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_body(self) -> dict[str, Any]:
        """The report as the API answers it."""
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rows": self.rows,
        }


def _count_new(
    workspace_id: uuid.UUID,
    messages: list[AcceptedMessage],
    received_at: datetime,
    seen: set[bytes] | None,
) -> int:
    """Write a chunk in its own transaction; in a dry run, count what would be new instead."""
    if seen is None:
        with unit_of_work() as session:
            return append_events(session, workspace_id, messages, received_at, source="import")
    ids = {m.message_id for m in messages}
    with read_only() as session:
        existing = set(
            session.scalars(
                select(Event.message_id).where(
                    owned(Event, workspace_id), Event.message_id.in_(ids)
                )
            )
        )
    new = 0
    for message_id in ids - existing:
        key = bytes.fromhex(message_id.removeprefix("import-"))[:16]
        if key not in seen:
            seen.add(key)
            new += 1
    return new


def import_people(
    workspace_id: uuid.UUID,
    stream: IO[bytes],
    filename: str,
    *,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    timezone: str = DEFAULT_TIMEZONE,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import every good row of a CSV/XLSX file as an identify event and report every bad one.

    Each chunk of ``chunk_rows`` good rows is its own transaction (a unit of work, like a
    pipeline batch), so a million-row file never holds one giant transaction; a failure part way
    loses nothing, because running the import again skips what was already written.
    """
    zone = time_zone(timezone)
    headers, rows = read_table(stream, filename)
    with closing(rows):
        received_at = utcnow()
        columns = plan_columns(headers, mapping)
        ctx = RowContext(workspace_id, columns, zone, received_at, PurePath(filename).name)
        report = ImportReport()
        seen: set[bytes] | None = set() if dry_run else None
        pending: list[AcceptedMessage] = []

        def flush() -> None:
            new = _count_new(workspace_id, pending, received_at, seen)
            report.imported += new
            report.duplicates += len(pending) - new
            pending.clear()
            if on_progress is not None:
                on_progress(report)

        for number, cells in enumerate(rows, start=2):
            if not any(cell_text(cell) for cell in cells):
                continue
            report.rows += 1
            message, problems = build_message(number, cells, ctx)
            report.rejected.extend(problems)
            if message is not None:
                pending.append(message)
                if len(pending) >= chunk_rows:
                    flush()
        flush()
    return report
