"""Segments: the list, and the builder (visual atoms + YAML), live preview, members, export."""

import time
import uuid
from typing import Any, cast

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import background_tasks, run, ui

from leadpond.conditions.ast import Condition
from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.console.pages.segment_atoms import AtomRows
from leadpond.console.segment_builder import ACCOUNT, MEMBER_COLUMNS, PERSON, from_yaml, to_yaml
from leadpond.console.stages import score_models, stages
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError
from leadpond.segments import service as segments
from leadpond.segments.build import preview
from leadpond.segments.definitions import load_segments, parse_segment_condition
from leadpond.segments.reads import member_reads
from leadpond.segments.schemas import (
    AccountMatch,
    Level,
    MemberRead,
    SegmentCreate,
    SegmentUpdate,
)
from leadpond.users.service import Role

MEMBER_PAGE = 50
DENSE = "flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'"


def segments_page(request: Request) -> RedirectResponse | None:
    """Every segment of the workspace with its size."""
    v = visit(request)
    if isinstance(v, RedirectResponse):
        return v
    _ = v._
    header(v, _("Segments"))
    with read_only() as session:
        found = segments.list_segments(session, v.actor.workspace_id)
    if v.can(Role.MARKETER):
        ui.button(
            _("New segment"), icon="add", on_click=lambda: ui.navigate.to("/segments/new")
        ).mark("new-segment")
    for segment in found:
        with ui.row().classes("items-center gap-4"):
            ui.link(segment.name or segment.key, v.href(f"/segments/{segment.key}"))
            subject = _("Accounts") if segment.level == ACCOUNT else _("People")
            ui.label(
                f"{segment.key} · {subject} · {_(segment.kind)} · {segment.member_count:,}"
            ).mark(f"segment-{segment.key}")
    return None


def segment_page(request: Request, key: str) -> RedirectResponse | None:
    """Build or change a segment of people or of accounts; see its preview while editing, its
    members and exports."""
    v = visit(request)
    if isinstance(v, RedirectResponse):
        return v
    _ = v._
    existing: dict[str, Any] = {}
    if key != "new":
        try:
            with read_only() as session:
                found = segments.get_segment(session, v.actor.workspace_id, key)
                existing = {
                    "key": found.key,
                    "name": found.name or "",
                    "kind": found.kind,
                    "level": found.level,
                    "account_match": found.account_match or "any",
                    "source": found.condition_source or "",
                }
        except LeadpondError as exc:
            header(v, _("Segment"))
            ui.label(exc.message).classes("text-negative")
            return None
    header(v, existing.get("name") or existing.get("key") or _("New segment"))
    with read_only() as session:
        stage_keys = [k for k, _name in stages(session, v.actor.workspace_id)]
        model_keys = [k for k, _name in score_models(session, v.actor.workspace_id)]
    state: dict[str, str] = {
        "level": existing.get("level", PERSON),
        "match": "all",
        "account_match": existing.get("account_match", "any"),
    }
    with ui.row().classes("gap-4 items-end"):
        seg_key = (
            ui.input(_("Key"), value=existing.get("key", ""))
            .classes("lp-segment-key")
            .mark("segment-key")
        )
        seg_key.set_enabled(not existing)
        name = (
            ui.input(_("Display name"), value=existing.get("name", ""))
            .classes("lp-segment-name")
            .mark("segment-name")
        )
        subject = (
            ui.toggle(
                {PERSON: _("People"), ACCOUNT: _("Accounts")},
                value=state["level"],
                on_change=lambda e: set_level(str(e.value)),
            )
            .classes("lp-subject")
            .mark("subject")
        )
        subject.set_enabled(not existing)
        account_match = (
            ui.select(
                {
                    "any": _("someone at the account matches"),
                    "all": _("everyone at the account matches"),
                    "none": _("nobody at the account matches"),
                },
                value=state["account_match"],
                label=_("Accounts where"),
                on_change=lambda e: set_account_match(str(e.value)),
            )
            .classes("min-w-64 lp-account-match")
            .mark("account-match")
        )
    with ui.card().classes("w-full"):
        ui.label(_("Conditions")).classes("text-lg")
        with ui.row().classes("items-center"):
            match = ui.select(
                {"all": _("all of"), "any": _("any of")},
                value="all",
                on_change=lambda e: set_match(str(e.value)),
            ).mark("match")
        atoms = AtomRows(v, lambda: write_yaml(), stage_keys, model_keys)
        yaml_only = ui.label().classes("text-gray-600").mark("yaml-only")
    source = (
        ui.textarea(_("Condition (YAML)"), value=existing.get("source", ""))
        .props("outlined autogrow stack-label input-style='font-family: monospace'")
        .classes("w-full lp-yaml")
        .mark("condition-yaml")
    )
    count = ui.label().classes("text-lg lp-preview-count").mark("preview-count")
    sample = ui.table(columns=[], rows=[]).props(DENSE).classes("w-full").mark("sample")

    def set_match(value: str) -> None:
        if value != state["match"]:  # not when reading the YAML set it
            state["match"] = value
            write_yaml()

    def set_account_match(value: str) -> None:
        state["account_match"] = value
        run_preview()

    def set_level(level: str) -> None:
        state["level"] = level
        level_shown()
        read_yaml(redraw=True)
        run_preview()

    def level_shown() -> None:
        account_match.set_visibility(state["level"] == ACCOUNT)
        sample.columns = _columns(v, state["level"])
        sample.rows = []
        sample.update()

    def write_yaml() -> None:
        source.value = to_yaml(atoms.atoms, state["match"])
        run_preview()

    def read_yaml(redraw: bool = False) -> None:
        """Show the YAML as atoms when it is made of them only; else leave it to the editor."""
        found = from_yaml(source.value or "", state["level"])
        if found is None:
            atoms.show(state["level"], [], can_add=False)
            yaml_only.text = _(
                "This condition has parts the builder cannot show: edit it as YAML "
                "(clear it to build with atoms)."
            )
            return
        yaml_only.text = ""
        state["match"], listed = found
        match.value = state["match"]
        same = to_yaml(listed, state["match"]) == to_yaml(atoms.atoms, state["match"])
        if redraw or not atoms.can_add or not same:
            atoms.show(state["level"], listed)

    def typed() -> None:
        read_yaml()
        run_preview()

    shown = {"latest": 0}

    def run_preview() -> None:
        """Preview off the event loop (other visitors and /healthz keep answering meanwhile);
        when edits come faster than answers, only the latest answer is shown."""
        shown["latest"] += 1
        background_tasks.create(show_preview(shown["latest"]), name="segment-preview")

    async def show_preview(serial: int) -> None:
        text = source.value or ""
        if not text.strip():
            count.text, sample.rows = "", []
            return
        level, match = state["level"], state["account_match"]
        try:
            started = time.perf_counter()
            condition, _text = parse_segment_condition(text)
            answer = await run.io_bound(
                _preview_rows,
                v.actor.workspace_id,
                condition,
                level,
                match if level == ACCOUNT else None,
            )
        except LeadpondError as exc:
            count.text = exc.message
            return
        except ValueError as exc:
            count.text = str(exc)
            return
        if answer is None or serial != shown["latest"]:  # None: the app is shutting down
            return
        total, reads = answer
        seconds = f"{time.perf_counter() - started:.2f}"
        message = (
            _("{count} accounts match ({seconds} s)")
            if level == ACCOUNT
            else _("{count} people match ({seconds} s)")
        )
        count.text = message.format(count=f"{total:,}", seconds=seconds)
        sample.rows = _rows(reads, level)
        sample.update()

    def save() -> None:
        level = state["level"]
        chosen = cast(AccountMatch, state["account_match"]) if level == ACCOUNT else None
        try:
            actor = v.still_valid()
            with unit_of_work() as session:
                if existing:
                    segment = segments.get_segment(session, actor.workspace_id, existing["key"])
                    segments.update_segment(
                        session,
                        actor.workspace_id,
                        segment,
                        SegmentUpdate(
                            name=name.value or None, condition=source.value, account_match=chosen
                        ),
                    )
                    saved_key = segment.key
                else:
                    created = segments.create_segment(
                        session,
                        actor.workspace_id,
                        SegmentCreate(
                            key=seg_key.value,
                            name=name.value or None,
                            level=cast(Level, level),
                            account_match=chosen,
                            condition=source.value,
                        ),
                    )
                    saved_key = created.key
        except (LeadpondError, ValueError) as exc:
            if isinstance(exc, LeadpondError):
                notify_error(exc)
            else:
                ui.notify(str(exc), type="negative")
            return
        ui.navigate.to(f"/segments/{saved_key}")

    # What the browser sends while typing (``ui.textarea`` emits ``update:value``), at most once
    # a second; the builder's own writes preview directly.
    source.on("update:value", typed, throttle=1.0)
    with ui.row():
        ui.button(_("Preview"), icon="visibility", on_click=run_preview).classes("lp-preview")
        if v.can(Role.MARKETER):
            ui.button(_("Save"), icon="save", on_click=save).classes("lp-save").mark("save")
    if existing:
        _members(v, existing["key"])
    level_shown()
    read_yaml(redraw=True)
    run_preview()
    return None


