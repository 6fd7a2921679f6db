"""Playbook jobs: replaying a workspace's history through its current rules (the backfill)."""

import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from leadpond.jobs.models import Job
from leadpond.jobs.registry import JobContext
from leadpond.jobs.service import enqueue
from leadpond.playbooks.service import replay_history

REPLAY_HISTORY = "rules.backfill"


def replay_history_task(ctx: JobContext) -> dict[str, Any]:
    """Replay history in steps of people (one transaction each), reporting people done.

    Only processed events are replayed: an event the pipeline quarantined is not part of any
    profile until ``leadpond pipeline retry-failed`` lets it through, so it cannot fail this.
    """
    ctx.progress(0, None, "replaying history")

    def step(done: int, total: int) -> None:
        ctx.progress(done, total, "people replayed")

    report = replay_history(ctx.workspace_id, url=ctx.url, on_step=step)
    return asdict(report)


def enqueue_replay(session: Session, workspace_id: uuid.UUID, key: str | None = None) -> Job:
    """Queue a history replay in the caller's transaction (``key`` makes a retried request
    return the same job; without one every call queues a new replay)."""
    return enqueue(
        session,
        REPLAY_HISTORY,
        key or f"replay:{uuid.uuid4().hex}",
        {},
        workspace_id=workspace_id,
    )
