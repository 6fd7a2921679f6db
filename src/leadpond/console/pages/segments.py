"""Segments: the list, and the builder (visual atoms + YAML), live preview, members, export."""

import time
import uuid
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import background_tasks, run, ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from leadpond.conditions.ast import Condition
from leadpond.conditions.evaluate import UnknownReference
from leadpond.conditions.parse import ConditionError
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.frame import Visit, app_link, header, notify_error, visit
from leadpond.console.pages.segment_atoms import AtomRows, known_events
from leadpond.console.pages.segment_lists import (
    delete_button,
    new_list_button,
    segment_input_problem,
    static_list_card,
)
from leadpond.console.segment_builder import ACCOUNT, MEMBER_COLUMNS, PERSON, from_yaml, to_yaml
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError
from leadpond.rules.active import newest_document
from leadpond.rules.vocabulary import score_models, stages
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
from leadpond.users.permissions import SEGMENTS_WRITE

MEMBER_PAGE = 50
# A member's name links to their page (raw HTML: the href carries the console's base path).
NAME_CELL = (
    '<q-td :props="props"><a :href="props.row.href" class="text-primary lp-member-link">'
    "{{ props.value }}</a></q-td>"
)
DENSE = "flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'"


def segments_page(request: Request) -> RedirectResponse | None:
    """Every segment of the workspace with its size."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Segments"), session)
        found = segments.list_segments(session, v.actor.workspace_id)
    if v.may(SEGMENTS_WRITE):
        with ui.row().classes("gap-2"):
            ui.button(
                _("New segment"), icon="add", on_click=lambda: ui.navigate.to("/segments/new")
            ).mark("new-segment")
            new_list_button(v)
    for segment in found:
        with ui.row().classes("items-center gap-4"):
            ui.link(segment.name or segment.key, f"/segments/{segment.key}").classes(
                f"lp-segment-link-{segment.key}"
            )
            if segment.name:  # the key, which the API and the YAML use, as code beside it
                ui.label(segment.key).classes("lp-code font-mono text-xs text-grey-7")
            subject = _("Accounts") if segment.level == ACCOUNT else _("People")
            size = _("{total} accounts") if segment.level == ACCOUNT else _("{total} members")
            size = size.format(total=f"{segment.member_count:,}")
            ui.label(f"{subject} · {_(segment.kind)} · {size}").mark(f"segment-{segment.key}")
    return None


def segment_page(request: Request, key: str) -> RedirectResponse | None:
    """Build or change a segment of people or of accounts; see its preview while editing, its
    members and exports."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        ws = v.actor.workspace_id
        try:
            existing = _saved(session, ws, key) if key != "new" else {}
        except LeadpondError as exc:
            header(v, _("Segment"), session)
            missing = _("No such segment in this workspace ({key}).").format(key=key)
            said = missing if exc.status_code == 404 else _(exc.message)
            ui.label(said).classes("text-negative").mark("not-found")
            return None
        header(v, existing.get("name") or existing.get("key") or _("New segment"), session)
        language = v.actor.locale
        vocabulary = (
            dict(stages(session, ws, language)),
            dict(score_models(session, ws, language)),
            known_events(session, ws, newest_document(session, ws) or {}),
        )
        editor = SegmentEditor(v, existing, *vocabulary)
        if existing:
            shown = _members(v, existing["key"], session)
            if v.may(SEGMENTS_WRITE):
                if existing["kind"] == "static":
                    static_list_card(v, existing["key"], shown)
                delete_button(v, existing["key"])
    editor.start()
    return None


def _saved(session: Session, workspace_id: uuid.UUID, key: str) -> dict[str, Any]:
    """The saved segment's fields as the editor shows them."""
    found = segments.get_segment(session, workspace_id, key)
    return {
        "key": found.key,
        "name": found.name or "",
        "kind": found.kind,
        "level": found.level,
        "account_match": found.account_match or "any",
        "source": found.condition_source or "",
    }