def _preview_rows(
    workspace_id: uuid.UUID, condition: Condition, level: str, match: str | None
) -> tuple[int, list[MemberRead]]:
    """The preview's count and sample rows (run in a worker thread)."""
    with read_only() as session:
        loaded = load_segments(session, workspace_id)
        total, ids = preview(session, loaded, condition, level, match, utcnow())
        return total, member_reads(session, workspace_id, level, [(i, None) for i in ids])


def _columns(v: Visit, level: str) -> list[dict[str, Any]]:
    _ = v._
    return [
        {"name": field, "label": _(label), "field": field, "align": "left"}
        for field, label in MEMBER_COLUMNS[level]
    ]


def _rows(reads: list[Any], level: str) -> list[dict[str, Any]]:
    return [{f: getattr(r, f, "") or "" for f, _label in MEMBER_COLUMNS[level]} for r in reads]


def _members(v: Visit, key: str) -> None:
    _ = v._
    with read_only() as session:
        segment = segments.get_segment(session, v.actor.workspace_id, key)
        total, rows = segments.members(
            session, v.actor.workspace_id, segment, limit=MEMBER_PAGE, offset=0
        )
        reads = member_reads(session, v.actor.workspace_id, segment.level, rows)
    with ui.row().classes("items-center gap-4"):
        label = _("{total} accounts") if segment.level == ACCOUNT else _("{total} members")
        ui.label(label.format(total=f"{total:,}")).classes("text-lg lp-members").mark("members")
        for fmt in ("csv", "xlsx"):
            ui.link(
                _("Export {format}").format(format=fmt.upper()),
                f"/api/v1/segments/{key}/export?format={fmt}",
            ).classes(f"lp-export-{fmt}")
    ui.table(columns=_columns(v, segment.level), rows=_rows(reads, segment.level)).props(
        DENSE
    ).classes("w-full").mark("members-table")
