"""Profile jobs: every person's first and last touch again, after the channel grouping changed."""

from typing import Any

from sqlalchemy import func, select

from leadpond.db.engine import read_only, unit_of_work
from leadpond.jobs.registry import JobContext
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.profiles.service import recompute_touches

RECOMPUTE_TOUCHES = "profiles.touches"
CHUNK = 500


def recompute_touches_task(ctx: JobContext) -> dict[str, Any]:
    """Walk the workspace's people in chunks, each chunk one short transaction; a person's rows
    are locked first, so an event the pipeline commits meanwhile is read, not overwritten."""
    with read_only(ctx.url) as session:
        total = int(session.scalar(select(func.count()).where(live_in(ctx.workspace_id))) or 0)
    done, after = 0, 0
    while True:
        with unit_of_work(ctx.url) as session:
            ids = list(
                session.scalars(
                    select(Person.id)
                    .where(live_in(ctx.workspace_id), Person.id > after)
                    .order_by(Person.id)
                    .limit(CHUNK)
                    .with_for_update()
                )
            )
            if not ids:
                break
            recompute_touches(session, ctx.workspace_id, ids)
        after, done = ids[-1], done + len(ids)
        ctx.progress(done, total, "recomputing first and last touches")
    return {"people": done}
