"""The visual journey builder: a new journey (``/journeys/new``) or one of the playbook's
(``/journeys/{key}/edit``) as settings and a flow of step cards. It edits the playbook's
``journeys:`` section — the same document as the YAML — and saves a new playbook version as the
playbook page does, after the same validation (its errors shown on the card they name) and a
diff of the text; the draft can be dry-run on real history before it is saved."""

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console.pages.errors_words import located_problem, playbook_problems
from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.console.pages.journey_builder_fields import (
    Choices,
    ConditionInput,
    snippet_input,
    words,
)
from leadpond.console.pages.journey_builder_model import (
    EXIT,
    JourneyModel,
    diff,
    index_of,
    journeys_of,
    new_trigger,
    place_errors,
    spliced,
    step_kind,
    trigger_kind,
)
from leadpond.console.pages.journey_builder_steps import KIND_NAMES, FlowCanvas
from leadpond.console.pages.journeys import DryRunPanel
from leadpond.console.pages.words import in_language
from leadpond.console.playbook_forms import PlaybookDraft, SnippetError
from leadpond.db.engine import read_only, rolled_back, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.playbooks import service as playbooks
from leadpond.rules.active import newest_document
from leadpond.users.permissions import PLAYBOOKS_WRITE

TRIGGER_WORDS = {
    "event": "An event",
    "tag": "A tag added",
    "tag_removed": "A tag removed",
    "stage": "A stage entered",
    "segment": "A segment entered",
    "segment_exited": "A segment left",
    "score": "A score threshold crossed",
    "schedule": "A schedule (cron)",
    "api": "The API only",
    "yaml": "Written in YAML",
}
REENTRY_WORDS = {"never": "Never again", "after_exit": "After leaving", "after": "After a while"}
ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Europe/London", "UTC")


def new_journey_page(request: Request) -> RedirectResponse | None:
    """A journey built from nothing."""
    return _builder_page(request, None)


def edit_journey_page(request: Request, key: str) -> RedirectResponse | None:
    """A journey of the current playbook, in the builder."""
    return _builder_page(request, key)


def _builder_page(request: Request, key: str | None) -> RedirectResponse | None:
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _journey_title(v, session, key), session)
        if not v.may(PLAYBOOKS_WRITE):
            ui.label(_("Read only: marketers and admins change the playbook.")).classes(
                "text-gray-600"
            ).mark("read-only-note")
            return None
        text = _current_text(v, session)
        try:
            draft = PlaybookDraft.from_yaml(text)
        except SnippetError as exc:
            ui.label(exc.said(_)).classes("text-negative")
            return None
        choices = Choices.load(session, v.actor.workspace_id, dict(draft.document), v.actor.locale)
    if key is None:
        taken = {str(j.get("key")) for j in journeys_of(draft)}
        model = JourneyModel.blank(_unique("new-journey", taken))
    else:
        index = index_of(draft, key)
        if index is None:
            ui.label(_("There is no such journey in the current playbook.")).classes(
                "lp-no-journey"
            )
            return None
        model = JourneyModel.of(journeys_of(draft)[index])
    JourneyBuilder(v, model, key, choices).redraw()
    return None


def _journey_title(v: Visit, session: Any, key: str | None) -> str:
    """The page's title: the journey by its name in the viewer's language."""
    _ = v._
    if key is None:
        return _("New journey")
    listed = (newest_document(session, v.actor.workspace_id) or {}).get("journeys")
    for journey in listed if isinstance(listed, list) else []:
        if isinstance(journey, dict) and journey.get("key") == key:
            name = in_language(journey.get("name") or key, v.actor.locale)
            return _("Edit journey: {name}").format(name=name)
    return _("Edit journey")


def _current_text(v: Visit, session: Any) -> str:
    try:
        return playbooks.export_playbook(session, v.actor.workspace_id)
    except LeadpondError:
        return playbooks.default_source()


def _unique(wanted: str, taken: set[str]) -> str:
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted}-{number}"
    return name


