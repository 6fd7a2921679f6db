"""Person 360: identities and their sources, accounts, traits, tags, scores, stage, personas,
the timeline, merges and the messages sent to them."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.accounts.overview import PersonAccountLink, accounts_of
from leadpond.console.pages.channels_messages import person_messages_section
from leadpond.console.pages.frame import Visit, header, visit, when
from leadpond.console.pages.journeys import person_journeys_section
from leadpond.console.pages.person_activity import merges_section, timeline_section
from leadpond.console.pages.person_edit import edit_section
from leadpond.console.pages.words import (
    ACCOUNT_ROLES,
    ID_TYPES,
    SOURCE_NAMES,
    TAG_SOURCES,
    TRAIT_NAMES,
    plain,
    reason_words,
    said,
)
from leadpond.db.engine import read_only
from leadpond.kit.clock import parse_timestamp
from leadpond.kit.errors import LeadpondError
from leadpond.profiles import service as profiles
from leadpond.profiles.identifiers import IdentifierSource, identifier_sources
from leadpond.profiles.models import Person
from leadpond.profiles.touches import load_grouping
from leadpond.rules import reads, vocabulary
from leadpond.rules.vocabulary import Labels
from leadpond.segments.person_segments import segments_of
from leadpond.users.permissions import PEOPLE_WRITE, RULES_WRITE


@dataclass
class Person360:
    """Everything the page shows about one person, read in one transaction."""

    person: Person
    identifiers: list[IdentifierSource]
    accounts: list[PersonAccountLink]
    history: list[dict[str, Any]]
    tags: list[Any]
    scores: list[reads.ModelScore]
    stage: dict[str, Any]
    personas: list[dict[str, Any]]
    member_of: list[tuple[str, str, Any]]
    labels: Labels
    channel_labels: dict[str, str]


def _read(session: Session, v: Visit, person: Person) -> Person360:
    ws = v.actor.workspace_id
    return Person360(
        person=person,
        identifiers=identifier_sources(session, ws, person.id),
        accounts=accounts_of(session, ws, person.id),
        history=profiles.trait_history(session, ws, person.id, None),
        tags=reads.tags_of(session, ws, person.id),
        scores=reads.scores_of(session, ws, person.id),
        stage=reads.stage_of(session, ws, person.id, v.actor.locale),
        personas=reads.personas_of(session, ws, person.id, v.actor.locale),
        member_of=segments_of(session, ws, person.id),
        labels=vocabulary.labels(session, ws, v.actor.locale),
        channel_labels=load_grouping(session, ws).labels(v.actor.locale or "en"),
    )


def person_page(request: Request, person_id: int) -> RedirectResponse | None:
    """Everything known about one person."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        try:
            person = profiles.get_person(session, v.actor.workspace_id, person_id)
        except LeadpondError:
            header(v, v._("Person"), session)
            ui.label(v._("No such person in this workspace (#{id}).").format(id=person_id)).classes(
                "text-negative"
            ).mark("not-found")
            return None
        if person.id != person_id:
            return RedirectResponse(v.href(f"/people/{person.id}"), status_code=303)
        found = _read(session, v, person)
        header(v, str((person.traits or {}).get("name") or f"#{person.id}"), session)
        _summary(v, found)
        _tabs(v, found, session)
    return None


