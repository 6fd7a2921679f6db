"""SQLite durability per kind of write: the log is fsynced, the pipeline's derived state is not."""

from pathlib import Path

import pytest
from sqlalchemy import text

from leadpond.config import get_settings
from leadpond.db import migrate
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


def test_the_page_cache_and_memory_map_follow_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADPOND_SQLITE_CACHE_MB", "128")
    monkeypatch.setenv("LEADPOND_SQLITE_MMAP_MB", "256")
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    try:
        with unit_of_work(url) as session:
            assert session.scalar(text("PRAGMA cache_size")) == -128 * 1024
            assert session.scalar(text("PRAGMA mmap_size")) == 256 * 1024 * 1024
    finally:
        reset_engines()
        monkeypatch.undo()
        get_settings.cache_clear()


def test_migrating_creates_the_folder_of_a_new_sqlite_file(tmp_path: Path) -> None:
    # A fresh checkout has no var/: `make run` migrates before anything else opens the file.
    target = tmp_path / "var" / "nested" / "leadpond.db"
    migrate.upgrade(f"sqlite:///{target}")
    assert target.exists()
