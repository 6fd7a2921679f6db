"""The journey builder's shared inputs: what the workspace offers to pick from (events, tags,
stages, segments, templates, score models), a condition as the segment builder's atoms and as
YAML, and a YAML snippet for what the builder has no fields for."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nicegui import ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels.models import MessageTemplate
from leadpond.channels.service import templates as templates_of
from leadpond.console.i18n import Translate
from leadpond.console.pages.frame import Visit
from leadpond.console.pages.playbook_sections import MONOSPACE
from leadpond.console.pages.segment_atoms import AtomRows, known_events
from leadpond.console.pages.words import event_words
from leadpond.console.playbook_forms import SnippetError, parse_snippet, snippet
from leadpond.console.segment_builder import PERSON, from_yaml, to_data
from leadpond.content.taxonomy import taxonomy
from leadpond.kit.names import DEFAULT_LANGUAGE, name_in
from leadpond.rules.vocabulary import Labels, labels
from leadpond.segments.service import list_segments
from leadpond.users.models import ConsoleUser, Membership


@dataclass
class Choices:
    """What the builder's pickers offer, read once when the page opens."""

    events: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    # The workspace's segments, key → display name (the key when it has none).
    segments: dict[str, str] = field(default_factory=dict)
    # The workspace's template keys by channel, and what each is called in the viewer's
    # language (its name, else its key).
    templates: dict[str, list[str]] = field(default_factory=dict)
    template_names: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, list[float]] = field(default_factory=dict)
    journeys: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    # Content types by key: (name in Chinese, name in English).
    content_types: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The playbook's display names of its stages, score models and tags.
    labels: Labels = field(default_factory=Labels)

    def options(self, _: Translate, kind: str, current: list[str]) -> dict[str, str]:
        """A picker's options (``events``, ``tags``, ``stages`` or ``models``), key → what a
        marketer reads: standard events in words, the rest by their playbook names; the
        ``current`` keys are kept (a key without a name is shown as it is)."""
        listed = {
            "events": self.events,
            "tags": self.tags,
            "stages": self.stages,
            "models": list(self.thresholds),
        }[kind]
        name: Callable[[str], str] = {
            "events": lambda key: event_words(_, "track", key),
            "tags": self.labels.tag,
            "stages": self.labels.stage,
            "models": self.labels.score,
        }[kind]
        return {key: name(key) for key in dict.fromkeys([*listed, *current])}

    def template_options(self, channel: str, current: str) -> dict[str, str]:
        """The templates of ``channel`` by their names, key → name; a ``current`` key no
        template of the channel has is kept as it is."""
        listed = [*self.templates.get(channel, []), *([current] if current else [])]
        return {key: self.template_names.get(key, key) for key in dict.fromkeys(listed)}

    def segment_options(self, current: str) -> dict[str, str]:
        """Segments by their names, key → name; a ``current`` key no segment has is kept."""
        return self.segments | (
            {current: current} if current and current not in self.segments else {}
        )

    @classmethod
    def load(
        cls,
        session: Session,
        workspace_id: uuid.UUID,
        playbook: dict[str, Any],
        locale: str | None = None,
    ) -> "Choices":
        """The workspace's templates and segments, its playbook's stages, tags, score models and
        event names, and the names among its newest events."""
        language = locale or DEFAULT_LANGUAGE
        templates: dict[str, list[str]] = {}
        template_names: dict[str, str] = {}
        for channel, key, name in session.execute(
            templates_of(workspace_id)
            .with_only_columns(MessageTemplate.channel, MessageTemplate.key, MessageTemplate.name)
            .order_by(MessageTemplate.key)
        ):
            templates.setdefault(str(channel), []).append(str(key))
            template_names[str(key)] = name_in(name, language) or str(key)
        models = [m for m in playbook.get("score_models") or [] if isinstance(m, dict)]
        users = session.scalars(
            select(ConsoleUser.email)
            .join(Membership, Membership.user_id == ConsoleUser.id)
            .where(Membership.workspace_id == workspace_id, ConsoleUser.disabled_at.is_(None))
            .order_by(ConsoleUser.email)
        )
        kinds = taxonomy(session, workspace_id)
        return cls(
            events=known_events(session, workspace_id, playbook),
            tags=sorted(_playbook_tags(playbook)),
            stages=[str(s["key"]) for s in playbook.get("stages") or [] if isinstance(s, dict)],
            segments={s.key: s.name or s.key for s in list_segments(session, workspace_id)},
            templates=templates,
            template_names=template_names,
            thresholds={
                str(m.get("key")): [float(t.get("at", 0)) for t in m.get("thresholds") or []]
                for m in models
            },
            journeys=[str(j["key"]) for j in _rows(playbook, "journeys") if j.get("key")],
            users=list(users),
            content_types={
                t.key: (t.name_zh, t.name_en) for c in kinds.categories for t in c.types
            },
            labels=labels(session, workspace_id, language),
        )