def _summary(v: Visit, found: Person360) -> None:
    _ = v._
    person, accounts, stage = found.person, found.accounts, found.stage
    with ui.row().classes("gap-6 items-center text-gray-700").mark("summary"):
        if accounts:
            ui.link(accounts[0].name, f"/accounts/{accounts[0].account_id}")
        ui.label(f"{_('Stage')}: {stage.get('name') or stage.get('stage') or '–'}")
        for score in found.scores:
            grade = f" ({score.grade})" if score.grade else ""
            ui.label(f"{found.labels.score(score.model)}: {score.points:g}{grade}")
        ui.label(f"{_('Events')}: {person.event_count}")
        ui.label(f"{_('First seen')}: {when(person.first_seen_at, v.zone)}")
        ui.label(f"{_('Last seen')}: {when(person.last_seen_at, v.zone)}")
    labels = found.channel_labels
    for title, touch, mark in (
        (_("First touch"), person.first_touch, "first-touch"),
        (_("Last touch"), person.last_touch, "last-touch"),
    ):
        with ui.row().classes("gap-4 items-center text-gray-700").mark(mark).classes(f"lp-{mark}"):
            ui.label(f"{title}:").classes("font-medium")
            if not touch:
                ui.label("–")
                continue
            group = labels.get(touch["group"], touch["group"])
            ui.badge(group).props("outline").mark(f"{mark}-group").classes(f"lp-{mark}-group")
            parts = [
                f"{_('Channel')}: {touch['channel']}",
                f"{_('Source')}: {touch['source']}",
                f"{_('Medium')}: {touch.get('medium') or '–'}",
                f"{_('Campaign')}: {touch.get('campaign') or '–'}",
            ]
            ui.label(" · ".join(parts))
            ui.label(when(parse_timestamp(touch["at"]), v.zone))


def _tabs(v: Visit, found: Person360, session: Session) -> None:
    _ = v._
    with ui.tabs().classes("w-full") as tabs:
        profile_tab = ui.tab(_("Profile")).mark("tab-profile")
        rules_tab = ui.tab(_("Tags, scores, stage")).mark("tab-rules")
        timeline_tab = ui.tab(_("Timeline")).mark("tab-timeline")
        merges_tab = ui.tab(_("Merges")).mark("tab-merges")
        messages_tab = ui.tab(_("Messages")).mark("tab-messages")
        journeys_tab = ui.tab(_("Journeys")).mark("tab-journeys")
        editing = v.may(PEOPLE_WRITE) or v.may(RULES_WRITE)
        edit_tab = ui.tab(_("Edit")).mark("tab-edit") if editing else None
    with ui.tab_panels(tabs, value=profile_tab).classes("w-full"):
        with ui.tab_panel(profile_tab):
            _profile(v, found.identifiers, found.accounts, found.person.traits or {}, found.history)
        with ui.tab_panel(rules_tab):
            _rules(v, found)
            _segments(v, found.member_of)
        with ui.tab_panel(timeline_tab):
            timeline_section(v, found.person.id, session)
        with ui.tab_panel(merges_tab):
            merges_section(v, found.person.id, session)
        with ui.tab_panel(messages_tab):
            person_messages_section(v, found.person.id, session)
        with ui.tab_panel(journeys_tab):
            person_journeys_section(v, found.person.id, session)
        if edit_tab is not None:
            with ui.tab_panel(edit_tab):
                edit_section(v, found.person.id, dict(found.person.traits or {}), found.labels)


def _table(
    columns: list[tuple[str, str]], rows: list[dict[str, Any]], mark: str, code: str = ""
) -> None:
    """A compact table; the ``code`` column holds identifiers, shown as they are."""
    ui.table(
        columns=[
            {"name": k, "label": label, "field": k, "align": "left"}
            | ({"classes": "lp-code"} if k == code else {})
            for k, label in columns
        ],
        rows=rows,
    ).props("flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'").classes(
        "w-full"
    ).mark(mark)