class JourneyBuilder:
    """The settings, the flow, the diagram and the buttons of one journey being built."""

    def __init__(
        self, v: Visit, model: JourneyModel, original: str | None, choices: Choices
    ) -> None:
        self.v, self.model, self.original, self.choices = v, model, original, choices
        self.header_errors: list[str] = []
        self.conditions: list[ConditionInput] = []
        _ = v._
        self.settings = ui.card().classes("w-full max-w-4xl lp-journey-settings")
        with ui.expansion(_("Diagram"), icon="account_tree").classes("w-full max-w-4xl"):
            self.diagram = ui.column().classes("w-full lp-diagram")
        self.canvas = FlowCanvas(v, model, choices, self._draw_diagram)
        self.problems = ui.column().classes("w-full max-w-4xl").mark("builder-problems")
        with ui.row().classes("items-center"):
            ui.button(_("Validate"), icon="check", on_click=self.validate).classes(
                "lp-builder-validate"
            ).mark("builder-validate")
            ui.button(_("Review and save"), icon="save", on_click=self.review).classes(
                "lp-builder-save"
            ).mark("builder-save")
        DraftDryRun(v, self)

    def redraw(self) -> None:
        self._draw_settings()
        self.canvas.redraw()

    # -- settings ----------------------------------------------------------------------------

    def _draw_settings(self) -> None:
        _ = self.v._
        head = self.model.header
        self.settings.clear()
        with self.settings:
            with ui.row().classes("gap-4 items-end w-full"):
                ui.input(
                    _("Key"),
                    value=self.model.key,
                    on_change=lambda e: head.__setitem__("key", str(e.value or "").strip()),
                ).props("dense").classes("w-48 lp-journey-key")
                ui.input(
                    _("Display name"),
                    value=str(head.get("name") or ""),
                    on_change=lambda e: self._put("name", str(e.value or "").strip()),
                ).props("dense").classes("w-64 lp-journey-name")
            self.trigger_box = ui.column().classes("w-full gap-1 lp-trigger")
            self._draw_trigger()
            self._entry_settings()
            self.conditions = [
                ConditionInput(
                    self.v,
                    label,
                    head.get(key),
                    self._putter(key),
                    self.choices,
                    f"journey-{key}",
                )
                for key, label in (
                    ("if", _("Who may enter (entry condition)")),
                    ("goal", _("Goal: leave when this holds")),
                )
            ]
            for message in self.header_errors:
                ui.label(message).classes("text-negative lp-settings-error")

    def _putter(self, key: str) -> Callable[[Any], None]:
        return lambda value: self._put(key, value)

    def _put(self, key: str, value: Any) -> None:
        if value in (None, "", {}):
            self.model.header.pop(key, None)
        else:
            self.model.header[key] = value

    def _entry_settings(self) -> None:
        _ = self.v._
        head = self.model.header
        reentry = str(head.get("reentry") or "never").strip()
        mode = reentry if reentry in ("never", "after_exit") else "after"
        with ui.row().classes("gap-4 items-end w-full"):
            ui.select(
                {k: _(n) for k, n in REENTRY_WORDS.items()},
                value=mode,
                label=_("Enter again"),
                on_change=lambda e: self._reentry(str(e.value)),
            ).props("dense").classes("w-40 lp-reentry")
            if mode == "after":
                ui.input(
                    _("After (e.g. 30d)"),
                    value=reentry,
                    on_change=lambda e: self._put("reentry", str(e.value or "").strip()),
                ).props("dense").classes("w-32 lp-reentry-after")
            ui.input(
                _("Ignore triggers older than (default 1d)"),
                value=str(head.get("max_age") or ""),
                on_change=lambda e: self._put("max_age", str(e.value or "").strip()),
            ).props("dense").classes("w-64 lp-max-age")
            zone = str(head.get("time_zone") or "")
            ui.select(
                list(dict.fromkeys([*ZONES, *([zone] if zone else [])])),
                value=zone or None,
                label=_("Time zone (default Asia/Shanghai)"),
                with_input=True,
                new_value_mode="add-unique",
                clearable=True,
                on_change=lambda e: self._zone(e.value),
            ).props("dense").classes("w-64 lp-time-zone")
        limits = head.get("limits") if isinstance(head.get("limits"), dict) else {}
        with ui.row().classes("gap-4 items-end"):
            for key, label in (
                ("per_second", _("At most per second")),
                ("total", _("At most in total")),
            ):
                ui.number(
                    label,
                    value=(limits or {}).get(key),
                    min=1,
                    on_change=lambda e, k=key: self._limit(k, e.value),
                ).props("dense clearable").classes(f"w-40 lp-limit-{key.replace('_', '-')}")

    def _reentry(self, mode: str) -> None:
        self.model.header["reentry"] = "30d" if mode == "after" else mode
        self._draw_settings()

    def _zone(self, value: Any) -> None:
        self._put("time_zone", str(value or "").strip())
        self._draw_trigger()

    def _limit(self, key: str, value: Any) -> None:
        limits = dict(self.model.header.get("limits") or {})
        if value in (None, ""):
            limits.pop(key, None)
        else:
            limits[key] = int(value)
        self._put("limits", limits)

    # -- the trigger -------------------------------------------------------------------------

    def _draw_trigger(self) -> None:
        _ = self.v._
        trigger = self.model.header.get("trigger")
        kind = trigger_kind(trigger)
        self.trigger_box.clear()
        with self.trigger_box:
            options = {k: _(n) for k, n in TRIGGER_WORDS.items() if k != "yaml" or kind == "yaml"}
            with ui.row().classes("gap-4 items-end w-full"):
                ui.select(
                    options,
                    value=kind,
                    label=_("Who enters: when"),
                    on_change=lambda e: self._trigger_kind(str(e.value)),
                ).props("dense").classes("w-56 lp-trigger-kind").mark("trigger-kind")
                if kind != "yaml" and isinstance(trigger, dict):
                    TriggerFields(self, trigger, kind).draw()
            if kind == "yaml":
                snippet_input(
                    self.v,
                    _("Trigger (YAML)"),
                    trigger,
                    lambda data: self._put("trigger", data),
                    "trigger-yaml",
                )

    def _trigger_kind(self, kind: str) -> None:
        if kind != trigger_kind(self.model.header.get("trigger")):
            self.model.header["trigger"] = new_trigger(kind)
            self._draw_trigger()

    def next_runs(self, cron: str) -> list[str]:
        """The schedule's next five runs in the journey's time zone (empty when unreadable)."""
        try:
            zone = ZoneInfo(str(self.model.header.get("time_zone") or "Asia/Shanghai"))
        except (ZoneInfoNotFoundError, ValueError):
            return []
        if len(cron.split()) != 5 or not croniter.is_valid(cron):
            return []
        runs = croniter(cron, datetime.now(zone))
        return [runs.get_next(datetime).strftime("%Y-%m-%d %a %H:%M") for _ in range(5)]

    # -- the diagram -------------------------------------------------------------------------

    def _draw_diagram(self) -> None:
        self.diagram.clear()
        with self.diagram:
            ui.mermaid(mermaid(self.model, self.v._)).classes("w-full")

    # -- validate, review, save --------------------------------------------------------------

    def compose(self) -> tuple[str, str, int] | None:
        """(current text, text with this journey, its index), or None when a YAML input
        cannot be read (it says why)."""
        for condition in self.conditions:
            if condition.problem:
                ui.notify(condition.problem, type="negative")
                return None
        with read_only() as session:
            before = _current_text(self.v, session)
        try:
            after, index = spliced(before, self.model, self.original)
        except SnippetError as exc:
            ui.notify(exc.said(self.v._), type="negative")
            return None
        return before, after, index

    def validate(self) -> str | None:
        """The playbook with this journey when it is valid; else its errors on their cards."""
        composed = self.compose()
        if composed is None:
            return None
        _before, after, index = composed
        self.problems.clear()
        try:
            playbooks.validate_playbook(after)
        except LeadpondError as exc:
            errors = exc.details.get("errors", [{"message": exc.message}])
            placed, elsewhere = place_errors(playbook_problems(errors, self.v._), index)
            self.canvas.errors = [p for p in placed if p.step is not None]
            self.header_errors = [
                f"{p.inner}: {p.message}" if p.inner else p.message
                for p in placed
                if p.step is None
            ]
            self.redraw()
            with self.problems:
                ui.label(self.v._("The journey has errors: see the marked cards.")).classes(
                    "text-negative lp-builder-invalid"
                )
                for error in elsewhere:
                    ui.label(located_problem(error, self.v._)).classes("text-negative")
            return None
        if self.canvas.errors or self.header_errors:
            self.canvas.errors, self.header_errors = [], []
            self.redraw()
        with self.problems:
            ui.label(self.v._("The journey is valid.")).classes("text-positive lp-builder-valid")
        return after

    def review(self) -> None:
        """The valid playbook's changes as a diff, saved on confirmation."""
        composed = self.compose()
        if composed is None or self.validate() is None:
            return
        before, after, _index = composed
        _ = self.v._
        with ui.dialog() as dialog, ui.card().classes("min-w-[48rem] lp-diff-dialog"):
            ui.label(_("What saving changes in the playbook")).classes("text-lg")
            ui.code(diff(before, after) or _("Nothing changes."), language="diff").classes(
                "w-full max-h-[60vh] overflow-auto lp-diff"
            )
            with ui.row():
                ui.button(_("Save"), icon="save", on_click=lambda: self.save(after)).classes(
                    "lp-confirm-save"
                ).mark("confirm-save")
                ui.button(_("Cancel"), on_click=dialog.close).props("flat")
        dialog.open()

    def save(self, text: str) -> None:
        """A new playbook version, as the playbook page saves it (the role checked now)."""
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, PLAYBOOKS_WRITE)
                result = playbooks.apply_playbook(
                    session, actor.workspace_id, text, actor=f"session:{actor.email}"
                )
        except LeadpondError as exc:
            notify_error(exc)
            return
        ui.notify(self.v._("Saved as version {version}").format(version=result.version))
        ui.navigate.to(f"/journeys/{self.model.key}")