def _rows(playbook: dict[str, Any], *keys: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in keys:
        found += [r for r in playbook.get(key) or [] if isinstance(r, dict)]
    return found


def _playbook_tags(playbook: dict[str, Any]) -> set[str]:
    tags: set[str] = set()
    for rule in _rows(playbook, "tag_rules"):
        then = rule.get("then") if isinstance(rule.get("then"), dict) else {}
        tags |= {str(t) for t in (then or {}).get("add_tags") or []}
    return tags


class ConditionInput:
    """A condition as the segment builder's atoms when it is made of them, always as YAML;
    each rewrites the other. ``changed`` gets the condition's data (None: none), or is not
    called while the YAML cannot be read (``problem`` says why)."""

    def __init__(
        self,
        v: Visit,
        label: str,
        value: Any,
        changed: Callable[[Any], None],
        choices: Choices,
        marker: str,
    ) -> None:
        self.v, self.changed, self.match = v, changed, "all"
        self.problem = ""
        _ = v._
        with ui.column().classes("w-full gap-1").mark(marker) as self.box:
            ui.label(label).classes("text-sm text-grey-8")
            self.match_select = ui.select(
                {"all": _("all of"), "any": _("any of")},
                value="all",
                on_change=lambda e: self._set_match(str(e.value)),
            ).props("dense")
            self.atoms = AtomRows(
                v,
                self._atoms_changed,
                choices.options(_, "stages", []),
                choices.options(_, "models", []),
                choices.events,
            )
            self.note = ui.label().classes("text-xs text-grey-7")
            self.source = (
                ui.textarea(_("Condition (YAML)"), value=snippet(value))
                .props(f"outlined autogrow dense {MONOSPACE}")
                .classes("w-full lp-condition-yaml")
            )
            self.source.on("blur", self._typed)
        self._read(redraw=True)

    def _set_match(self, value: str) -> None:
        if value != self.match:
            self.match = value
            self._atoms_changed()

    def _atoms_changed(self) -> None:
        data = to_data(self.atoms.atoms, self.match)
        self.source.value = snippet(data)
        self.problem = ""
        self.changed(data)

    def _typed(self) -> None:
        try:
            data = parse_snippet(self.source.value or "")
        except SnippetError as exc:
            self.problem = exc.said(self.v._)
            self.note.text = self.problem
            return
        self.problem = ""
        self._read(redraw=True)
        self.changed(data)

    def _read(self, redraw: bool) -> None:
        found = from_yaml(self.source.value or "", PERSON)
        if found is None:
            self.atoms.show(PERSON, [], can_add=False)
            self.note.text = self.v._(
                "This condition has parts the builder cannot show: edit it as YAML "
                "(clear it to build with atoms)."
            )
            return
        self.note.text = ""
        self.match, listed = found
        self.match_select.value = self.match
        if redraw:
            self.atoms.show(PERSON, listed)


def snippet_input(
    v: Visit, label: str, value: Any, changed: Callable[[Any], None], marker: str
) -> ui.textarea:
    """A mapping typed as YAML; ``changed`` gets its data when it reads (else the input says
    what is wrong and nothing changes)."""

    def typed(box: ui.textarea) -> None:
        try:
            data = parse_snippet(box.value or "")
        except SnippetError as exc:
            box.props(f'error error-message="{_attr(exc.said(v._))}"')
            return
        box.props(remove="error error-message")
        changed(data)

    box = ui.textarea(label, value=snippet(value)).props(f"outlined autogrow dense {MONOSPACE}")
    box.classes(f"w-full lp-{marker}").mark(marker)
    box.on("blur", lambda: typed(box))
    return box


def _attr(text: str) -> str:
    return text.replace('"', "'")


def words(value: Any) -> list[str]:
    """A select's value (one text or several) as a list of texts."""
    if value is None:
        return []
    listed = value if isinstance(value, list) else [value]
    return [str(w).strip() for w in listed if str(w).strip()]
