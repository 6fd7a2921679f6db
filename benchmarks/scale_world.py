"""A processed world of a million people in minutes, for reads at scale.

``python -m benchmarks.scale_world TARGET [--people 1000000]``: TARGET is a SQLite file path or
a PostgreSQL database name (created; ``--replace`` drops it first). A demo world of
``--base-people`` (4,000) is generated and processed once, as ``leadpond demo`` does; then every
row of the workspace's per-person tables is copied k times inside the same workspace by
``INSERT … SELECT``: integer ids and the references to them are offset by the copy's number
times the table's largest id, unique strings (message ids, identifier values, keys) get the
copy's suffix, and timestamps move back by up to four weeks so the copies' days differ. The
workspace's configuration (playbook, segments, forms, content, keys) stays one copy, and the
rollups are rebuilt from the rows by the product's own code. Building it the normal way
(generate + pipeline) takes about two hours; this takes minutes.

The tables are read from the SQLAlchemy metadata: a table or an integer reference column this
script has not been told how to treat stops it, so a new table is never silently left out.
"""

import argparse
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection

from benchmarks.common import CORPUS_END, PG_ADMIN_URL, SEED, new_workspace, use_database
from leadpond.db import migrate
from leadpond.db import models as all_models
from leadpond.db.engine import get_engine, is_postgres, unit_of_work
from leadpond.demo.content import ensure_demo_content
from leadpond.demo.loaders import BulkLoader
from leadpond.demo.world import WorldSpec, WorldStats, iter_blocks
from leadpond.kit.runtime import tune_for_batches
from leadpond.pipeline import worker
from leadpond.reports.rollups import rebuild as rebuild_rollups
from leadpond.segments.models import Segment, SegmentAccountMember, SegmentMember

# Rows about people, accounts and their activity: copied k times.
REPLICATED = frozenset(
    {
        "account",
        "account_key",
        "account_merge",
        "account_suggestion",
        "device_session",
        "event",
        "event_checkin",
        "event_registration",
        "form_submission",
        "identifier",
        "journey_enrollment",
        "journey_step_log",
        "merge_suggestion",
        "message",
        "message_event",
        "person",
        "person_account",
        "person_merge",
        "person_score",
        "person_separation",
        "person_stage",
        "person_tag",
        "persona_member",
        "score_ledger",
        "segment_account_member",
        "segment_change",
        "segment_member",
        "stage_change",
        "subscription",
        "suppressed_address",
    }
)
# The workspace's configuration and the machinery's own rows: one copy.
KEPT = frozenset(
    {
        "account_settings",
        "api_credential",
        "channel_grouping",
        "channel_settings",
        "console_session",
        "console_user",
        "content_facet",
        "content_item",
        "content_taxonomy",
        "duplicate_scan",
        "form",
        "form_post_window",
        "identity_settings",
        "import_upload",
        "job",
        "journey_schedule",
        "journey_winner",
        "login_throttle",
        "marketing_event",
        "membership",
        "message_template",
        "persona_build",
        "playbook_version",
        "qr_logo",
        "segment",
        "signing_key",
        "tracking_link",
        "tracking_link_visitor",
        "wechat_qr_code",
        "wecom_contact_way",
        "workspace",
    }
)
# Per-day counts of the rows above: rebuilt from the copied rows, never copied.
ROLLUPS = frozenset(
    {
        "content_tally",
        "event_day",
        "people_day",
        "tag_holders",
        "score_holders",
        "stage_entry_day",
        "stage_funnel",
        "stage_reach_day",
    }
)
# Integer columns that name a row of another table without a foreign key.
REFERENCES = {
    ("account_merge", "merged_id"): "account",
    ("account_merge", "survivor_id"): "account",
    ("account_suggestion", "account_a_id"): "account",
    ("account_suggestion", "account_b_id"): "account",
    ("device_session", "event_id"): "event",
    ("event", "origin_person_id"): "person",
    ("event", "person_id"): "person",
    ("identifier", "origin_person_id"): "person",
    ("identifier", "source_event_id"): "event",
    ("journey_enrollment", "awaited_event_id"): "event",
    ("journey_enrollment", "trigger_event_id"): "event",
    ("person_merge", "event_id"): "event",
    ("person_tag", "event_id"): "event",
    ("score_ledger", "event_id"): "event",
    ("segment_account_member", "account_id"): "account",
    ("segment_change", "account_id"): "account",
    ("segment_change", "person_id"): "person",
    ("stage_change", "event_id"): "event",
}
# Strings unique within the workspace: each copy gets its own (an email keeps its domain).
SUFFIXED = {
    "account_key": ("value",),
    "event": ("message_id",),
    "event_registration": ("attendee_key",),
    "form_submission": ("render_nonce",),
    "identifier": ("value",),
    "message": ("idempotency_key",),
    "suppressed_address": ("address",),
}
DAYS_SPREAD = 28


class UnknownTable(RuntimeError):
    """The schema has a table or column this script does not know how to copy."""


