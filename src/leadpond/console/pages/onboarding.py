"""Getting started, on the dashboard of a workspace nobody is in yet: make a write key, paste the
tracking code (or import a file), read the playbook, invite the team — each step a link to the
page that does it, ticked once it is done, and the steps a member's role cannot take said so."""

from dataclasses import dataclass

from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import Visit
from leadpond.pipeline import worker
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in
from leadpond.users.permissions import (
    IMPORTS_WRITE,
    MEMBERS_WRITE,
    PLAYBOOKS_WRITE,
    Permission,
)
from leadpond.users.service import Role
from leadpond.workspaces.service import KeyKind, list_keys

# Who to ask for a step the member's role cannot take.
ASK = {Role.ADMIN: "(an admin does this)", Role.MARKETER: "(a marketer or an admin does this)"}


@dataclass(frozen=True)
class Step:
    words: str
    path: str
    needs: Permission
    # What ticks it: "key" (a live write key), "events" (events have arrived), or nothing.
    done_when: str = ""


STEPS = (
    Step(
        "A write key for your site (the settings page makes one)", "/settings", MEMBERS_WRITE, "key"
    ),
    Step(
        "Paste the tracking code into your website or back end",
        "/settings",
        MEMBERS_WRITE,
        "events",
    ),
    Step("Or import your contacts from a CSV or XLSX file", "/import", IMPORTS_WRITE, "events"),
    Step("Read the playbook: stages, tags and scores", "/playbook", PLAYBOOKS_WRITE),
    Step("Invite your team and give each a role", "/settings", MEMBERS_WRITE),
)


def nobody_yet(session: Session, visit: Visit) -> bool:
    """True while the workspace has no person (one row of the live-people index is read)."""
    first = select(Person.id).where(live_in(visit.actor.workspace_id)).limit(1)
    return session.scalar(first) is None


def done(session: Session, visit: Visit) -> set[str]:
    """Which of the ticks hold: a live write key, events waiting for the pipeline."""
    ws = visit.actor.workspace_id
    ticks = set()
    if any(k.kind == KeyKind.WRITE and k.revoked_at is None for k in list_keys(session, ws)):
        ticks.add("key")
    if worker.status(ws).pending_events > 0:
        ticks.add("events")
    return ticks


def onboarding_card(visit: Visit, session: Session) -> None:
    """The getting-started card, drawn only while the workspace has nobody in it."""
    if not nobody_yet(session, visit):
        return
    _ = visit._
    with ui.card().classes("w-full max-w-3xl lp-onboarding").mark("onboarding"):
        ui.label(_("Getting started")).classes("text-lg font-semibold")
        ui.label(
            _(
                "Nobody is in this workspace yet. Send events from your site or import a file, "
                "and people appear here once the pipeline has read them."
            )
        ).classes("text-sm text-gray-600")
        ticks = done(session, visit)
        for number, step in enumerate(STEPS, start=1):
            ticked = step.done_when in ticks
            with ui.row().classes("items-center gap-2 no-wrap"):
                ui.icon("check_circle" if ticked else "radio_button_unchecked").classes(
                    "text-positive" if ticked else "text-gray-500"
                ).mark(f"onboarding-done-{number}" if ticked else f"onboarding-todo-{number}")
                ui.link(f"{number}. {_(step.words)}", step.path).classes(
                    f"lp-onboarding-step-{number}"
                )
                if not visit.may(step.needs):
                    ui.label(_(ASK[step.needs.role])).classes("text-sm text-gray-500").mark(
                        f"onboarding-ask-{number}"
                    )