class SegmentEditor:
    """A segment's inputs, its condition as atoms and as YAML (each rewrites the other), the
    live preview, and saving through the segments service."""

    def __init__(
        self,
        v: Visit,
        existing: dict[str, Any],
        stages: dict[str, str],
        models: dict[str, str],
        events: list[str],
    ) -> None:
        self.v = v
        self.existing = existing
        self.level: str = existing.get("level", PERSON)
        self.match_kind = "all"
        self.account_match_value: str = existing.get("account_match", "any")
        self.latest_preview = 0
        self._subject_row()
        self._conditions_card(stages, models, events)
        _ = v._
        self.source = (
            ui.textarea(_("Condition (YAML)"), value=existing.get("source", ""))
            .props("outlined autogrow stack-label input-style='font-family: monospace'")
            .classes("w-full lp-yaml")
            .mark("condition-yaml")
        )
        self.count = ui.label().classes("text-lg lp-preview-count").mark("preview-count")
        self.detail = (
            ui.label().classes("lp-code font-mono text-xs text-grey-7").mark("preview-detail")
        )
        self.sample = ui.table(columns=[], rows=[]).props(DENSE).classes("w-full").mark("sample")
        self.sample.add_slot("body-cell-name", NAME_CELL)
        # What the browser sends while typing (``ui.textarea`` emits ``update:value``), at most
        # once a second; the builder's own writes preview directly.
        self.source.on("update:value", self.typed, throttle=1.0)
        with ui.row():
            ui.button(_("Preview"), icon="visibility", on_click=self.run_preview).classes(
                "lp-preview"
            )
            if v.may(SEGMENTS_WRITE):
                ui.button(_("Save"), icon="save", on_click=self.save).classes("lp-save").mark(
                    "save"
                )

    def _subject_row(self) -> None:
        """Key, display name, people or accounts, and how an account's people must match."""
        _ = self.v._
        with ui.row().classes("gap-4 items-end"):
            self.key = (
                ui.input(_("Key"), value=self.existing.get("key", ""))
                .classes("lp-segment-key")
                .mark("segment-key")
            )
            self.key.set_enabled(not self.existing)
            self.name = (
                ui.input(_("Display name"), value=self.existing.get("name", ""))
                .classes("lp-segment-name")
                .mark("segment-name")
            )
            subject = ui.toggle(
                {PERSON: _("People"), ACCOUNT: _("Accounts")},
                value=self.level,
                on_change=lambda e: self.set_level(str(e.value)),
            )
            subject.classes("lp-subject").mark("subject").set_enabled(not self.existing)
            self.account_match = (
                ui.select(
                    {
                        "any": _("someone at the account matches"),
                        "all": _("everyone at the account matches"),
                        "none": _("nobody at the account matches"),
                    },
                    value=self.account_match_value,
                    label=_("Accounts where"),
                    on_change=lambda e: self.set_account_match(str(e.value)),
                )
                .classes("min-w-64 lp-account-match")
                .mark("account-match")
            )

    def _conditions_card(
        self, stages: dict[str, str], models: dict[str, str], events: list[str]
    ) -> None:
        _ = self.v._
        with ui.card().classes("w-full"):
            ui.label(_("Conditions")).classes("text-lg")
            with ui.row().classes("items-center"):
                self.match = ui.select(
                    {"all": _("all of"), "any": _("any of")},
                    value="all",
                    on_change=lambda e: self.set_match(str(e.value)),
                ).mark("match")
            self.atoms = AtomRows(self.v, self.write_yaml, stages, models, events)
            self.yaml_only = ui.label().classes("text-gray-600").mark("yaml-only")

    def start(self) -> None:
        """Show the saved condition (as atoms when it is made of them) and its preview."""
        self.level_shown()
        self.read_yaml(redraw=True)
        self.run_preview()

    def set_match(self, value: str) -> None:
        if value != self.match_kind:  # not when reading the YAML set it
            self.match_kind = value
            self.write_yaml()

    def set_account_match(self, value: str) -> None:
        self.account_match_value = value
        self.run_preview()

    def set_level(self, level: str) -> None:
        self.level = level
        self.level_shown()
        self.read_yaml(redraw=True)
        self.run_preview()

    def level_shown(self) -> None:
        self.account_match.set_visibility(self.level == ACCOUNT)
        self.sample.columns = _columns(self.v, self.level)
        self.sample.rows = []
        self.sample.update()

    def write_yaml(self) -> None:
        self.source.value = to_yaml(self.atoms.atoms, self.match_kind)
        self.run_preview()

    def read_yaml(self, redraw: bool = False) -> None:
        """Show the YAML as atoms when it is made of them only; else leave it to the editor."""
        found = from_yaml(self.source.value or "", self.level)
        if found is None:
            self.atoms.show(self.level, [], can_add=False)
            self.yaml_only.text = self.v._(
                "This condition has parts the builder cannot show: edit it as YAML "
                "(clear it to build with atoms)."
            )
            return
        self.yaml_only.text = ""
        self.match_kind, listed = found
        self.match.value = self.match_kind
        same = to_yaml(listed, self.match_kind) == to_yaml(self.atoms.atoms, self.match_kind)
        if redraw or not self.atoms.can_add or not same:
            self.atoms.show(self.level, listed)

    def typed(self) -> None:
        self.read_yaml()
        self.run_preview()

    def run_preview(self) -> None:
        """Preview off the event loop (other visitors and /healthz keep answering meanwhile);
        when edits come faster than answers, only the latest answer is shown."""
        self.latest_preview += 1
        background_tasks.create(self.show_preview(self.latest_preview), name="segment-preview")

    async def show_preview(self, serial: int) -> None:
        text = self.source.value or ""
        if not text.strip():
            self.count.text, self.sample.rows = "", []
            return
        level, match = self.level, self.account_match_value
        try:
            started = time.perf_counter()
            condition, _text = parse_segment_condition(text)
            answer = await run.io_bound(
                _preview_rows,
                self.v.actor.workspace_id,
                condition,
                level,
                match if level == ACCOUNT else None,
            )
        except LeadpondError as exc:
            self._show_problem(exc)
            return
        if answer is None or serial != self.latest_preview:  # None: the app is shutting down
            return
        self.detail.text = ""
        self._show_answer(*answer, level, time.perf_counter() - started)

    def _show_problem(self, exc: LeadpondError) -> None:
        """What is wrong with the condition in words (with its line and, when the condition
        parser refused it or it names something undefined, its reason); another refusal's own
        account beneath, as code."""
        self.count.text = error_words(exc, self.v._)
        said = isinstance(exc, ConditionError | UnknownReference)
        self.detail.text = "" if said else exc.message
        self.sample.rows = []
        self.sample.update()

    def _show_answer(self, total: int, reads: list[MemberRead], level: str, took: float) -> None:
        _ = self.v._
        message = (
            _("{count} accounts match ({seconds} s)")
            if level == ACCOUNT
            else _("{count} people match ({seconds} s)")
        )
        self.count.text = message.format(count=f"{total:,}", seconds=f"{took:.2f}")
        self.sample.rows = _rows(self.v, reads, level)
        self.sample.update()

    def save(self) -> None:
        """Create or change the segment as the REST API does, if the role (now) allows it."""
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, SEGMENTS_WRITE)
                saved_key = self._store(session, actor.workspace_id)
        except LeadpondError as exc:
            notify_error(exc)
            return
        except ValidationError as exc:
            ui.notify(segment_input_problem(self.v._, exc), type="negative")
            return
        ui.navigate.to(f"/segments/{saved_key}")

    def _store(self, session: Session, workspace_id: uuid.UUID) -> str:
        chosen = cast(AccountMatch, self.account_match_value) if self.level == ACCOUNT else None
        name = self.name.value or None
        if self.existing:
            segment = segments.get_segment(session, workspace_id, self.existing["key"])
            change = SegmentUpdate(name=name, condition=self.source.value, account_match=chosen)
            return segments.update_segment(session, workspace_id, segment, change).key
        created = SegmentCreate(
            key=self.key.value,
            name=name,
            level=cast(Level, self.level),
            account_match=chosen,
            condition=self.source.value,
        )
        return segments.create_segment(session, workspace_id, created).key


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