def _profile(
    v: Visit,
    identifiers: list[IdentifierSource],
    accounts: list[PersonAccountLink],
    traits: dict[str, Any],
    history: list[dict[str, Any]],
) -> None:
    _ = v._
    with ui.element("div").classes("grid grid-cols-1 md:grid-cols-2 w-full gap-4"):
        with ui.card():
            ui.label(_("Identities")).classes("text-lg")
            _table(
                [
                    ("type", _("Type")),
                    ("value", _("Value")),
                    ("source", _("Source")),
                    ("first_seen_at", _("First seen")),
                ],
                [
                    {
                        "type": said(_, ID_TYPES, i.type),
                        "value": i.value,
                        "source": said(_, SOURCE_NAMES, i.source),
                        "first_seen_at": when(i.first_seen_at, v.zone),
                    }
                    for i in identifiers
                ],
                "identities",
                code="value",
            )
        with ui.card():
            ui.label(_("Accounts")).classes("text-lg")
            for link in accounts:
                with ui.row().classes("gap-2 items-center"):
                    ui.link(link.name, f"/accounts/{link.account_id}").mark("account-link")
                    ui.label(
                        f"{said(_, ACCOUNT_ROLES, link.role or 'other')} · {link.title or '–'}"
                    )
                    if link.is_primary:
                        ui.badge(_("primary"))
            if not accounts:
                ui.label(_("No account yet."))
        with ui.card():
            ui.label(_("Traits")).classes("text-lg")
            _table(
                [("trait", _("Trait")), ("value", _("Value"))],
                [
                    {"trait": said(_, TRAIT_NAMES, k), "value": plain(val)}
                    for k, val in sorted(traits.items())
                ],
                "traits",
            )
        with ui.card():
            ui.label(_("Trait history")).classes("text-lg")
            _table(
                [
                    ("trait", _("Trait")),
                    ("value", _("Value")),
                    ("source", _("Source")),
                    ("at", _("When")),
                ],
                [
                    {
                        "trait": said(_, TRAIT_NAMES, h["trait"]),
                        "value": plain(h["value"]),
                        "source": said(_, SOURCE_NAMES, h["source"]),
                        "at": when(h["at"], v.zone),
                    }
                    for h in history[:200]
                ],
                "trait-history",
            )


def _rules(v: Visit, found: Person360) -> None:
    _ = v._
    tags, scores, stage, personas, labels = (
        found.tags,
        found.scores,
        found.stage,
        found.personas,
        found.labels,
    )
    with ui.element("div").classes("grid grid-cols-1 md:grid-cols-2 w-full gap-4"):
        with ui.card():
            ui.label(_("Tags")).classes("text-lg")
            _table(
                [("tag", _("Tag")), ("source", _("Source")), ("why", _("Why")), ("at", _("When"))],
                [
                    {
                        "tag": labels.tag(t.tag),
                        "source": said(_, TAG_SOURCES, t.source),
                        "why": t.rule_id or t.actor,
                        "at": when(t.added_at, v.zone),
                    }
                    for t in tags
                ],
                "tags",
            )
            ui.label(_("Personas")).classes("text-lg")
            with ui.row():
                for persona in personas:
                    ui.badge(str(persona["name"])).mark("persona")
                if not personas:
                    ui.label("–")
        with ui.card():
            ui.label(_("Stage")).classes("text-lg")
            ui.label(
                f"{stage.get('name') or stage.get('stage') or '–'} "
                f"({_('since')} {when(stage.get('entered_at'), v.zone)})"
            )
            _table(
                [
                    ("from", _("Previous stage")),
                    ("to", _("New stage")),
                    ("why", _("Why")),
                    ("at", _("When")),
                ],
                [
                    {
                        "from": labels.stage(h["from_stage"]),
                        "to": labels.stage(h["to_stage"]),
                        "why": reason_words(_, h["reason"], labels),
                        "at": when(h["at"], v.zone),
                    }
                    for h in stage.get("history", [])
                ],
                "stage-history",
            )
        for score in scores:
            with ui.card():
                ui.label(f"{labels.score(score.model)}: {score.points:g}").classes("text-lg")
                _table(
                    [
                        ("points", _("Points")),
                        ("worth_now", _("Worth now")),
                        ("reason", _("Why")),
                        ("at", _("When")),
                    ],
                    [
                        {
                            "points": e["points"],
                            "worth_now": e["worth_now"],
                            "reason": reason_words(_, e["reason"], labels),
                            "at": when(e["at"], v.zone),
                        }
                        for e in score.ledger
                    ],
                    f"ledger-{score.model}",
                )


def _segments(v: Visit, member_of: list[tuple[str, str, Any]]) -> None:
    _ = v._
    ui.label(_("Segments")).classes("text-lg")
    with ui.row():
        for key, name, since in member_of:
            ui.link(f"{name} ({_('since')} {when(since, v.zone)})", f"/segments/{key}").mark(
                "segment"
            )
        if not member_of:
            ui.label("–")
