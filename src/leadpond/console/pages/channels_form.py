"""One channel's edit form: the provider's settings as inputs drawn from its schema
(``channels.settings.SCHEMAS``, the one the CLI and the API validate with), frequency caps,
quiet hours, and each validation error shown on the input it names."""

from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from nicegui import ui
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from leadpond.channels.schemas import ChannelRead
from leadpond.channels.settings import MASK, SCHEMAS
from leadpond.console.i18n import Translate
from leadpond.console.pages.channels_words import PROVIDER_NAMES, SETTING_LABELS, word
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.words import schema_error_words
from leadpond.kit.errors import LeadpondError

Kind = Literal["text", "secret", "multiline", "integer", "decimal", "switch", "choice"]
ON_HOLD = {"wait": "Wait for the window", "drop": "Drop the message"}
# The quiet hours' inputs, by the names of the quiet hours document.
QUIET_LABELS = {
    "start": "From (HH:MM)",
    "end": "Until (HH:MM)",
    "time_zone": "Time zone",
    "on_quiet": "Inside quiet hours",
}
CAP_LABELS = {"max": "At most", "days": "in days"}
# Provider, settings, caps, quiet hours (None: none) and enabled, as ``set_channel`` takes them.
SettingsDocument = tuple[str, dict[str, Any], dict[str, Any], dict[str, Any] | None, bool]


@dataclass(frozen=True)
class SettingField:
    """One setting of a provider as the form shows it."""

    key: str  # the name the settings document uses (``from``, not ``from_``)
    kind: Kind
    required: bool
    default: Any
    choices: tuple[str, ...] = ()


def _kind(name: str, info: FieldInfo, secret: bool) -> Kind:
    annotation = info.annotation
    if get_origin(annotation) is Literal:
        return "choice"
    if annotation is bool:
        return "switch"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "decimal"
    if name.endswith("private_key"):
        return "multiline"
    return "secret" if secret else "text"


def setting_fields(channel: str, provider: str) -> list[SettingField]:
    """The inputs of a provider's settings, in the schema's order."""
    schema = SCHEMAS[(channel, provider)]
    found = []
    for name, info in schema.model_fields.items():
        kind = _kind(name, info, name in schema.SECRETS)
        default = None if info.is_required() else info.default
        choices = tuple(str(c) for c in get_args(info.annotation)) if kind == "choice" else ()
        found.append(SettingField(info.alias or name, kind, info.is_required(), default, choices))
    return found


def settings_document(fields: list[SettingField], values: dict[str, Any]) -> dict[str, Any]:
    """What the inputs say, as the settings document ``set_channel`` validates: an empty input
    is left out (the schema's default applies, or it reports the field as required); a whole
    number typed in a number input is an integer."""
    document: dict[str, Any] = {}
    for field in fields:
        value = values.get(field.key)
        if field.kind in ("switch", "choice"):
            document[field.key] = value
        elif value is None or value == "":
            continue
        elif field.kind == "integer" and isinstance(value, float) and value.is_integer():
            document[field.key] = int(value)
        else:
            document[field.key] = value
    return document


def caps_document(rules: list[tuple[Any, Any]], on_cap: str) -> dict[str, Any]:
    """Caps rows (at most … in … days) as the caps document; empty rows are left out."""
    marketing = [
        {"max": _whole(most), "days": _whole(days)}
        for most, days in rules
        if most not in (None, "") or days not in (None, "")
    ]
    return {"marketing": marketing, "on_cap": on_cap}


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def initial_values(shown: ChannelRead, provider: str) -> dict[str, Any]:
    """The inputs' first values: the stored (masked) settings of this provider, else the
    schema's defaults."""
    stored = shown.settings if shown.provider == provider else {}
    return {
        field.key: stored.get(field.key, field.default)
        for field in setting_fields(shown.channel, provider)
    }


