"""The segment builder's atom rows for one subject (people or accounts); every change is
reported so the page rewrites the YAML and the preview."""

import uuid
from collections.abc import Callable
from typing import Any

from nicegui import ui
from sqlalchemy import Executable, Uuid, bindparam, select, text
from sqlalchemy.orm import Session

from leadpond.console.i18n import Translate
from leadpond.console.pages.frame import Visit
from leadpond.console.pages.words import event_words
from leadpond.console.segment_builder import (
    ACCOUNT_FIELDS,
    ATOM_KINDS,
    ATOM_LABELS,
    FIELD_OPS,
    Atom,
    comma_words,
)
from leadpond.db.engine import is_postgres
from leadpond.ingest.models import Event

OP_LABELS = {"eq": "is", "in": "is one of", "contains": "contains"}
# How many of the newest events are read for event names (the log can hold millions).
RECENT_EVENTS = 5000


def known_events(session: Session, workspace_id: uuid.UUID, playbook: dict[str, Any]) -> list[str]:
    """The event names a picker offers: those among the workspace's newest track events and
    those the playbook's rules listen to or emit."""
    return sorted(_recent_track_names(session, workspace_id) | _playbook_events(playbook))


def _recent_track_names(session: Session, workspace_id: uuid.UUID) -> set[str]:
    """The names among the workspace's newest ``RECENT_EVENTS`` track events (a page call's
    ``event`` is the page's name, Home or Pricing: not a track event), read from the log
    backwards and stopping at the limit."""
    names: Executable
    if is_postgres(session):
        recent = (
            select(Event.event)
            .where(
                Event.workspace_id == workspace_id,
                Event.type == "track",
                Event.event.is_not(None),
            )
            .order_by(Event.id.desc())
            .limit(RECENT_EVENTS)
            .subquery()
        )
        names = select(recent.c.event).distinct()
    else:
        # SQLite took the (workspace, name) index for ``IS NOT NULL`` and sorted every event of
        # the workspace by id: 54 s at 8M events, against 0.1 s for the log read backwards.
        names = text(
            "SELECT DISTINCT event FROM (SELECT event FROM event NOT INDEXED "
            "WHERE workspace_id = :w AND type = 'track' AND event IS NOT NULL "
            "ORDER BY id DESC LIMIT :n)"
        ).bindparams(bindparam("w", workspace_id, type_=Uuid), bindparam("n", RECENT_EVENTS))
    return {str(name) for name in session.scalars(names) if name}


def event_options(_: Translate, events: list[str], current: list[str]) -> dict[str, str]:
    """Event names → what a marketer reads (docs/events.md's events in words, a custom event
    by its name); the ``current`` ones kept."""
    return {key: event_words(_, "track", key) for key in dict.fromkeys([*events, *current])}


