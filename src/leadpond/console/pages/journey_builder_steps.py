"""The journey builder's flow: the steps as a vertical canvas of cards joined by arrows, a branch's
or split's arms as columns, each card with its kind's fields; a step of a kind the builder does
not know is a YAML snippet of the whole step, so nothing is lost."""

from collections.abc import Callable
from typing import Any

from nicegui import ui

from leadpond.console.pages.frame import Visit
from leadpond.console.pages.journey_builder_fields import (
    Choices,
    ConditionInput,
    snippet_input,
    words,
)
from leadpond.console.pages.journey_builder_model import (
    EXIT,
    STEP_KINDS,
    JourneyModel,
    Placed,
    rename_jumps,
    step_kind,
)
from leadpond.console.pages.words import USER_ROLES, in_language

KIND_NAMES = {
    "send": "Send",
    "send_winner": "Send the A/B winner",
    "send_content": "Recommend and send content",
    "wait_condition": "Wait until a condition holds",
    "owner": "Assign an owner",
    "notify": "Notify a colleague",
    "webhook": "Call a webhook",
    "enroll": "Enroll in another journey",
    "wait": "Wait",
    "wait_for": "Wait for an event",
    "wait_until": "Wait until a time of day",
    "branch": "Branch",
    "split": "A/B split",
    "tags": "Tags",
    "points": "Points",
    "stage": "Set the stage",
    "trait": "Set a trait",
    "exit": "Exit",
    "yaml": "Written in YAML",
}
CHANNELS = {"email": "Email", "sms": "SMS", "wecom": "WeCom", "wechat": "WeChat"}
CHANNELS |= {"webhook": "Webhook"}
WINNER_BY = {"clicks": "clicks", "opens": "opens", "goal": "the goal"}
NEXT_FOLLOWING = ""  # the select's value for "no next: the following step"


class FlowCanvas:
    """The steps drawn top to bottom; every structural edit redraws them (and the diagram)."""

    def __init__(
        self, v: Visit, model: JourneyModel, choices: Choices, redrawn: Callable[[], None]
    ) -> None:
        self.v, self.model, self.choices, self.redrawn = v, model, choices, redrawn
        self.errors: list[Placed] = []
        self.box = ui.column().classes("w-full items-center gap-0 lp-flow").mark("flow")

    def redraw(self) -> None:
        _ = self.v._
        self.box.clear()
        with self.box:
            ui.label(_("Entered")).classes("rounded-full bg-primary text-white px-4 py-1")
            self._add_menu(-1, "lp-add-first")
            for index in range(len(self.model.steps)):
                self._arrow(index)
                self._card(index)
                self._add_menu(index, f"lp-add-after-{index}")
        self.redrawn()

    def _arrow(self, index: int) -> None:
        ui.icon("south").classes("text-2xl text-grey-6")

    def _add_menu(self, index: int, css: str) -> None:
        _ = self.v._
        with ui.button(icon="add").props("round dense flat size=sm").classes(css) as button:
            button.tooltip(_("Add a step here"))
            with ui.menu():
                for kind in STEP_KINDS:
                    ui.menu_item(
                        _(KIND_NAMES[kind]),
                        on_click=lambda k=kind: self._structural(
                            self.model.add_after, index, k, self.choices.templates
                        ),
                    ).classes(f"lp-kind-{kind}")

    def _structural(self, edit: Callable[..., Any], *args: Any) -> None:
        edit(*args)
        self.errors = []
        self.redraw()

    def _card(self, index: int) -> None:
        _ = self.v._
        step = self.model.steps[index]
        kind = step_kind(step)
        errors = [e for e in self.errors if e.step == index]
        border = "border-2 border-negative" if errors else ""
        with ui.card().classes(f"w-full max-w-4xl lp-step lp-step-{kind} {border}") as card:
            card.mark(f"step-{index}")
            with ui.row().classes("items-center w-full gap-2"):
                ui.label(_(KIND_NAMES[kind])).classes("text-sm font-semibold text-primary")
                ident = ui.input(_("Step id"), value=str(step.get("id", ""))).props("dense")
                ident.classes("w-40 lp-step-id")
                ident.on("blur", lambda: self._rename(index, str(ident.value or "")))
                if step.get("name") is not None:
                    ui.label(in_language(step["name"], self.v.actor.locale)).classes("text-grey-8")
                ui.space()
                for icon, offset, tip in (
                    ("arrow_upward", -1, "Up"),
                    ("arrow_downward", 1, "Down"),
                ):
                    ui.button(
                        icon=icon,
                        on_click=lambda o=offset: self._structural(self.model.move, index, o),
                    ).props("flat dense round").tooltip(_(tip)).classes(f"lp-move-{offset}")
                ui.button(
                    icon="delete", on_click=lambda: self._structural(self.model.delete, index)
                ).props("flat dense round color=negative").tooltip(_("Delete")).classes(
                    "lp-delete-step"
                )
            StepFields(self, index, step, kind).draw()
            for error in errors:
                where = f"{error.inner}: " if error.inner else ""
                ui.label(f"{where}{error.message}").classes("text-negative lp-step-error")

    def _rename(self, index: int, name: str) -> None:
        old = str(self.model.steps[index].get("id", ""))
        name = name.strip()
        if not name or name == old:
            return
        taken = name in self.model.ids() or name == EXIT
        self.model.steps[index]["id"] = name
        if not taken:  # a clash is the validation's to name; jumps stay as they were then
            for step in self.model.steps:
                rename_jumps(step, old, name, split_too=True)
        self.redraw()

    def later(self, index: int) -> dict[str, str]:
        """Where a jump from step ``index`` may go: later steps, or exit."""
        _ = self.v._
        options = {sid: sid for sid in self.model.ids()[index + 1 :]}
        return {**options, EXIT: _("Exit the journey")}


