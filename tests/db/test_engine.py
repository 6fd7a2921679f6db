"""SQLite durability per kind of write: the log is fsynced, the pipeline's derived state is not."""

from pathlib import Path

from sqlalchemy import text

from leadpond.db.engine import reset_engines, unit_of_work

FULL, NORMAL = 2, 1


def test_pipeline_writes_commit_without_fsync_but_ingest_writes_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'durability.db'}"
    try:
        with unit_of_work(url) as session:
            assert session.scalar(text("PRAGMA synchronous")) == FULL
        with unit_of_work(url, derived=True) as session:
            assert session.scalar(text("PRAGMA synchronous")) == NORMAL
        # Pooled connections keep their own setting: the next plain write is durable again.
        with unit_of_work(url) as session:
            assert session.scalar(text("PRAGMA synchronous")) == FULL
    finally:
        reset_engines()