def _rows(v: Visit, reads: list[Any], level: str) -> list[dict[str, Any]]:
    """Table rows; ``href`` is the member's page (the name cell links to it)."""
    page = "/accounts" if level == ACCOUNT else "/people"
    return [
        {
            **{f: getattr(r, f, "") or "" for f, _label in MEMBER_COLUMNS[level]},
            "name": getattr(r, "name", None) or f"#{r.id}",
            "href": v.href(f"{page}/{r.id}"),
        }
        for r in reads
    ]


def _members(v: Visit, key: str, session: Session) -> Callable[[], None]:
    """The segment's size, its exports, and its members 50 a page, each linked to its page;
    returns what shows the first page again (after a static list changed)."""
    _ = v._
    segment = segments.get_segment(session, v.actor.workspace_id, key)
    level = segment.level
    with ui.row().classes("items-center gap-4"):
        label = _("{total} accounts") if level == ACCOUNT else _("{total} members")
        members_label = ui.label().classes("text-lg lp-members").mark("members")
        for fmt in ("csv", "xlsx"):
            app_link(
                _("Export {format}").format(format=fmt.upper()),
                f"/api/v1/segments/{quote(key)}/export?format={fmt}",
            ).classes(f"lp-export-{fmt}")
    table = ui.table(columns=_columns(v, level), rows=[], row_key="id").props(DENSE)
    table.add_slot("body-cell-name", NAME_CELL)
    table.classes("w-full").mark("members-table")
    with ui.row().classes("items-center gap-2"):
        back = ui.button(icon="chevron_left", on_click=lambda: turn(-MEMBER_PAGE))
        shown_label = ui.label().classes("lp-members-shown").mark("members-shown")
        forward = ui.button(icon="chevron_right", on_click=lambda: turn(MEMBER_PAGE))
        back.classes("lp-members-previous").mark("members-previous")
        forward.classes("lp-members-next").mark("members-next")
    # Pages by key: the first id of each page shown so far (the way back), the current page's
    # last id (the way on); the depth costs nothing, unlike an offset.
    starts: list[int | None] = [None]
    at: dict[str, Any] = {"last": None, "shown": 0}

    def show(reading: Session, after: int | None) -> None:
        current = segments.get_segment(reading, v.actor.workspace_id, key)
        total, rows = segments.members(
            reading, v.actor.workspace_id, current, limit=MEMBER_PAGE, after=after
        )
        reads = member_reads(reading, v.actor.workspace_id, level, rows)
        first = (len(starts) - 1) * MEMBER_PAGE
        at["last"] = rows[-1][0] if rows else None
        members_label.text = label.format(total=f"{total:,}")
        table.rows = _rows(v, reads, level)
        table.update()
        listed = f"{first + 1}–{first + len(rows)}" if rows else "0"
        shown_label.text = _("{shown} of {total}").format(shown=listed, total=f"{total:,}")
        back.set_enabled(len(starts) > 1)
        forward.set_enabled(len(rows) == MEMBER_PAGE and first + len(rows) < total)

    def turn(by: int) -> None:
        if by > 0 and at["last"] is not None:
            starts.append(at["last"])
        elif by < 0 and len(starts) > 1:
            starts.pop()
        elif by == 0:
            del starts[1:]
        try:
            with read_only() as reading:
                show(reading, starts[-1])
        except LeadpondError as exc:
            notify_error(exc)

    show(session, None)
    return lambda: turn(0)
