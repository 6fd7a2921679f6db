"""Engines and sessions: SQLite in WAL mode with one writer, PostgreSQL through psycopg 3."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Date, Engine, create_engine, event, func
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from leadpond.config import get_settings
from leadpond.db.regex import sqlite_regexp


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _configure_sqlite(engine: Engine, synchronous: str, begin: str) -> None:
    settings = get_settings()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE makes writers queue
        # on busy_timeout instead of failing when a read lock is upgraded.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute(f"PRAGMA cache_size=-{settings.sqlite_cache_mb * 1024}")
        cursor.execute(f"PRAGMA mmap_size={settings.sqlite_mmap_mb * 1024 * 1024}")
        cursor.close()
        # Replaces the ``regexp`` SQLAlchemy registers (Python's backtracking ``re``): user
        # patterns run on RE2, in linear time, as in the Python evaluator.
        dbapi_connection.create_function("regexp", 2, sqlite_regexp, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(f"BEGIN {begin}")


_created: list[Engine] = []


def make_sqlite_folder(url: str) -> None:
    """Create the folder an SQLite file lives in (``var/`` on a fresh checkout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=16)
def get_engine(url: str | None = None, *, writer: bool = True, derived: bool = False) -> Engine:
    """An engine per URL; SQLite writers BEGIN IMMEDIATE, readers DEFERRED.

    ``derived`` writers (the pipeline) commit with ``synchronous=NORMAL`` on SQLite: what they
    write is derived from the event log, which ingest commits durably. A power cut may undo
    their last batches, atomically, and the worker then processes those events again.
    """
    settings = get_settings()
    url = url or settings.database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        make_sqlite_folder(url)
        # SQLite has one writer at a time. A writer engine keeps one connection, so this
        # process's writers queue for it on a lock that wakes the next one at once, rather than
        # in SQLite's busy handler, which polls with sleeps of up to 100 ms (four lanes of the
        # deliverer spent most of their time there). Readers keep a pool.
        pool: dict[str, Any] = (
            {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60} if writer else {}
        )
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 60},
            **pool,
        )
        synchronous = "NORMAL" if derived else settings.sqlite_synchronous
        _configure_sqlite(engine, synchronous, "IMMEDIATE" if writer else "DEFERRED")
    else:
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
        )
    _created.append(engine)
    return engine


def is_postgres(engine_or_session: Engine | Session) -> bool:
    """True when the bound database is PostgreSQL (the scale-out backend)."""
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "postgresql"


def sql_day(session: Session, column: Any) -> Any:
    """The day of a (naive UTC) timestamp column, computed by the session's database: read it
    back through ``as_date`` (SQLite answers a string)."""
    return sql_cast(column, Date) if is_postgres(session) else func.date(column)


def as_date(value: date | str) -> date:
    """A day as ``sql_day`` answers it, as a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def dialect_insert(session: Session, table: Any) -> Any:
    """The session's database's own ``INSERT`` of ``table``, which has ``on_conflict_do_nothing``
    and ``on_conflict_do_update`` (one place for the choice the upserts make)."""
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(table)


@lru_cache(maxsize=16)
def _factory(url: str | None, writer: bool, derived: bool = False) -> sessionmaker[Session]:
    engine = get_engine(url, writer=writer, derived=derived)
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(url: str | None = None, *, derived: bool = False) -> Iterator[Session]:
    """One write transaction: commits when the block succeeds, rolls back when it raises.

    ``derived=True`` is for writes recomputable from the event log (see ``get_engine``).
    """
    with _factory(url, True, derived)() as session, session.begin():
        yield session


@contextmanager
def rolled_back(url: str | None = None) -> Iterator[Session]:
    """A write transaction that is always rolled back: to see what something would do (a
    journey's dry-run) with the very code that does it, and keep nothing."""
    session = _factory(url, True)()
    try:
        session.begin()
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def read_only(url: str | None = None) -> Iterator[Session]:
    """A read transaction that never takes the SQLite write lock."""
    with _factory(url, False)() as session, session.begin():
        yield session


def reset_engines() -> None:
    """Dispose every engine and forget the factories (after the database URL setting changed)."""
    for engine in _created:
        engine.dispose()
    _created.clear()
    _factory.cache_clear()
    get_engine.cache_clear()