class TriggerFields:
    """The inputs of one trigger kind, writing into the trigger's mapping."""

    def __init__(self, builder: JourneyBuilder, trigger: dict[str, Any], kind: str) -> None:
        self.builder, self.trigger, self.kind = builder, trigger, kind
        self.v, self.choices = builder.v, builder.choices

    def draw(self) -> None:
        _ = self.v._
        picks = {"tag": "tags", "tag_removed": "tags", "stage": "stages"}
        if self.kind == "event":
            events = words(self.trigger.get("event"))
            ui.select(
                self.choices.options(_, "events", events),
                value=events,
                label=_("Events (one or more)"),
                multiple=True,
                with_input=True,
                new_value_mode="add-unique",
                on_change=lambda e: self._event(e.value),
            ).props("dense use-chips").classes("min-w-72 lp-trigger-event")
        elif self.kind in (*picks, "segment", "segment_exited"):
            current = str(self.trigger.get(self.kind) or "")
            kept = [current] if current else []
            ui.select(
                self.choices.options(_, picks[self.kind], kept)
                if self.kind in picks
                else self.choices.segment_options(current),
                value=current or None,
                label=_(TRIGGER_WORDS[self.kind]),
                with_input=True,
                new_value_mode="add-unique",
                on_change=lambda e: self.trigger.__setitem__(self.kind, e.value or ""),
            ).props("dense").classes(f"min-w-64 lp-trigger-{self.kind.replace('_', '-')}").mark(
                f"trigger-{self.kind}"
            )
        elif self.kind == "score":
            self._score()
        elif self.kind == "schedule":
            self._schedule()
        if self.kind == "event":
            snippet_input(
                self.v,
                _("Event properties (YAML)"),
                self.trigger.get("where") or None,
                self._where,
                "trigger-where",
            )

    def _event(self, value: Any) -> None:
        listed = words(value)
        self.trigger["event"] = listed[0] if len(listed) == 1 else listed

    def _where(self, data: Any) -> None:
        if data:
            self.trigger["where"] = data
        else:
            self.trigger.pop("where", None)

    def _score(self) -> None:
        _ = self.v._
        score = self.trigger["score"]
        ui.select(
            self.choices.options(_, "models", []),
            value=score.get("model") or None,
            label=_("Score model"),
            on_change=lambda e: score.__setitem__("model", e.value or ""),
        ).props("dense").classes("w-48 lp-trigger-score-model")
        ui.number(
            _("Crosses its threshold at"),
            value=score.get("gte"),
            on_change=lambda e: score.__setitem__("gte", e.value),
        ).props("dense").classes("w-48 lp-trigger-score-gte")

    def _schedule(self) -> None:
        _ = self.v._
        schedule = self.trigger["schedule"]
        runs = ui.label().classes("text-sm text-grey-7 w-full lp-next-runs")

        def show(cron: str) -> None:
            schedule["cron"] = cron.strip()
            listed = self.builder.next_runs(cron.strip())
            runs.text = (
                _("Next runs: {runs}").format(runs=" · ".join(listed))
                if listed
                else _("Not a five-field cron expression")
            )

        ui.input(
            _("Cron (minute hour day month weekday)"),
            value=str(schedule.get("cron") or ""),
            on_change=lambda e: show(str(e.value or "")),
        ).props("dense").classes("w-64 lp-trigger-cron")
        segment = str(schedule.get("segment") or "")
        ui.select(
            self.choices.segment_options(segment),
            value=segment or None,
            label=_("Segment enrolled"),
            with_input=True,
            new_value_mode="add-unique",
            on_change=lambda e: schedule.__setitem__("segment", e.value or ""),
        ).props("dense").classes("w-56 lp-trigger-schedule-segment").mark(
            "trigger-schedule-segment"
        )
        show(str(schedule.get("cron") or ""))


