"""Time moves memberships too: "visited in the last 7 days" ends without a new event.

Segments whose conditions hold windows or decaying scores, those that read accounts or
colleagues, and every account segment are rebuilt set-wise once their last build is older than
the refresh interval. The worker loop calls ``refresh_due``; ``leadpond segment refresh`` does
the same by hand.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.segments import personas
from leadpond.segments.build import BuildReport, rebuild
from leadpond.segments.definitions import ACCOUNT, DYNAMIC, WorkspaceSegments, load_segments
from leadpond.segments.models import Segment

REFRESH_EVERY = timedelta(minutes=5)
REASON = "scheduled refresh (time windows, score decay, account changes)"


def needs_refresh(loaded: WorkspaceSegments, segment: Segment) -> bool:
    """True when time or other people's changes can move this segment's membership."""
    return segment.kind == DYNAMIC and (
        segment.level == ACCOUNT or loaded.time_dependent(segment) or loaded.uses_accounts(segment)
    )


def refresh_workspace(
    session: Session,
    workspace_id: uuid.UUID,
    now: datetime,
    *,
    every: timedelta = REFRESH_EVERY,
    force: bool = False,
) -> list[BuildReport]:
    """Rebuild the workspace's time-dependent segments whose last build is older than ``every``,
    and its persona memberships when they were not built for the current playbook."""
    loaded = load_segments(session, workspace_id)
    if loaded.context.personas and not personas.is_current(session, workspace_id):
        personas.rebuild_personas(session, loaded, now)
    reports = []
    for segment in loaded.segments:
        if not needs_refresh(loaded, segment):
            continue
        if force or segment.last_built_at is None or now - segment.last_built_at >= every:
            reports.append(rebuild(session, loaded, segment, now, REASON))
    return reports


def refresh_due(url: str | None = None, every: timedelta = REFRESH_EVERY) -> int:
    """Refresh every workspace's due segments, one transaction per workspace; returns how many
    segments were rebuilt."""
    cutoff = utcnow() - every
    with read_only(url) as session:
        workspaces = list(
            session.scalars(
                select(Segment.workspace_id)
                .where(
                    Segment.kind == DYNAMIC,
                    (Segment.last_built_at.is_(None)) | (Segment.last_built_at <= cutoff),
                )
                .distinct()
            )
        )
    done = 0
    for workspace_id in workspaces:
        with unit_of_work(url) as session:
            done += len(refresh_workspace(session, workspace_id, utcnow(), every=every))
    return done
