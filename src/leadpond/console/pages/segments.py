"""Segments: the list, and the builder (visual atoms + YAML), live preview, members, export."""

import time
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.console.segment_builder import ATOM_KINDS, Atom, to_yaml
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError
from leadpond.segments import service as segments
from leadpond.segments.build import preview
from leadpond.segments.definitions import load_segments, parse_segment_condition
from leadpond.segments.reads import member_reads
from leadpond.segments.schemas import SegmentCreate, SegmentUpdate
from leadpond.users.service import Role

MEMBER_PAGE = 50
DENSE = "flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'"
MEMBER_COLUMNS = ("id", "name", "email", "company", "title")


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
            ui.label(f"{segment.key} · {_(segment.kind)} · {segment.member_count:,}")
    return None


def segment_page(request: Request, key: str) -> RedirectResponse | None:
    """Build or change a segment; see its preview while editing, its members and exports."""
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
                    "source": found.condition_source or "",
                }
        except LeadpondError as exc:
            header(v, _("Segment"))
            ui.label(exc.message).classes("text-negative")
            return None
    header(v, existing.get("name") or existing.get("key") or _("New segment"))
    with ui.row().classes("gap-4 items-end"):
        seg_key = ui.input(_("Key"), value=existing.get("key", "")).classes("lp-segment-key")
        seg_key.set_enabled(not existing)
        name = ui.input(_("Name"), value=existing.get("name", "")).classes("lp-segment-name")
    atoms: list[Atom] = []
    match = {"value": "all"}

    def set_match(event: Any) -> None:
        match["value"] = str(event.value)
        write_yaml()

    with ui.card().classes("w-full"):
        ui.label(_("Conditions")).classes("text-lg")
        atom_rows = ui.column().classes("w-full")
        with ui.row().classes("items-center"):
            ui.select({"all": _("all of"), "any": _("any of")}, value="all", on_change=set_match)
            for kind in ATOM_KINDS:
                ui.button(_(kind), icon="add", on_click=lambda k=kind: add_atom(k)).props(
                    "outline dense"
                ).classes(f"lp-add-{kind}")
    source = (
        ui.textarea(_("Condition (YAML)"), value=existing.get("source", ""))
        .props("outlined autogrow input-style='font-family: monospace'")
        .classes("w-full lp-yaml")
    )
    count = ui.label().classes("text-lg lp-preview-count")
    sample = (
        ui.table(
            columns=[
                {"name": c, "label": _(c), "field": c, "align": "left"} for c in MEMBER_COLUMNS
            ],
            rows=[],
        )
        .props(DENSE)
        .classes("w-full")
    )

    def setter(atom: Atom, field: str, convert: Any = str) -> Any:
        def handler(event: Any) -> None:
            setattr(atom, field, convert(event.value or 0) if convert is float else event.value)
            write_yaml()

        return handler

    def add_atom(kind: str) -> None:
        atom = Atom(kind=kind, number=1.0 if kind == "event" else 0.0)
        atoms.append(atom)
        with atom_rows, ui.row().classes("items-center gap-2"):
            ui.label(_(kind)).classes("w-20")
            if kind == "score":
                ui.input(_("Model"), on_change=setter(atom, "model"))
                ui.number(_("At least"), value=0, on_change=setter(atom, "number", float))
            else:
                ui.input(_("Value"), on_change=setter(atom, "value")).classes("lp-atom-value")
            if kind == "event":
                ui.number(_("At least"), value=1, on_change=setter(atom, "number", float))
                ui.input(_("Within (e.g. 30d)"), on_change=setter(atom, "within"))

    def write_yaml() -> None:
        source.value = to_yaml(atoms, match["value"])
        run_preview()

    def run_preview() -> None:
        text = source.value or ""
        if not text.strip():
            count.text, sample.rows = "", []
            return
        try:
            started = time.perf_counter()
            condition, _text = parse_segment_condition(text)
            with read_only() as session:
                loaded = load_segments(session, v.actor.workspace_id)
                total, ids = preview(session, loaded, condition, "person", None, utcnow())
                reads = member_reads(
                    session, v.actor.workspace_id, "person", [(i, None) for i in ids]
                )
        except LeadpondError as exc:
            count.text = exc.message
            return
        except ValueError as exc:
            count.text = str(exc)
            return
        seconds = time.perf_counter() - started
        count.text = _("{count} people match ({seconds} s)").format(
            count=f"{total:,}", seconds=f"{seconds:.2f}"
        )
        sample.rows = [{c: getattr(r, c, "") or "" for c in MEMBER_COLUMNS} for r in reads]
        sample.update()

    def save() -> None:
        try:
            actor = v.still_valid()
            with unit_of_work() as session:
                if existing:
                    segment = segments.get_segment(session, actor.workspace_id, existing["key"])
                    segments.update_segment(
                        session,
                        actor.workspace_id,
                        segment,
                        SegmentUpdate(name=name.value or None, condition=source.value),
                    )
                    saved_key = segment.key
                else:
                    created = segments.create_segment(
                        session,
                        actor.workspace_id,
                        SegmentCreate(
                            key=seg_key.value, name=name.value or None, condition=source.value
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

    source.on("update:model-value", run_preview, throttle=1.0)
    with ui.row():
        ui.button(_("Preview"), icon="visibility", on_click=run_preview).classes("lp-preview")
        if v.can(Role.MARKETER):
            ui.button(_("Save"), icon="save", on_click=save).classes("lp-save")
    if existing:
        _members(v, existing["key"])
    run_preview()
    return None


def _members(v: Visit, key: str) -> None:
    _ = v._
    with read_only() as session:
        segment = segments.get_segment(session, v.actor.workspace_id, key)
        total, rows = segments.members(
            session, v.actor.workspace_id, segment, limit=MEMBER_PAGE, offset=0
        )
        reads = member_reads(session, v.actor.workspace_id, segment.level, rows)
    with ui.row().classes("items-center gap-4"):
        ui.label(_("{total} members").format(total=f"{total:,}")).classes("text-lg lp-members")
        for fmt in ("csv", "xlsx"):
            ui.link(
                _("Export {format}").format(format=fmt.upper()),
                f"/api/v1/segments/{key}/export?format={fmt}",
            ).classes(f"lp-export-{fmt}")
    ui.table(
        columns=[{"name": c, "label": _(c), "field": c, "align": "left"} for c in MEMBER_COLUMNS],
        rows=[{c: getattr(r, c, "") or "" for c in MEMBER_COLUMNS} for r in reads],
    ).props(DENSE).classes("w-full")