class DraftDryRun(DryRunPanel):
    """The dry-run of the draft: the playbook with this journey, applied in a transaction
    that is rolled back, and the journey replayed on real history."""

    def __init__(self, v: Visit, builder: JourneyBuilder) -> None:
        self.builder = builder
        super().__init__(v, builder.model.key)

    def replay(self, since: datetime, until: datetime) -> dict[str, Any] | None:
        composed = self.builder.compose()
        if composed is None:
            return None
        with rolled_back() as session:
            report = playbooks.dry_run_draft(
                session,
                self.v.actor.workspace_id,
                composed[1],
                self.builder.model.key,
                since,
                until,
            )
            return asdict(report)


def mermaid(model: JourneyModel, _: Any) -> str:
    """The journey as a Mermaid flowchart (drawn by NiceGUI's bundled Mermaid)."""
    lines = ["flowchart TD", f'  start(["{_("Entered")}"])']
    ids = {sid: f"s{i}" for i, sid in enumerate(model.ids())}
    ids[EXIT] = "finish"
    lines.append(f'  finish(["{_("Exit")}"])')
    for index, step in enumerate(model.steps):
        kind = step_kind(step)
        node = ids[str(step.get("id"))]
        label = f"{step.get('id')}<br/>{_(KIND_NAMES[kind])}".replace('"', "'")
        lines.append(
            f'  {node}{{"{label}"}}' if kind in ("branch", "split") else f'  {node}["{label}"]'
        )
        if index == 0:
            lines.append(f"  start --> {node}")
        if kind in ("branch", "split"):
            for arm in step[kind]:
                said = str(arm.get("variant") or ("if" if "if" in arm else _("Otherwise")))
                lines.append(f'  {node} -- "{said}" --> {ids.get(str(arm.get("goto")), "finish")}')
        elif kind != "exit":
            onward = model.successor(index)
            if onward != EXIT or step.get("next") == EXIT:
                lines.append(f"  {node} --> {ids.get(onward, 'finish')}")
        else:
            lines.append(f"  {node} --> finish")
    return "\n".join(lines) + "\n"
