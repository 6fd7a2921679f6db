"""Job kinds and their handlers: each domain's ``tasks.py`` holds its handlers;
:mod:`leadpond.wiring` lists them.

A handler gets a :class:`JobContext` and returns the job's result (a JSON object) or raises.
It runs outside any transaction: it opens its own units of work (one per step for long work),
like the CLI does, and reports progress between them.
"""

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from leadpond.db.engine import unit_of_work
from leadpond.jobs.models import Job, JobState
from leadpond.kit.clock import utcnow

MESSAGE_MAX_LENGTH = 255


class JobStopped(Exception):
    """The job was cancelled, or its lease was lost to another runner: stop working on it."""


@dataclass(frozen=True)
class JobContext:
    job_id: int
    kind: str
    workspace_id: uuid.UUID
    payload: dict[str, Any]
    attempt: int
    runner: str
    lease_s: float
    url: str | None = None
    # Set when the runner shuts down: the job is handed back at its next progress report.
    stopping: threading.Event | None = None

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record how far the job got and renew its lease; raises :class:`JobStopped` when the
        job was cancelled meanwhile (or another runner took it over), or when the runner is
        shutting down (the job is then queued again at once, this attempt not counted)."""
        if self.stopping is not None and self.stopping.is_set():
            self._hand_back()
            raise JobStopped(f"job {self.job_id} handed back: the runner is stopping")
        values: dict[str, Any] = {
            "progress_done": done,
            "progress_total": total,
            "locked_until": utcnow() + timedelta(seconds=self.lease_s),
        }
        if message is not None:
            values["progress_message"] = message[:MESSAGE_MAX_LENGTH]
        with unit_of_work(self.url) as session:
            updated = session.execute(
                update(Job)
                .where(
                    Job.id == self.job_id,
                    Job.state == JobState.RUNNING.value,
                    Job.locked_by == self.runner,
                )
                .values(**values)
            ).rowcount  # type: ignore[attr-defined]
        if not updated:
            raise JobStopped(f"job {self.job_id} was cancelled or taken over")

    def _hand_back(self) -> None:
        with unit_of_work(self.url) as session:
            session.execute(
                update(Job)
                .where(
                    Job.id == self.job_id,
                    Job.state == JobState.RUNNING.value,
                    Job.locked_by == self.runner,
                )
                .values(
                    state=JobState.QUEUED.value,
                    attempts=Job.attempts - 1,
                    run_at=utcnow(),
                    locked_by=None,
                    locked_until=None,
                )
            )


Handler = Callable[[JobContext], dict[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    # Whether POST /api/v1/jobs may start it with no payload (a whole-workspace rebuild).
    startable: bool


_kinds: dict[str, JobKind] | None = None


def install(kinds: Iterable[JobKind]) -> None:
    """Set the job kinds leadpond runs (written once, in :mod:`leadpond.wiring`)."""
    global _kinds
    _kinds = {kind.name: kind for kind in kinds}


def _installed() -> dict[str, JobKind]:
    if _kinds is None:
        raise RuntimeError("job kinds are not installed: import leadpond.wiring")
    return _kinds


def kind_of(name: str) -> JobKind | None:
    """The installed kind, or None."""
    return _installed().get(name)


def startable_kinds() -> list[str]:
    """Kinds a user may start by name through the API and the CLI."""
    return sorted(name for name, kind in _installed().items() if kind.startable)