@dataclass
class Plan:
    """How one table's rows are copied: an SQL expression per column, given copy ``c``."""

    table: Table
    columns: list[str]
    expressions: list[str]
    base_filter: str
    order: str


def _is_integer(column: Column[object]) -> bool:
    return isinstance(column.type, Integer)


def _target(column: Column[object]) -> str | None:
    """The table whose ids this integer column holds, if any."""
    for key in column.foreign_keys:
        return str(key.column.table.name)
    table = str(column.table.name)
    if (table, column.name) in REFERENCES:
        return REFERENCES[(table, column.name)]
    if column.primary_key and _is_integer(column) and len(column.table.primary_key) == 1:
        return table
    if _is_integer(column) and column.name.endswith("_id"):
        raise UnknownTable(f"{table}.{column.name}: an id of which table? (add it to REFERENCES)")
    return None


def classify(tables: Sequence[Table]) -> None:
    """Stop on any table this script was not told about."""
    for table in tables:
        if table.name not in REPLICATED | KEPT | ROLLUPS:
            raise UnknownTable(f"table {table.name}: replicate, keep or rebuild? (classify it)")


def _check_unique(table: Table, offset: set[str]) -> None:
    groups = [[c.name for c in u.columns] for u in table.constraints if _unique(u)]
    groups += [[c.name for c in i.columns] for i in table.indexes if i.unique]
    suffixed = set(SUFFIXED.get(table.name, ()))
    for group in groups:
        if group and not (set(group) & (offset | suffixed)):
            raise UnknownTable(f"{table.name}: unique {group} would repeat (add to SUFFIXED)")


def _unique(constraint: object) -> bool:
    return isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)


def plan(table: Table, strides: dict[str, int], postgres: bool) -> Plan:
    """The copy of one replicated table, column by column."""
    columns: list[str] = []
    expressions: list[str] = []
    offset: set[str] = set()
    base_filter = ""
    order = ""
    for column in table.columns:
        name = f'"{column.name}"'
        target = _target(column)
        if target in REPLICATED:
            expression = f"{name} + :c * {strides[str(target)]}"
            offset.add(column.name)
            if target == table.name and not column.primary_key:
                # Referenced rows first: SQLite looks for the children of every parent inserted
                # while a reference is dangling, a scan of the table per row.
                order = f" ORDER BY {name} IS NOT NULL"
            if not base_filter:
                base_filter = f"{name} <= {strides[str(target)]}"
        elif column.name in SUFFIXED.get(table.name, ()):
            expression = (
                f"CASE WHEN {name} LIKE '%@%' THEN replace({name}, '@', '+c' || :c || '@') "
                f"ELSE {name} || '#c' || :c END"
            )
        elif isinstance(column.type, DateTime):
            expression = (
                f"{name} - make_interval(days => CAST(:c AS integer) % {DAYS_SPREAD})"
                if postgres
                else f"strftime('%Y-%m-%d %H:%M:%S', {name}, '-' || (:c % {DAYS_SPREAD}) "
                f"|| ' days') || substr({name}, 20)"
            )
        else:
            expression = name
        columns.append(name)
        expressions.append(expression)
    if not base_filter:
        raise UnknownTable(f"{table.name}: no id column to tell the base rows from the copies")
    _check_unique(table, offset)
    return Plan(table, columns, expressions, base_filter, order)


def _strides(connection: Connection, tables: Sequence[Table]) -> dict[str, int]:
    """The largest id of each replicated table with an integer id (the offset of a copy)."""
    strides: dict[str, int] = {}
    for table in tables:
        key = list(table.primary_key.columns)
        if table.name in REPLICATED and len(key) == 1 and _is_integer(key[0]):
            strides[table.name] = int(connection.scalar(select(func.max(key[0]))) or 0) + 1
    return strides


def replicate(url: str, workspace_id: uuid.UUID, copies: int, chunk: int = 10) -> None:
    """Add ``copies`` copies of the workspace's per-person rows, table by table."""
    tables = all_models.Base.metadata.sorted_tables
    classify(tables)
    engine = get_engine(url)
    postgres = is_postgres(engine)
    with engine.begin() as connection:
        strides = _strides(connection, tables)
    plans = [plan(t, strides, postgres) for t in tables if t.name in REPLICATED]
    workspace = workspace_id.hex if not postgres else str(workspace_id)
    for item in plans:
        started = time.perf_counter()
        # Built once after the copies: much faster than growing them row by row.
        with engine.begin() as connection:
            indexes = _indexes(connection, item.table.name)
            for name, _ in indexes:
                connection.exec_driver_sql(f'DROP INDEX "{name}"')
        for first in range(1, copies + 1, chunk):
            sql = " UNION ALL ".join(
                "SELECT "
                + ", ".join(
                    f"{e.replace(':c', str(c))} AS {name}"
                    for e, name in zip(item.expressions, item.columns, strict=True)
                )
                + " "
                f'FROM "{item.table.name}" WHERE workspace_id = :w AND {item.base_filter}'
                for c in range(first, min(first + chunk, copies + 1))
            )
            with engine.begin() as connection:
                connection.execute(
                    text(
                        f'INSERT INTO "{item.table.name}" ({", ".join(item.columns)}) '
                        f"SELECT * FROM ({sql}) AS copied{item.order}"
                    ),
                    {"w": workspace},
                )
        with engine.begin() as connection:
            for _, definition in indexes:
                connection.exec_driver_sql(definition)
        print(f"  {item.table.name}: {time.perf_counter() - started:.1f} s", flush=True)
    if postgres:
        with engine.begin() as connection:
            for name in strides:
                key = next(iter(all_models.Base.metadata.tables[name].primary_key)).name
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{name}\"', '{key}'), "
                        f'(SELECT max("{key}") FROM "{name}"))'
                    )
                )