class StepFields:
    """One card's inputs, writing straight into the step's mapping."""

    def __init__(self, canvas: FlowCanvas, index: int, step: dict[str, Any], kind: str) -> None:
        self.canvas, self.index, self.step, self.kind = canvas, index, step, kind
        self.v, self.choices = canvas.v, canvas.choices

    def draw(self) -> None:
        getattr(self, f"_{self.kind}")()
        if self.kind not in ("branch", "split", "exit", "yaml"):
            self._next()

    def _set(self, holder: dict[str, Any], key: str, value: Any) -> None:
        if value in (None, "", []):
            holder.pop(key, None)
        else:
            holder[key] = value

    def _inner(self, key: str) -> dict[str, Any]:
        found = self.step.get(key)
        if not isinstance(found, dict):
            found = self.step[key] = {}
        return found

    def _next(self) -> None:
        _ = self.v._
        options = {NEXT_FOLLOWING: _("The following step"), **self.canvas.later(self.index)}
        current = str(self.step.get("next") or NEXT_FOLLOWING)
        options.setdefault(current, current)
        ui.select(
            options,
            value=current,
            label=_("Then"),
            on_change=lambda e: self._set(self.step, "next", e.value or None),
        ).props("dense").classes("w-64 lp-step-next")

    def _send(self) -> None:
        _ = self.v._
        send = self._inner("send")
        with ui.row().classes("items-end gap-2"):
            channel = str(send.get("channel") or "email")
            ui.select(
                {k: _(n) for k, n in CHANNELS.items()}
                | {channel: _(CHANNELS.get(channel, channel))},
                value=channel,
                label=_("Channel"),
                on_change=lambda e: self._channel(send, str(e.value)),
            ).props("dense").classes("w-32 lp-send-channel").mark(f"send-channel-{self.index}")
            self._template(send, channel, "send-template")
            if channel == "wecom":
                ui.select(
                    {"person": _("The person"), "owner": _("Their owner (sales rep)")},
                    value=str(send.get("to") or "person"),
                    label=_("To"),
                    on_change=lambda e: self._to(send, str(e.value)),
                ).props("dense").classes("w-48 lp-send-to")
            if send.get("to") == "owner":
                ui.input(
                    _("On-duty WeCom userid (no owner)"),
                    value=str(send.get("on_duty") or ""),
                    on_change=lambda e: self._set(send, "on_duty", str(e.value or "").strip()),
                ).props("dense").classes("w-56 lp-send-on-duty")

    def _channel(self, send: dict[str, Any], channel: str) -> None:
        if channel != "wecom":
            send.pop("to", None)
            send.pop("on_duty", None)
        self._switch_channel(send, channel)

    def _to(self, send: dict[str, Any], to: str) -> None:
        self._set(send, "to", None if to == "person" else to)
        if to != "owner":
            send.pop("on_duty", None)
        self.canvas.redraw()

    def _duration(self, holder: dict[str, Any], key: str, label: str, css: str) -> None:
        ui.input(
            label,
            value=str(holder.get(key) or ""),
            on_change=lambda e: self._set(holder, key, str(e.value or "").strip()),
        ).props("dense").classes(f"w-40 {css}").mark(f"{css}-{self.index}")

    def _wait(self) -> None:
        self._duration(self.step, "wait", self.v._("Wait for (e.g. 1d, 12h)"), "lp-wait")

    def _wait_until(self) -> None:
        _ = self.v._
        ui.input(
            _("Until the local time (HH:MM)"),
            value=str(self.step.get("wait_until") or ""),
            on_change=lambda e: self._set(self.step, "wait_until", str(e.value or "").strip()),
        ).props("dense mask='##:##'").classes("w-48 lp-wait-until")

    def _wait_for(self) -> None:
        _ = self.v._
        awaited = self._inner("wait_for")
        with ui.row().classes("items-end gap-2"):
            self._event_select(awaited, "event", multiple=False, css="lp-wait-for-event")
            self._duration(awaited, "timeout", _("At most (e.g. 3d)"), "lp-wait-for-timeout")
            self._jump(awaited, "goto_timeout", _("On timeout"), "lp-wait-for-timeout-goto")
        snippet_input(
            self.v,
            _("Event properties (YAML)"),
            awaited.get("where") or None,
            lambda data: self._set(awaited, "where", data),
            "wait-for-where",
        )

    def _event_select(self, holder: dict[str, Any], key: str, multiple: bool, css: str) -> None:
        current = words(holder.get(key))
        ui.select(
            self.choices.options(self.v._, "events", current),
            value=current if multiple else (current[0] if current else None),
            label=self.v._("Event"),
            multiple=multiple,
            with_input=True,
            new_value_mode="add-unique",
            on_change=lambda e: self._set(holder, key, _one_or_list(e.value)),
        ).props("dense use-chips").classes(f"min-w-64 {css}")

    def _tags(self) -> None:
        _ = self.v._
        with ui.row().classes("items-end gap-2"):
            for key, label in (("add_tags", _("Add tags")), ("remove_tags", _("Remove tags"))):
                current = words(self.step.get(key))
                ui.select(
                    self.choices.options(_, "tags", current),
                    value=current,
                    label=label,
                    multiple=True,
                    with_input=True,
                    new_value_mode="add-unique",
                    on_change=lambda e, k=key: self._set(self.step, k, words(e.value)),
                ).props("dense use-chips").classes(f"min-w-64 lp-{key.replace('_', '-')}")

    def _points(self) -> None:
        _ = self.v._
        points = self._inner("add_points")
        for model in list(points):
            with ui.row().classes("items-end gap-2"):
                ui.label(self.choices.labels.score(str(model))).classes("w-32")
                ui.number(
                    _("Points"),
                    value=points[model],
                    on_change=lambda e, m=model: points.__setitem__(m, _plain(e.value)),
                ).props("dense").classes("w-28 lp-points-value")
                ui.button(icon="close", on_click=lambda m=model: self._drop_point(points, m)).props(
                    "flat dense round"
                )
        models = {
            m: name for m, name in self.choices.options(_, "models", []).items() if m not in points
        }
        if models:
            ui.select(
                models,
                label=_("Add points of a score model"),
                on_change=lambda e: self._add_point(points, str(e.value)),
            ).props("dense").classes("w-64 lp-points-model")

    def _drop_point(self, points: dict[str, Any], model: str) -> None:
        points.pop(model, None)
        self.canvas.redraw()

    def _add_point(self, points: dict[str, Any], model: str) -> None:
        points[model] = 5
        self.canvas.redraw()

    def _stage(self) -> None:
        current = str(self.step.get("set_stage") or "")
        ui.select(
            self.choices.options(self.v._, "stages", [current] if current else []),
            value=current or None,
            label=self.v._("Stage"),
            on_change=lambda e: self._set(self.step, "set_stage", e.value),
        ).props("dense").classes("w-56 lp-set-stage")

    def _trait(self) -> None:
        snippet_input(
            self.v,
            self.v._("Traits (YAML, e.g. {lead_status: nurtured})"),
            self.step.get("set_trait"),
            lambda data: self._set(self.step, "set_trait", data),
            "set-trait",
        )

    def _send_winner(self) -> None:
        _ = self.v._
        winner = self._inner("send_winner")
        splits = [
            str(s.get("id"))
            for s in self.canvas.model.steps[: self.index]
            if step_kind(s) == "split"
        ]
        current = str(winner.get("split") or "")
        with ui.row().classes("items-end gap-2"):
            ui.select(
                list(dict.fromkeys([*splits, *([current] if current else [])])),
                value=current or None,
                label=_("The split tested"),
                on_change=lambda e: self._set(winner, "split", e.value),
            ).props("dense").classes("w-48 lp-winner-split")
            ui.select(
                {k: _(n) for k, n in WINNER_BY.items()},
                value=str(winner.get("by") or "clicks"),
                label=_("Winner by"),
                on_change=lambda e: self._set(winner, "by", e.value),
            ).props("dense").classes("w-40")
            self._duration(winner, "after", _("Decided after (e.g. 24h)"), "lp-winner-after")

    def _jump(self, holder: dict[str, Any], key: str, label: str, css: str) -> None:
        """Where an inner jump goes (a timeout, nothing to recommend): a later step or exit,
        or — unset — where the step goes next."""
        options = {NEXT_FOLLOWING: self.v._("Where it goes next"), **self.canvas.later(self.index)}
        current = str(holder.get(key) or NEXT_FOLLOWING)
        ui.select(
            options | ({} if current in options else {current: current}),
            value=current,
            label=label,
            on_change=lambda e: self._set(holder, key, e.value or None),
        ).props("dense").classes(f"w-56 {css}")

    def _switch_channel(self, holder: dict[str, Any], channel: str) -> None:
        """A new channel, with a template of it when the one chosen is not (then redrawn)."""
        holder["channel"] = channel
        listed = self.choices.templates.get(channel, [])
        if listed and holder.get("template") not in listed:
            holder["template"] = listed[0]
        self.canvas.redraw()

    def _template(self, holder: dict[str, Any], channel: str, name: str) -> None:
        """A template of ``channel`` by its name (the workspace's, or a key typed in); ``name``
        marks it."""
        template = str(holder.get("template") or "")
        ui.select(
            self.choices.template_options(channel, template),
            value=template or None,
            label=self.v._("Template"),
            with_input=True,
            new_value_mode="add-unique",
            on_change=lambda e: self._set(holder, "template", e.value),
        ).props("dense").classes(f"w-56 lp-{name}").mark(f"{name}-{self.index}")

    def _send_content(self) -> None:
        _ = self.v._
        pick = self._inner("send_content")
        with ui.row().classes("items-end gap-2"):
            channel = str(pick.get("channel") or "email")
            channels = {k: _(n) for k, n in CHANNELS.items() if k != "webhook"}
            ui.select(
                channels | {channel: _(CHANNELS.get(channel, channel))},
                value=channel,
                label=_("Channel"),
                on_change=lambda e: self._switch_channel(pick, str(e.value)),
            ).props("dense").classes("w-32 lp-content-channel")
            self._template(pick, channel, "content-template")
            ui.number(
                _("Items per message"),
                value=pick.get("limit") or 1,
                min=1,
                max=5,
                on_change=lambda e: self._set(pick, "limit", _plain(e.value)),
            ).props("dense").classes("w-32 lp-content-limit")
        with ui.row().classes("items-end gap-2"):
            stage = str(pick.get("stage") or "")
            ui.select(
                {"": _("Their own stage")}
                | self.choices.options(_, "stages", [stage] if stage else []),
                value=stage,
                label=_("For the stage"),
                on_change=lambda e: self._set(pick, "stage", e.value or None),
            ).props("dense").classes("w-44 lp-content-stage")
            zh = self.v.actor.locale.startswith("zh")
            kind = str(pick.get("type") or "")
            ui.select(
                {"": _("Any type")}
                | {
                    k: names[0] if zh else names[1]
                    for k, names in self.choices.content_types.items()
                }
                | ({kind: kind} if kind else {}),
                value=kind,
                label=_("Content type"),
                on_change=lambda e: self._set(pick, "type", e.value or None),
            ).props("dense").classes("w-44 lp-content-type")
            ui.input(
                _("Topic (optional)"),
                value=str(pick.get("topic") or ""),
                on_change=lambda e: self._set(pick, "topic", str(e.value or "").strip()),
            ).props("dense").classes("w-44 lp-content-topic")
            self._jump(pick, "fallback", _("Nothing left to recommend"), "lp-content-fallback")

    def _wait_condition(self) -> None:
        _ = self.v._
        until = self._inner("wait_until")

        def changed(data: Any) -> None:
            until["if"] = data

        ConditionInput(
            self.v, _("Until"), until.get("if"), changed, self.choices, f"wait-if-{self.index}"
        )
        with ui.row().classes("items-end gap-2"):
            self._duration(until, "timeout", _("At most (e.g. 3d)"), "lp-wait-if-timeout")
            self._jump(until, "goto_timeout", _("On timeout"), "lp-wait-if-timeout-goto")

    def _owner(self) -> None:
        _ = self.v._
        assign = self._inner("assign_owner")
        how = "round_robin" if "round_robin" in assign else "account"
        with ui.row().classes("items-end gap-2"):
            ui.select(
                {"account": _("The account's owner"), "round_robin": _("Users in turn")},
                value=how,
                label=_("Owner"),
                on_change=lambda e: self._owner_how(assign, str(e.value)),
            ).props("dense").classes("w-48 lp-owner-how")
            if how == "round_robin":
                current = words(assign.get("round_robin"))
                ui.select(
                    list(dict.fromkeys([*self.choices.users, *current])),
                    value=current,
                    label=_("Users"),
                    multiple=True,
                    with_input=True,
                    new_value_mode="add-unique",
                    on_change=lambda e: self._set(assign, "round_robin", words(e.value)),
                ).props("dense use-chips").classes("min-w-64 lp-owner-users")
            ui.checkbox(
                _("People with an owner keep theirs"),
                value=assign.get("keep_existing", True) is not False,
                on_change=lambda e: self._set(assign, "keep_existing", None if e.value else False),
            ).classes("lp-owner-keep")

    def _owner_how(self, assign: dict[str, Any], how: str) -> None:
        keep = assign.get("keep_existing")
        assign.clear()
        if how == "round_robin":
            assign["round_robin"] = self.choices.users[:1] or ["sales@example.com"]
        else:
            assign["from"] = "account"
        if keep is False:
            assign["keep_existing"] = False
        self.canvas.redraw()

    def _notify(self) -> None:
        _ = self.v._
        note = self._inner("notify")
        to = note.get("to") or "owner"
        who = (
            "owner"
            if to == "owner"
            else ("role" if isinstance(to, dict) and "role" in to else "user")
        )
        with ui.row().classes("items-end gap-2"):
            channel = str(note.get("channel") or "email")
            ui.select(
                {"email": _("Email"), "wecom": _("WeCom")},
                value=channel,
                label=_("Channel"),
                on_change=lambda e: self._notify_channel(note, str(e.value)),
            ).props("dense").classes("w-32 lp-notify-channel")
            self._template(note, channel, "notify-template")
            targets = {"owner": _("Their owner (sales rep)")}
            if channel == "email":
                targets |= {"role": _("Everyone with a role"), "user": _("One user")}
            ui.select(
                targets,
                value=who,
                label=_("To"),
                on_change=lambda e: self._notify_to(note, str(e.value)),
            ).props("dense").classes("w-48 lp-notify-to")
            if who == "role" and isinstance(to, dict):
                ui.select(
                    {k: _(n) for k, n in USER_ROLES.items()},
                    value=str(to.get("role") or "sales"),
                    label=_("Role"),
                    on_change=lambda e: to.__setitem__("role", e.value),
                ).props("dense").classes("w-36 lp-notify-role")
            elif who == "user" and isinstance(to, dict):
                user = str(to.get("user") or "")
                ui.select(
                    list(dict.fromkeys([*self.choices.users, *([user] if user else [])])),
                    value=user or None,
                    label=_("User"),
                    with_input=True,
                    new_value_mode="add-unique",
                    on_change=lambda e: to.__setitem__("user", e.value),
                ).props("dense").classes("w-56 lp-notify-user")

    def _notify_channel(self, note: dict[str, Any], channel: str) -> None:
        if channel == "wecom":
            note["to"] = "owner"  # a WeCom note goes to the owner's WeCom userid
        self._switch_channel(note, channel)

    def _notify_to(self, note: dict[str, Any], who: str) -> None:
        if who == "owner":
            note["to"] = "owner"
        elif who == "role":
            note["to"] = {"role": "sales"}
        else:
            note["to"] = {"user": (self.choices.users or [""])[0]}
        self.canvas.redraw()

    def _webhook(self) -> None:
        self._template(self._inner("webhook"), "webhook", "webhook-template")

    def _enroll(self) -> None:
        target = self._inner("enroll")
        current = str(target.get("journey") or "")
        own = self.canvas.model.key
        listed = [j for j in self.choices.journeys if j != own]
        ui.select(
            list(dict.fromkeys([*listed, *([current] if current else [])])),
            value=current or None,
            label=self.v._("Journey"),
            on_change=lambda e: self._set(target, "journey", e.value),
        ).props("dense").classes("w-64 lp-enroll-journey").mark(f"enroll-journey-{self.index}")

    def _exit(self) -> None:
        ui.label(self.v._("People leave the journey here.")).classes("text-grey-7")

    def _yaml(self) -> None:
        _ = self.v._
        ui.label(
            _("The builder has no fields for this step: edit it as YAML (it is kept as written).")
        ).classes("text-sm text-grey-7")

        def replaced(data: Any) -> None:
            if isinstance(data, dict) and data:
                self.step.clear()
                self.step.update(data)
                self.canvas.redraw()

        snippet_input(self.v, _("Step (YAML)"), self.step, replaced, "step-yaml")

    # -- arms ------------------------------------------------------------------------------

    def _branch(self) -> None:
        self._arms("branch")

    def _split(self) -> None:
        self._arms("split")

    def _arms(self, kind: str) -> None:
        _ = self.v._
        arms: list[dict[str, Any]] = self.step[kind]
        with ui.row().classes("w-full gap-2 items-stretch no-wrap overflow-x-auto"):
            for position, arm in enumerate(arms):
                with ui.column().classes("flex-1 min-w-72 border rounded p-2 gap-1 lp-arm"):
                    if kind == "branch":
                        self._branch_arm(arms, position, arm)
                    else:
                        self._split_arm(arm)
                    self._goto(arm)
                    with ui.row().classes("gap-1"):
                        with (
                            ui.button(_("Step in this arm"), icon="add")
                            .props("dense outline size=sm")
                            .classes(f"lp-add-in-arm-{position}"),
                            ui.menu(),
                        ):
                            for new in STEP_KINDS:
                                ui.menu_item(
                                    _(KIND_NAMES[new]),
                                    on_click=lambda p=position, k=new: self.canvas._structural(
                                        self.canvas.model.add_in_arm,
                                        self.index,
                                        p,
                                        k,
                                        self.choices.templates,
                                    ),
                                ).classes(f"lp-kind-{new}")
                        if len(arms) > (1 if kind == "branch" else 2):
                            ui.button(
                                icon="close", on_click=lambda p=position: self._drop_arm(arms, p)
                            ).props("flat dense round").tooltip(_("Remove the arm"))
        label = _("Add an arm") if kind == "branch" else _("Add a variant")
        ui.button(label, icon="add", on_click=lambda: self._add_arm(kind, arms)).props(
            "dense flat"
        ).classes(f"lp-add-arm-{kind}")

    def _branch_arm(self, arms: list[dict[str, Any]], position: int, arm: dict[str, Any]) -> None:
        _ = self.v._
        if "if" not in arm:
            ui.label(_("Otherwise (no arm above holds)")).classes("text-sm font-semibold")
            return

        def changed(data: Any) -> None:
            arm["if"] = data

        ConditionInput(
            self.v,
            _("If"),
            arm.get("if"),
            changed,
            self.choices,
            f"arm-{self.index}-{position}-if",
        )

    def _split_arm(self, arm: dict[str, Any]) -> None:
        _ = self.v._
        with ui.row().classes("items-end gap-2"):
            ui.input(
                _("Variant"),
                value=str(arm.get("variant") or ""),
                on_change=lambda e: self._set(arm, "variant", str(e.value or "").strip()),
            ).props("dense").classes("w-24 lp-variant")
            ui.number(
                _("Weight"),
                value=arm.get("weight"),
                on_change=lambda e: self._set(arm, "weight", _plain(e.value)),
            ).props("dense").classes("w-24 lp-weight")

    def _goto(self, arm: dict[str, Any]) -> None:
        options = self.canvas.later(self.index)
        current = str(arm.get("goto") or EXIT)
        ui.select(
            options | ({} if current in options else {current: current}),
            value=current,
            label=self.v._("Go to"),
            on_change=lambda e: self._set(arm, "goto", e.value),
        ).props("dense").classes("w-full lp-arm-goto")

    def _add_arm(self, kind: str, arms: list[dict[str, Any]]) -> None:
        onward = self.canvas.model.following(self.index) or EXIT
        if kind == "branch":
            fallback = 1 if arms and "if" not in arms[-1] else 0
            arms.insert(len(arms) - fallback, {"if": {"tag": "vip"}, "goto": onward})
        else:
            taken = {str(a.get("variant")) for a in arms}
            name = next(chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in taken)
            arms.append({"variant": name, "weight": 50, "goto": onward})
        self.canvas.redraw()

    def _drop_arm(self, arms: list[dict[str, Any]], position: int) -> None:
        del arms[position]
        self.canvas.redraw()


def _plain(value: Any) -> int | float | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _one_or_list(value: Any) -> str | list[str] | None:
    listed = words(value)
    if not listed:
        return None
    return listed[0] if len(listed) == 1 else listed
