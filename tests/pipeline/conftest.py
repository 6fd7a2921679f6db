"""Fixtures for tests that run real ``leadpond`` processes."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline.processes import LeadpondProcess, Spawn


@pytest.fixture
def spawn(database_url: str, backend: str, tmp_path: Path) -> Iterator[Spawn]:
    """Start ``leadpond <args>`` on the test database; whatever is still running dies at the end."""
    started: list[LeadpondProcess] = []

    def start(args: list[str], log_name: str) -> LeadpondProcess:
        process = LeadpondProcess(args, database_url, tmp_path / log_name)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill_9()