class ChannelForm:
    """The inputs of one channel; ``document()`` reads them, ``show_error`` marks one."""

    def __init__(self, _: Translate, shown: ChannelRead) -> None:
        self._ = _
        self.channel = shown.channel
        self.shown = shown
        providers = [p for c, p in SCHEMAS if c == shown.channel]
        self.provider = shown.provider or providers[0]
        mark = self.channel
        self.inputs: dict[str, Any] = {}
        with ui.row().classes("items-center gap-4"):
            self.provider_select = (
                ui.select(
                    {p: word(_, PROVIDER_NAMES, p) for p in providers},
                    value=self.provider,
                    label=_("Provider"),
                    on_change=lambda e: self.switch_provider(str(e.value)),
                )
                .classes("min-w-64")
                .mark(f"provider-{mark}")
                .classes(f"lp-provider-{mark}")
            )
            self.enabled = (
                ui.switch(_("Enabled"), value=shown.enabled)
                .mark(f"enabled-{mark}")
                .classes(f"lp-enabled-{mark}")
            )
        self.settings_box = ui.column().classes("w-full gap-1")
        self.draw_settings(initial_values(shown, self.provider))
        self._caps(shown.caps or {})
        self._quiet(shown.quiet_hours or {})
        self.problem = (
            ui.label()
            .classes("text-negative")
            .mark(f"form-error-{mark}")
            .classes(f"lp-form-error-{mark}")
        )

    def switch_provider(self, provider: str) -> None:
        self.provider = provider
        self.draw_settings(initial_values(self.shown, provider))

    def draw_settings(self, values: dict[str, Any]) -> None:
        self.settings_box.clear()
        self.inputs = {}
        with self.settings_box:
            for field in setting_fields(self.channel, self.provider):
                self.inputs[field.key] = self._input(field, values.get(field.key))

    def _input(self, field: SettingField, value: Any) -> Any:
        label = self.setting_label(field.key) + (" *" if field.required else "")
        mark = f"setting-{self.channel}-{field.key}"
        return self._widget(field, label, value).mark(mark).classes(f"lp-{mark}")

    def setting_label(self, key: str) -> str:
        """A setting's input as the form labels it (one without a label by its key)."""
        return self._(SETTING_LABELS.get(key, key))

    def _widget(self, field: SettingField, label: str, value: Any) -> Any:
        _ = self._
        if field.kind == "switch":
            return ui.switch(label, value=bool(value))
        if field.kind == "choice":
            options = {c: c or _("(none)") for c in field.choices}
            return ui.select(options, value=value, label=label).classes("min-w-64")
        if field.kind in ("integer", "decimal"):
            step = 1 if field.kind == "integer" else 0.5
            return ui.number(label, value=value, step=step).classes("w-64")
        if field.kind == "multiline":
            box = ui.textarea(label, value=value or "").props("outlined autogrow")
            return box.classes("w-full")
        shown = ui.input(label, value=value or "").classes("w-full")
        if field.kind == "secret":
            shown.props("type=password")
            shown.tooltip(_("Leave •••• to keep the stored secret."))
        return shown

    def _caps(self, caps: dict[str, Any]) -> None:
        _ = self._
        ui.label(_("Frequency caps (marketing messages per person)")).classes("text-md mt-2")
        self.cap_rows: list[tuple[Any, Any]] = []
        self.caps_box = ui.column().classes("gap-1")
        for rule in caps.get("marketing", []):
            self.add_cap(rule.get("max"), rule.get("days"))
        with ui.row().classes("items-center gap-4"):
            ui.button(_("Add a cap"), icon="add", on_click=lambda: self.add_cap(None, None)).props(
                "flat dense"
            ).mark(f"add-cap-{self.channel}").classes(f"lp-add-cap-{self.channel}")
            self.on_cap = (
                ui.select(
                    {k: _(text) for k, text in ON_HOLD.items()},
                    value=caps.get("on_cap", "wait"),
                    label=_("When a cap holds"),
                )
                .classes("min-w-48")
                .mark(f"on-cap-{self.channel}")
                .classes(f"lp-on-cap-{self.channel}")
            )

    def add_cap(self, most: Any, days: Any) -> None:
        _ = self._
        with self.caps_box, ui.row().classes("items-center gap-2") as row:
            at_most = ui.number(_(CAP_LABELS["max"]), value=most, step=1).classes("w-32")
            within = ui.number(_(CAP_LABELS["days"]), value=days, step=1).classes("w-32")
            at_most.mark(f"cap-max-{self.channel}").classes(f"lp-cap-max-{self.channel}")
            within.mark(f"cap-days-{self.channel}").classes(f"lp-cap-days-{self.channel}")
            pair = (at_most, within)
            ui.button(icon="close", on_click=lambda: self.remove_cap(pair, row)).props(
                "flat dense round"
            )
        self.cap_rows.append(pair)

    def remove_cap(self, pair: tuple[Any, Any], row: ui.row) -> None:
        self.cap_rows.remove(pair)
        row.delete()

    def _quiet(self, quiet: dict[str, Any]) -> None:
        _ = self._
        mark = self.channel
        with ui.row().classes("items-center gap-2 mt-2"):
            self.quiet_on = (
                ui.switch(_("Quiet hours"), value=bool(quiet))
                .mark(f"quiet-{mark}")
                .classes(f"lp-quiet-{mark}")
            )
            label = {name: _(text) for name, text in QUIET_LABELS.items()}
            self.quiet_inputs: dict[str, ui.input | ui.select] = {
                "start": ui.input(label["start"], value=str(quiet.get("start", "21:00"))[:5]),
                "end": ui.input(label["end"], value=str(quiet.get("end", "08:00"))[:5]),
                "time_zone": ui.input(
                    label["time_zone"], value=quiet.get("time_zone", "Asia/Shanghai")
                ),
                "on_quiet": ui.select(
                    {k: _(text) for k, text in ON_HOLD.items()},
                    value=quiet.get("on_quiet", "wait"),
                    label=label["on_quiet"],
                ),
            }
            for name, element in self.quiet_inputs.items():
                element.classes("w-40").mark(f"quiet-{name}-{mark}").classes(
                    f"lp-quiet-{name}-{mark}"
                )
                element.bind_enabled_from(self.quiet_on, "value")

    def document(self) -> SettingsDocument:
        """Provider, settings, caps, quiet hours (None: none) and enabled, as typed."""
        fields = setting_fields(self.channel, self.provider)
        values = {key: element.value for key, element in self.inputs.items()}
        rules = [(most.value, days.value) for most, days in self.cap_rows]
        quiet = None
        if self.quiet_on.value:
            quiet = {name: element.value for name, element in self.quiet_inputs.items()}
        return (
            self.provider,
            settings_document(fields, values),
            caps_document(rules, str(self.on_cap.value)),
            quiet,
            bool(self.enabled.value),
        )

    def clear_errors(self) -> None:
        for element in self._validating():
            element.error = None
        self.problem.text = ""

    def show_error(self, exc: LeadpondError) -> None:
        """The error on the input its field names (``settings.from``, ``caps.marketing.0.max``,
        ``quiet_hours.time_zone``), and in words under the form: a value the schema refused
        by the input's label and the schema's words in the viewer's language
        ("发件人（From）：必填")."""
        self.clear_errors()
        said, field = error_words(exc, self._), str(exc.details.get("field") or "")
        target, label = self.input_of(field)
        if isinstance(exc.__cause__, ValidationError):
            reason = schema_error_words(self._, exc.__cause__.errors()[0])
            said = self._("{place}: {problem}").format(place=label, problem=reason)
        self.problem.text = said
        if target is not None and hasattr(target, "error"):
            target.error = said

    def input_of(self, field: str) -> tuple[Any, str]:
        """The input a validation error's field names (the provider select when none) and its
        label as the form shows it."""
        _ = self._
        head, _dot, rest = field.partition(".")
        parts = rest.split(".") if rest else []
        if head == "settings":
            if not parts:  # the settings as a whole
                return None, _("Settings")
            return self.inputs.get(parts[0]), self.setting_label(parts[0])
        if head == "quiet_hours":
            name = parts[0] if parts and parts[0] in self.quiet_inputs else "start"
            return self.quiet_inputs[name], _(QUIET_LABELS[name])
        if head == "caps":
            if parts[:1] == ["marketing"] and len(parts) > 1 and parts[1].isdigit():
                index = int(parts[1])
                if index < len(self.cap_rows):
                    which = "days" if parts[-1] == "days" else "max"
                    element = self.cap_rows[index][1 if which == "days" else 0]
                    return element, _(CAP_LABELS[which])
            return self.on_cap, _("When a cap holds")
        return self.provider_select, _("Provider")

    def _validating(self) -> list[Any]:
        found = [*self.inputs.values(), *self.quiet_inputs.values(), self.on_cap]
        found += [element for pair in self.cap_rows for element in pair]
        found.append(self.provider_select)
        return [element for element in found if hasattr(element, "error")]


def masked_value(value: Any) -> str:
    """A stored setting as the card shows it (secrets are already ••••)."""
    if isinstance(value, bool):
        return "✓" if value else "–"
    text = str(value)
    return text if len(text) <= 80 or MASK in text else text[:77] + "…"
