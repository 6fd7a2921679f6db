"""Journeys: the current playbook's journeys with who is where, and per journey its report (each
step, each send's fate, an A/B test's variants and winner) beside a dry-run on real history.

Journeys are defined in the playbook (the playbook page edits it); here a marketer sees them work
and tries one on the past before trusting it with the future. Every text is an English message
id translated by the console catalogs; times are in the workspace's zone.
"""

from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import run, ui
from sqlalchemy.orm import Session

from leadpond.channels.reads import template_names
from leadpond.console.i18n import Translate
from leadpond.console.pages.channels_words import (
    CHANNEL_NAMES,
    EVENT_NAMES,
    local_when,
    word,
)
from leadpond.console.pages.frame import (
    DENSE_TABLE,
    Visit,
    header,
    linked_table,
    notify_error,
    visit,
)
from leadpond.console.pages.words import event_words
from leadpond.db.engine import read_only, rolled_back
from leadpond.journeys import reads
from leadpond.journeys.definitions import Journey
from leadpond.journeys.dryrun import dry_run
from leadpond.journeys.report import journey_report
from leadpond.journeys.service import journeys_of
from leadpond.kit.clock import parse_timestamp
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.kit.names import name_in
from leadpond.rules import vocabulary
from leadpond.rules.vocabulary import Labels
from leadpond.segments.service import list_segments
from leadpond.users.permissions import PLAYBOOKS_WRITE

TRIGGER_NAMES = {
    "event": "An event",
    "form": "A form submitted",
    "tag": "A tag added",
    "tag_removed": "A tag removed",
    "stage": "A stage entered",
    "segment": "A segment entered",
    "segment_exited": "A segment left",
    "score": "A score threshold crossed",
    "schedule": "A schedule",
    "api": "The API only",
}

STEP_KINDS = {
    "send": "Send",
    "send_winner": "Send the A/B winner",
    "send_content": "Recommend and send content",
    "wait": "Wait",
    "wait_until": "Wait until a time of day",
    "wait_for": "Wait for an event",
    "wait_condition": "Wait until a condition holds",
    "branch": "Branch",
    "split": "A/B split",
    "tags": "Tags",
    "points": "Points",
    "stage": "Set the stage",
    "trait": "Set a trait",
    "webhook": "Webhook",
    "notify": "Notify a colleague",
    "assign_owner": "Assign an owner",
    "enroll": "Enroll in another journey",
    "exit": "Exit",
}

STATE_NAMES = {
    "active": "In the journey",
    "completed": "Completed",
    "exited": "Exited",
    "goal": "Reached the goal",
}

# A send's messages: their statuses and what people did, named as on a message's page.
MESSAGE_WORDS = EVENT_NAMES


def journeys_page(request: Request) -> RedirectResponse | None:
    """Every journey of the current playbook, with its enrollments by state."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Journeys"), session)
        listed = reads.list_journeys(session, v.actor.workspace_id)
        labels = vocabulary.labels(session, v.actor.workspace_id, v.actor.locale)
        segment_names = {
            s.key: s.name or s.key for s in list_segments(session, v.actor.workspace_id)
        }
    ui.label(_("Journeys are written in the playbook; this page shows them at work.")).classes(
        "text-sm text-grey-7"
    )
    if v.may(PLAYBOOKS_WRITE):
        ui.button(
            _("New journey"), icon="add", on_click=lambda: ui.navigate.to("/journeys/new")
        ).classes("lp-new-journey")
    columns = (
        ("name", _("Journey")),
        ("trigger", _("Entered by")),
        ("steps", _("Steps")),
        ("active", _("In the journey")),
        ("ended", _("Left")),
    )
    rows = [
        {
            "key": j["key"],
            "name": j["name"],
            "href": v.href(f"/journeys/{j['key']}"),
            "trigger": _trigger_words(_, j, labels, segment_names),
            "steps": len(j["steps"]),
            "active": j["enrollments"].get("active", 0),
            "ended": sum(n for state, n in j["enrollments"].items() if state != "active"),
        }
        for j in listed["items"]
    ]
    table = linked_table(columns, rows, link="name", row_key="key")
    table.classes("w-full").mark("journeys-table").classes("lp-journeys-table")
    return None


def journey_page(request: Request, key: str) -> RedirectResponse | None:
    """One journey's report and its dry-run."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        try:
            report = journey_report(session, v.actor.workspace_id, key)
        except LeadpondError:
            header(v, _("Journeys"), session)
            ui.label(_("There is no such journey in the current playbook.")).mark(
                "no-journey"
            ).classes("lp-no-journey").classes("lp-no-journey")
            return None
        header(v, f"{_('Journey')}: {report['name']}", session)
    if v.may(PLAYBOOKS_WRITE):
        ui.button(
            _("Edit in the builder"),
            icon="edit",
            on_click=lambda: ui.navigate.to(f"/journeys/{key}/edit"),
        ).classes("lp-edit-journey")
    _summary(v, report)
    _steps_table(v, report)
    if report["variants"]:
        _variants_table(v, report)
    DryRunPanel(v, key)
    return None


