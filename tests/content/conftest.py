"""The content tests' files go to a directory of their own."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadpond.config import get_settings


@pytest.fixture(autouse=True)
def content_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``LEADPOND_CONTENT_FILES_DIR`` in the test's temp dir, 64 KiB uploads at most."""
    folder = tmp_path / "content-files"
    monkeypatch.setenv("LEADPOND_CONTENT_FILES_DIR", str(folder))
    monkeypatch.setenv("LEADPOND_CONTENT_MAX_UPLOAD_BYTES", str(64 * 1024))
    get_settings.cache_clear()
    yield folder
    monkeypatch.undo()
    get_settings.cache_clear()
