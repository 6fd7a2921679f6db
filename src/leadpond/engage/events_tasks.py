"""Events' jobs: the confirmation once a registration is processed, the reminder before the
start, and the no-show marking at the end (listed in ``wiring.JOB_KINDS``)."""

from typing import Any

from leadpond.db.engine import unit_of_work
from leadpond.engage import events as ev
from leadpond.engage import events_attendance, events_messages
from leadpond.jobs.registry import JobContext
from leadpond.kit.clock import utcnow


def confirm_task(ctx: JobContext) -> dict[str, Any]:
    """Queue the confirmation; raises (and is retried with backoff) until the pipeline has
    processed the registration."""
    with unit_of_work(ctx.url) as session:
        queued = events_messages.confirm(
            session, ctx.workspace_id, int(ctx.payload["registration_id"])
        )
    return {"messages": queued}


def remind_task(ctx: JobContext) -> dict[str, Any]:
    """Queue the reminders, unless the event moved (a new job was queued for the new time)."""
    with unit_of_work(ctx.url) as session:
        event = ev.get_event(session, ctx.workspace_id, int(ctx.payload["event_id"]))
        if not ev.still_planned(event, ctx.payload):
            return {"skipped": "the event moved"}
        queued, unknown = events_messages.remind(session, event)
    return {"messages": queued, "not_processed": unknown}


def close_task(ctx: JobContext) -> dict[str, Any]:
    """Mark the no-shows once the event has ended (unless it moved)."""
    with unit_of_work(ctx.url) as session:
        event = ev.get_event(session, ctx.workspace_id, int(ctx.payload["event_id"]))
        if not ev.still_planned(event, ctx.payload):
            return {"skipped": "the event moved"}
        marked = events_attendance.mark_no_shows(session, event, utcnow())
    return {"no_shows": marked}