def _trigger_words(
    _: Translate, journey: dict[str, Any], labels: Labels, segment_names: dict[str, str]
) -> str:
    """How people enter, in words: events, stages, tags and segments by their names."""
    said = word(_, TRIGGER_NAMES, journey["trigger"])
    value = journey["trigger_value"] or ""
    if journey["trigger_events"]:
        detail = ", ".join(event_words(_, "track", e) for e in journey["trigger_events"])
    elif journey["trigger"] == "stage":
        detail = labels.stage(value)
    elif journey["trigger"] in ("tag", "tag_removed"):
        detail = labels.tag(value)
    elif journey["trigger"] in ("segment", "segment_exited", "schedule"):
        detail = segment_names.get(value, value)
    else:
        detail = value
    return f"{said}: {detail}" if detail else said


def _summary(v: Visit, report: dict[str, Any]) -> None:
    _ = v._
    with ui.row().classes("gap-6").mark("journey-summary").classes("lp-journey-summary"):
        ui.label(_("Entered: {n}").format(n=report["entered"]))
        for state, n in sorted(report["states"].items()):
            ui.label(f"{word(_, STATE_NAMES, state)}: {n}")


def _messages_words(_: Translate, messages: dict[str, int] | None) -> str:
    if messages is None:
        return ""
    return " · ".join(f"{word(_, MESSAGE_WORDS, k)} {n}" for k, n in messages.items()) or "–"


def _steps_table(v: Visit, report: dict[str, Any]) -> None:
    _ = v._
    ui.label(_("Steps")).classes("text-lg font-semibold mt-4")
    columns = [
        {"name": k, "label": label, "field": k, "align": "left"}
        for k, label in (
            ("id", _("Step")),
            ("kind", _("Kind")),
            ("ran", _("Ran")),
            ("waiting", _("Waiting now")),
            ("messages", _("Messages")),
        )
    ]
    rows = [
        {
            "id": step_name(step, v.actor.locale),
            "kind": word(_, STEP_KINDS, step["kind"]),
            "ran": step["ran"],
            "waiting": step["waiting"],
            "messages": _messages_words(_, step.get("messages")),
        }
        for step in report["steps"]
    ]
    ui.table(columns=columns, rows=rows, row_key="id").props(DENSE_TABLE).classes("w-full").mark(
        "journey-steps"
    ).classes("lp-journey-steps")


def step_name(step: dict[str, Any], locale: str | None) -> str:
    """A step as the marketer named it (``name:`` in the playbook, in their language), else
    its id."""
    return name_in(step.get("names"), locale) or str(step["id"])


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def _variants_table(v: Visit, report: dict[str, Any]) -> None:
    _ = v._
    ui.label(_("A/B test")).classes("text-lg font-semibold mt-4")
    ui.label(
        _(
            "Opens and clicks are people's: link scanners' are left out. p: how likely a "
            "difference this large is if the variants were the same (below 0.05: rarely)."
        )
    ).classes("text-sm text-grey-7")
    columns = [
        {"name": k, "label": label, "field": k, "align": "left"}
        for k, label in (
            ("variant", _("Variant")),
            ("people", _("People")),
            ("messages", _("Messages")),
            ("open_rate", _("Open rate")),
            ("click_rate", _("Click rate")),
            ("goal_rate", _("Goal rate")),
            ("click_p", _("p (clicks)")),
            ("goal_p", _("p (goal)")),
        )
    ]
    rows = [
        {
            "variant": row["variant"],
            "people": row["people"],
            "messages": row["messages"],
            "open_rate": _percent(row["open_rate"]),
            "click_rate": _percent(row["click_rate"]),
            "goal_rate": _percent(row["goal_rate"]),
            "click_p": _p(row.get("click_p_value")),
            "goal_p": _p(row.get("goal_p_value")),
        }
        for row in report["variants"]
    ]
    ui.table(columns=columns, rows=rows, row_key="variant").props(DENSE_TABLE).classes(
        "w-full"
    ).mark("journey-variants").classes("lp-journey-variants")
    for winner in report["winners"]:
        chosen = _("Winner of {split}: {variant}, chosen {when} by {who}").format(
            split=winner["split"],
            variant=winner["variant"],
            when=local_when(winner["decided_at"], v.zone),
            who=_("the rates") if winner["decided_by"] == "auto" else winner["decided_by"],
        )
        ui.label(chosen).mark("journey-winner").classes("lp-journey-winner")


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A date and time of the workspace's zone as the naive UTC the database holds."""
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