def recount(url: str, workspace_id: uuid.UUID) -> None:
    """Rebuild the rollups and the segments' member counts from the copied rows."""
    use_database(url)
    with unit_of_work() as session:
        rebuild_rollups(session, workspace_id)
        for segment in session.scalars(select(Segment).where(Segment.workspace_id == workspace_id)):
            members = SegmentAccountMember if segment.level == "account" else SegmentMember
            count = session.scalar(
                select(func.count()).select_from(members).where(members.segment_id == segment.id)
            )
            session.execute(
                update(Segment).where(Segment.id == segment.id).values(member_count=count or 0)
            )


def _indexes(connection: Connection, table: str) -> list[tuple[str, str]]:
    """The table's indexes (not those of its primary key or unique constraints) as the database
    holds them — name and DDL, in the order they were created, which is the order they are
    built again in: SQLite breaks a tie between two equally good indexes by that order, so a
    world whose indexes were rebuilt in another order than the migrations made them could
    choose another plan than a real database."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                "ORDER BY i.indexrelid"
            ),
            {"t": f'"{table}"'},
        )
    else:
        rows = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                "AND sql IS NOT NULL ORDER BY rowid"
            ),
            {"t": table},
        )
    return [(str(name), str(definition)) for name, definition in rows]


def settle(url: str) -> None:
    """PostgreSQL: VACUUM ANALYZE the copied world, as autovacuum does a live database in its
    own time: the planner then knows the tables' sizes (a fresh copy's statistics describe the
    4,000-person base world) and index-only scans see an up-to-date visibility map."""
    engine = get_engine(url)
    if not is_postgres(engine):
        return
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM (ANALYZE)"
        )


def base_world(url: str, people: int) -> uuid.UUID:
    """A migrated database with a processed demo world of ``people``; its workspace."""
    migrate.upgrade(url)
    workspace = new_workspace(url, "scale")
    spec = WorldSpec(SEED, people, CORPUS_END)
    with unit_of_work(url) as session:
        # The demo's content pool: the items its Content Viewed events name (one copy).
        ensure_demo_content(session, workspace.workspace_id, spec)
    loader = BulkLoader(workspace.workspace_id)
    for block in iter_blocks(spec, WorldStats()):
        loader.load(block.messages)
    tune_for_batches()
    worker.drain()
    return workspace.workspace_id


def target_url(target: str, replace: bool) -> str:
    """The SQLAlchemy URL of a SQLite path or a (new) PostgreSQL database name."""
    if "/" in target or target.endswith(".db"):
        path = Path(target).resolve()
        if path.exists() and not replace:
            raise SystemExit(f"{path} exists (use --replace)")
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        if replace:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{target}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{target}"


def counts(url: str, workspace_id: uuid.UUID) -> dict[str, int]:
    """Rows of the main tables in the workspace."""
    engine = get_engine(url)
    workspace = str(workspace_id) if is_postgres(engine) else workspace_id.hex
    with engine.begin() as connection:
        return {
            name: int(
                connection.scalar(
                    text(f'SELECT count(*) FROM "{name}" WHERE workspace_id = :w'), {"w": workspace}
                )
                or 0
            )
            for name in ("person", "event", "identifier", "account", "stage_change")
        }


def main(argv: list[str] | None = None) -> int:
    """Build the world and print what it holds (JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="a SQLite file path or a PostgreSQL database name")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--base-people", type=int, default=4_000)
    parser.add_argument("--replace", action="store_true")
    args = parser.parse_args(argv)
    url = target_url(args.target, args.replace)
    started = time.perf_counter()
    workspace_id = base_world(url, args.base_people)
    base_seconds = time.perf_counter() - started
    copies = max(0, round(args.people / args.base_people) - 1)
    print(f"base world in {base_seconds:.0f} s; {copies} copies ...", flush=True)
    replicate(url, workspace_id, copies)
    recount(url, workspace_id)
    settle(url)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    summary = {
        "url": url,
        "workspace_id": str(workspace_id),
        "people_asked": args.people,
        "copies": copies + 1,
        "seconds": round(time.perf_counter() - started, 1),
        "base_seconds": round(base_seconds, 1),
        "commit": commit,
        "rows": counts(url, workspace_id),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
