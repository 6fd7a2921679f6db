"""What time alone changes, swept by the worker between batches: idle stage rules, then the
memberships of the people they moved."""

import uuid
from datetime import datetime

from sqlalchemy import select

from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.rules.models import PlaybookVersion
from leadpond.rules.sweep import SweepReport, has_quiet_people, sweep_idle
from leadpond.segments.incremental import people_updated


def sweep_idle_stages(
    url: str | None = None, now: datetime | None = None
) -> dict[uuid.UUID, SweepReport]:
    """Sweep every workspace with a playbook, one transaction each; returns what moved."""
    now = now or utcnow()
    # One read-only look at every workspace; a transaction (and a write) only where someone
    # may have gone quiet since the last sweep.
    with read_only(url) as session:
        workspaces = [
            workspace_id
            for workspace_id in session.scalars(select(PlaybookVersion.workspace_id).distinct())
            if has_quiet_people(session, workspace_id, now)
        ]
    reports: dict[uuid.UUID, SweepReport] = {}
    for workspace_id in workspaces:
        # Like a batch, the sweep writes only what it derives from the log.
        with unit_of_work(url, derived=True) as session:
            report = sweep_idle(session, workspace_id, now)
            people_updated(session, workspace_id, report.moved, now, "stage changed (idle)")
        reports[workspace_id] = report
    return reports