class DryRunPanel:
    """Dates in, the journey replayed over that history (nothing kept, nothing sent), the
    answer shown below."""

    def __init__(self, v: Visit, key: str) -> None:
        self.v, self.key = v, key
        _ = v._
        today = datetime.now(v.zone).date()
        ui.label(_("Dry-run on real history")).classes("text-lg font-semibold mt-4")
        ui.label(
            _(
                "What this journey would have done over these days: who would have entered, "
                "which way they would have gone and what they would have been sent. Nothing is "
                "kept and nothing is sent."
            )
        ).classes("text-sm text-grey-7")
        with ui.row().classes("items-end gap-4"):
            self.since = (
                ui.input(_("From (date)"), value=(today - timedelta(days=30)).isoformat())
                .mark("dry-run-since")
                .classes("lp-dry-run-since")
            )
            self.until = (
                ui.input(_("To (date, included)"), value=today.isoformat())
                .mark("dry-run-until")
                .classes("lp-dry-run-until")
            )
            ui.button(_("Dry-run"), icon="science", on_click=self.start).mark("dry-run").classes(
                "lp-dry-run"
            )
        self.answer = (
            ui.column().classes("w-full").mark("dry-run-answer").classes("lp-dry-run-answer")
        )

    async def start(self) -> None:
        _ = self.v._
        try:
            since = _utc(date.fromisoformat(str(self.since.value).strip()), time(0, 0), self.v.zone)
            until = _utc(date.fromisoformat(str(self.until.value).strip()), time(0, 0), self.v.zone)
        except ValueError:
            notify_error(InvalidInput("Write the dates as 2026-12-01.", field="since"))
            return
        until += timedelta(days=1)
        try:
            found = await run.io_bound(self.replay, since, until)
        except LeadpondError as exc:
            notify_error(exc)
            return
        if found is not None:  # None: the page was closed meanwhile
            self.show(found)

    def replay(self, since: datetime, until: datetime) -> dict[str, Any] | None:
        """The current playbook's journey replayed (the builder replays its draft)."""
        return _dry_run(self.v, self.key, since, until)

    def show(self, found: dict[str, Any]) -> None:
        _ = self.v._
        with read_only() as session:
            keys = {key.partition(" ")[2] for key in found["messages"]}
            stored = template_names(session, self.v.actor.workspace_id, keys)
        names = {key: name_in(name, self.v.actor.locale) or key for key, name in stored.items()}
        self.answer.clear()
        with self.answer:
            ui.label(
                _(
                    "The trigger fired {triggered} times; {enrolled} would have entered "
                    "({refused} kept out by the re-entry rule, {not_eligible} by the entry "
                    "condition)."
                ).format(
                    triggered=found["triggered"],
                    enrolled=found["enrolled"],
                    refused=found["reentry_refused"],
                    not_eligible=found["not_eligible"],
                )
            ).mark("dry-run-summary").classes("lp-dry-run-summary")
            for label, counts in (
                (_("Steps run"), found["steps"]),
                (_("Messages"), _channel_messages(_, found["messages"], names)),
                (_("Where they would be"), _states(_, found["states"])),
            ):
                shown = " · ".join(f"{k}: {n}" for k, n in counts.items()) or "–"
                ui.label(f"{label}: {shown}")


def _channel_messages(
    _: Translate, messages: dict[str, int], names: dict[str, str]
) -> dict[str, int]:
    """ "email welcome" → "Emails 欢迎邮件" (the template's name in ``names``, else its key)."""
    named = {}
    for key, n in messages.items():
        channel, _sep, template = key.partition(" ")
        named[f"{word(_, CHANNEL_NAMES, channel)} {names.get(template, template)}"] = n
    return named


def _states(_: Translate, states: dict[str, int]) -> dict[str, int]:
    return {word(_, STATE_NAMES, state): n for state, n in states.items()}


def _dry_run(v: Visit, key: str, since: datetime, until: datetime) -> dict[str, Any]:
    with rolled_back() as session:
        return asdict(dry_run(session, v.actor.workspace_id, key, since, until))