def _rows(playbook: dict[str, Any], *keys: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in keys:
        found += [r for r in playbook.get(key) or [] if isinstance(r, dict)]
    return found


def _playbook_events(playbook: dict[str, Any]) -> set[str]:
    """Event names the playbook's rules listen to or emit."""
    names: set[str] = set()
    rules = _rows(playbook, "tag_rules", "key_events")
    for model in _rows(playbook, "score_models"):
        rules += [r for r in model.get("rules") or [] if isinstance(r, dict)]
        names |= {str(t["emit"]) for t in model.get("thresholds") or [] if "emit" in t}
    for rule in rules:
        on = rule.get("on")
        listed = on.get("event") if isinstance(on, dict) else None
        names |= {str(n) for n in ([listed] if isinstance(listed, str) else listed or [])}
        if rule.get("emit"):
            names.add(str(rule["emit"]))
    return names


class AtomRows:
    """Rows of visual atoms and the buttons that add them."""

    def __init__(
        self,
        v: Visit,
        changed: Callable[[], None],
        stages: dict[str, str],
        models: dict[str, str],
        events: list[str],
    ) -> None:
        """``stages`` and ``models``: the playbook's, key → name (the name is shown; a stage
        typed by its name is kept by its key); ``events``: the names the event picker offers
        (:func:`known_events`)."""
        self.v = v
        self.changed = changed
        self.stages = stages
        self.models = models
        self.events = events
        self.atoms: list[Atom] = []
        self.level = "person"
        self.can_add = True
        self.rows = ui.column().classes("w-full")
        self.buttons = ui.row().classes("items-center")

    def show(self, level: str, atoms: list[Atom], *, can_add: bool = True) -> None:
        """Draw these atoms and the add buttons of the level (disabled when ``can_add`` is off)."""
        _ = self.v._
        self.level, self.atoms, self.can_add = level, atoms, can_add
        self.rows.clear()
        for atom in atoms:
            self._row(atom)
        self.buttons.clear()
        with self.buttons:
            for kind in ATOM_KINDS[level]:
                button = ui.button(
                    _(ATOM_LABELS[kind]), icon="add", on_click=lambda k=kind: self.add(k)
                )
                button.props("outline dense").classes(f"lp-add-{kind}").mark(f"add-{kind}")
                button.set_enabled(can_add)

    def add(self, kind: str) -> None:
        atom = Atom(kind=kind, number=1.0 if kind in ("event", "people_score") else 0.0)
        self.atoms.append(atom)
        self._row(atom)
        self.changed()

    def _remove(self, atom: Atom, row: ui.row) -> None:
        self.atoms.remove(atom)
        self.rows.remove(row)
        self.changed()

    def _stages_shown(self, keys: str) -> str:
        """A stage atom's comma-separated keys as the playbook names them."""
        return ", ".join(self.stages.get(k, k) for k in comma_words(keys))

    def _stages_setter(self, atom: Atom) -> Callable[[Any], None]:
        """Stages typed by name (or key) kept as the playbook's keys."""
        keys = {name: key for key, name in self.stages.items()}

        def handler(event: Any) -> None:
            atom.value = ", ".join(keys.get(w, w) for w in comma_words(str(event.value or "")))
            self.changed()

        return handler

    def _setter(self, atom: Atom, field: str, number: bool = False) -> Callable[[Any], None]:
        def handler(event: Any) -> None:
            value = event.value
            setattr(atom, field, float(value or 0) if number else str(value or ""))
            self.changed()

        return handler

    def _row(self, atom: Atom) -> None:
        _ = self.v._
        kind = atom.kind
        with self.rows, ui.row().classes("items-center gap-2") as row:
            ui.label(_(ATOM_LABELS[kind])).classes("w-36")
            if kind in ("score", "people_score"):
                # A model the YAML names that the playbook does not is kept, shown by its key.
                models = dict(self.models)
                if atom.model and atom.model not in models:
                    models[atom.model] = atom.model
                ui.select(
                    models,
                    value=atom.model or None,
                    label=_("Model"),
                    on_change=self._setter(atom, "model"),
                ).classes("min-w-36 lp-atom-model").mark("atom-model")
                ui.number(
                    _("At least"), value=atom.number, on_change=self._setter(atom, "number", True)
                ).classes("lp-atom-number")
            elif kind == "account_field":
                fields = list(dict.fromkeys([*ACCOUNT_FIELDS, atom.field]))
                ui.select(
                    fields,
                    value=atom.field,
                    label=_("Field"),
                    new_value_mode="add-unique",
                    on_change=self._setter(atom, "field"),
                ).classes("w-36 lp-atom-field")
                ui.select(
                    {op: _(OP_LABELS[op]) for op in FIELD_OPS},
                    value=atom.op,
                    on_change=self._setter(atom, "op"),
                ).classes("w-28 lp-atom-op").mark("field-op")
                ui.input(
                    _("Value (several: comma-separated)"),
                    value=atom.value,
                    on_change=self._setter(atom, "value"),
                ).classes("w-64 lp-atom-value").mark("atom-value")
            elif kind == "event":
                # Picked by what it is called; a name no one sent yet (a B2B site's own event)
                # is typed and kept as typed.
                ui.select(
                    event_options(_, self.events, [atom.value] if atom.value else []),
                    value=atom.value or None,
                    label=_("Event"),
                    with_input=True,
                    new_value_mode="add-unique",
                    on_change=self._setter(atom, "value"),
                ).classes("min-w-64 lp-atom-event").mark("atom-event")
            else:
                hint = {
                    "stage": _("Stages (comma-separated)"),
                    "people_stage": _("Stages (comma-separated)"),
                    "people_title": _("Keywords (comma-separated)"),
                }.get(kind, _("Value"))
                staged = kind in ("stage", "people_stage")
                ui.input(
                    hint,
                    value=self._stages_shown(atom.value) if staged else atom.value,
                    autocomplete=list(self.stages.values()) if staged else [],
                    on_change=self._stages_setter(atom) if staged else self._setter(atom, "value"),
                ).classes("lp-atom-value").mark("atom-value")
            if kind == "event":
                ui.number(
                    _("At least"), value=atom.number, on_change=self._setter(atom, "number", True)
                )
                ui.input(
                    _("Within (e.g. 30d)"),
                    value=atom.within,
                    on_change=self._setter(atom, "within"),
                )
            ui.button(icon="close", on_click=lambda: self._remove(atom, row)).props(
                "flat dense round"
            ).tooltip(_("Remove")).mark("remove-atom")