def person_journeys_section(v: Visit, person_id: int, session: Session) -> None:
    """The person 360's tab: every journey they were in, newest first — why they entered, each
    step with its time and way, each message's fate (the message's page is a click away)."""
    _ = v._
    found = reads.explain_person(session, v.actor.workspace_id, person_id)
    current = journeys_of(session, v.actor.workspace_id)
    names = {k: j.name for k, j in current[1].items()} if current else {}
    if not found:
        ui.label(_("Not in any journey.")).classes("lp-no-journeys")
        return
    for enrollment in found:
        with ui.card().classes("w-full lp-person-journey"):
            title = _("{journey} — {state} (entered {when})").format(
                journey=names.get(enrollment["journey"], enrollment["journey"]),
                state=word(_, STATE_NAMES, enrollment["state"]),
                when=local_when(enrollment["entered_at"], v.zone),
            )
            ui.label(title).classes("font-semibold")
            ui.label(_("Why: {reason}").format(reason=enrollment["reason"])).classes(
                "text-sm text-grey-7"
            )
            journey = current[1].get(enrollment["journey"]) if current else None
            rows = [_step_row(v, step, journey) for step in enrollment["steps"]]
            columns = [
                {"name": k, "label": label, "field": k, "align": "left"}
                for k, label in (
                    ("at", _("Time")),
                    ("step", _("Step")),
                    ("what", _("What happened")),
                    ("message", _("Message")),
                )
            ]
            table = ui.table(columns=columns, rows=rows, row_key="n").props(DENSE_TABLE)
            table.add_slot("body-cell-message", MESSAGE_CELL)
            table.classes("w-full")


MESSAGE_CELL = (
    '<q-td :props="props"><a v-if="props.row.href" :href="props.row.href" '
    'class="text-primary">{{ props.value }}</a><span v-else>{{ props.value }}</span></q-td>'
)


def _step_row(v: Visit, step: dict[str, Any], journey: Journey | None) -> dict[str, Any]:
    _ = v._
    defined = journey.steps.get(step["step"]) if journey is not None else None
    detail = step.get("detail") or {}
    said = word(_, LOG_KINDS, step["kind"])
    way = detail.get("variant") or detail.get("goto") or detail.get("winner")
    if way:
        said = f"{said} → {way}"
    if step["kind"] == "wait" and detail.get("until"):
        said = _("Waits until {when}").format(
            when=local_when(parse_timestamp(detail["until"]), v.zone)
        )
    if step["kind"] == "send_content" and detail.get("items"):
        said = f"{said}: " + "; ".join(str(item.get("title")) for item in detail["items"])
    if detail.get("skipped"):
        said = word(_, NOT_SENT, str(detail["skipped"]))
    elif detail.get("error"):
        said = f"{said} ({detail['error']})"
    message = step.get("message")
    return {
        "n": f"{step['at']}-{step['step']}-{step['kind']}",
        "at": local_when(step["at"], v.zone),
        "step": defined.label(v.actor.locale or "") if defined is not None else step["step"],
        "what": said,
        "message": "" if not message else word(_, MESSAGE_WORDS, message["status"]),
        "href": v.href(f"/messages/{step['message_id']}") if step.get("message_id") else "",
    }


# Why a send step queued nothing.
NOT_SENT = {
    "no_owner": "Not sent: the person has no owner (sales rep) to note",
    "no_template": "Not sent: the template does not exist",
    "nothing_left": "Not sent: no content left to recommend",
    "not_queued": "Not sent: the message could not be queued",
    "no_users": "Not sent: no workspace user to note",
    "marketing_template": "Not sent: a note to a colleague needs a transactional template",
    "no_account_owner": "No owner: the person's account has none",
    "no_journey": "Not enrolled: that journey is not in the current playbook",
}

# What a step log entry says happened.
LOG_KINDS = {
    "entered": "Entered",
    "send": "Sent to the outbox",
    "send_content": "Sent recommended content",
    "wait": "Waits",
    "branch": "Branched",
    "split": "A/B split",
    "tags": "Tags",
    "points": "Points",
    "stage": "Set the stage",
    "trait": "Set a trait",
    "wait_for": "Waited for an event",
    "wait_until": "Waited until the condition",
    "notify": "Noted a colleague",
    "assign_owner": "Assigned an owner",
    "owner_kept": "Kept their owner",
    "enroll": "Enrolled in another journey",
    "migrated": "Moved to the current version",
    "goal": "Reached the goal",
    "end": "Left",
}
