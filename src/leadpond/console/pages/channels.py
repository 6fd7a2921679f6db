"""Channels: one card per channel with its provider, settings (secrets masked), caps and quiet
hours; for admins (who hold the provider accounts) an edit form validated as the CLI and the API
validate, and a test send."""

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import run, ui

from leadpond.channels import service
from leadpond.channels.models import Channel
from leadpond.channels.reads import channel_read
from leadpond.channels.schemas import ChannelRead
from leadpond.channels.senders.base import Outcome
from leadpond.channels.settings import set_channel
from leadpond.console.pages.channels_form import (
    ON_HOLD,
    ChannelForm,
    SettingsDocument,
    masked_value,
)
from leadpond.console.pages.channels_words import (
    CHANNEL_NAMES,
    PROVIDER_NAMES,
    SETTING_LABELS,
    TEST_RESULTS,
    local_when,
    word,
)
from leadpond.console.pages.errors_words import error_words
from leadpond.console.pages.frame import Visit, header, notify_error, visit
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.users.permissions import PROVIDERS_WRITE


def channels_page(request: Request) -> RedirectResponse | None:
    """Every channel of the workspace, configured or not."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        header(v, v._("Channels"), session)
        shown = [channel_read(session, v.actor.workspace_id, c.value) for c in Channel]
    if not v.may(PROVIDERS_WRITE):
        ui.label(
            v._(
                "Only admins change a channel's settings or send a test from here: "
                "they hold the provider accounts."
            )
        ).classes("text-gray-600").mark("admins-only").classes("lp-admins-only")
    for read in shown:
        ChannelCard(v, read)
    return None


class ChannelCard:
    """A channel's summary; for admins its form and a test send."""

    def __init__(self, v: Visit, shown: ChannelRead) -> None:
        self.v = v
        self.channel = shown.channel
        _ = v._
        with (
            ui.card()
            .classes("w-full")
            .mark(f"channel-{self.channel}")
            .classes(f"lp-channel-{self.channel}")
        ):
            ui.label(word(_, CHANNEL_NAMES, self.channel)).classes("text-xl")
            self.summary = ui.refreshable(self._summary)
            self.summary(shown)
            if v.may(PROVIDERS_WRITE):
                with (
                    ui.expansion(_("Edit settings"), icon="edit")
                    .classes("w-full")
                    .mark(f"edit-{self.channel}")
                    .classes(f"lp-edit-{self.channel}")
                ):
                    self.form = ChannelForm(_, shown)
                    ui.button(_("Save"), icon="save", on_click=self.save).mark(
                        f"save-{self.channel}"
                    ).classes(f"lp-save-{self.channel}")
                self._test_send()

    def _summary(self, shown: ChannelRead) -> None:
        _ = self.v._
        mark = self.channel
        with ui.row().classes("items-center gap-2"):
            if not shown.configured:
                ui.badge(_("not configured"), color="grey").mark(f"state-{mark}").classes(
                    f"lp-state-{mark}"
                )
                return
            state = _("enabled") if shown.enabled else _("switched off")
            ui.badge(state, color="positive" if shown.enabled else "warning").mark(
                f"state-{mark}"
            ).classes(f"lp-state-{mark}")
            ui.label(word(_, PROVIDER_NAMES, shown.provider)).mark(
                f"shown-provider-{mark}"
            ).classes(f"lp-shown-provider-{mark}")
            ui.label(f"{_('Changed')} {local_when(shown.updated_at, self.v.zone)}").classes(
                "text-gray-600"
            )
        with (
            ui.grid(columns=2)
            .classes("gap-x-6 gap-y-0")
            .mark(f"settings-{mark}")
            .classes(f"lp-settings-{mark}")
        ):
            for key, value in shown.settings.items():
                ui.label(_(SETTING_LABELS.get(key, key))).classes("text-gray-600")
                ui.label(masked_value(value)).mark(f"shown-{mark}-{key}").classes(
                    f"lp-shown-{mark}-{key}"
                )
        ui.label(limits_words(self.v, shown)).mark(f"limits-{mark}").classes(f"lp-limits-{mark}")

    async def save(self) -> None:
        """Validate and store the settings as ``PUT /api/v1/channels/{channel}`` does, if the
        role (now) allows it; on an error nothing is stored and the input is marked. The write
        runs off the event loop: on SQLite it may wait for the pipeline's transaction."""
        document = self.form.document()
        try:
            shown = await run.io_bound(_store, self.v, self.channel, document)
        except InvalidInput as exc:
            self.form.show_error(exc)
            return
        except LeadpondError as exc:
            notify_error(exc)
            return
        if shown is None:  # the app is shutting down
            return
        self.form.clear_errors()
        self.form.shown = shown
        self.form.draw_settings(dict(shown.settings))
        self.summary.refresh(shown)
        ui.notify(self.v._("Saved"), type="positive")

    def _test_send(self) -> None:
        _ = self.v._
        mark = self.channel
        with ui.row().classes("items-end gap-2 w-full"):
            self.address = (
                ui.input(_("Send a test to (address, mobile, openid, user id…)"))
                .classes("min-w-96")
                .mark(f"test-address-{mark}")
                .classes(f"lp-test-address-{mark}")
            )
            ui.button(_("Send a test"), icon="send", on_click=self.test_send).mark(
                f"test-send-{mark}"
            ).classes(f"lp-test-send-{mark}")
        self.answer = (
            ui.label()
            .classes("whitespace-pre-wrap")
            .mark(f"test-result-{mark}")
            .classes(f"lp-test-result-{mark}")
        )

    async def test_send(self) -> None:
        """One message now, past the outbox, as ``POST /api/v1/channels/{channel}:test`` sends
        it (off the event loop: the provider may take seconds); shows what the provider said."""
        _ = self.v._
        address = (self.address.value or "").strip()
        self.address.error = None if address else _("Type where the test should go.")
        if not address:
            return
        self.answer.text = _("Sending…")
        try:
            outcome = await run.io_bound(_send_test, self.v, self.channel, address)
        except LeadpondError as exc:
            self.answer.text = error_words(exc, _)
            notify_error(exc)
            return
        if outcome is None:  # the app is shutting down
            return
        self.answer.text = test_answer(self.v, outcome)


def _store(v: Visit, channel: str, document: SettingsDocument) -> ChannelRead:
    provider, settings, caps, quiet, enabled = document
    with unit_of_work() as session:
        ws = v.authorised(session, PROVIDERS_WRITE).workspace_id
        set_channel(session, ws, channel, provider, settings, caps, quiet, enabled)
        return channel_read(session, ws, channel)


def _send_test(v: Visit, channel: str, address: str) -> Outcome:
    with read_only() as session:
        actor = v.authorised(session, PROVIDERS_WRITE)
        return service.test_send(session, actor.workspace_id, channel, address)


def test_answer(v: Visit, outcome: Outcome) -> str:
    """The provider's answer to a test send, in words and as given."""
    _ = v._
    lines = [word(_, TEST_RESULTS, outcome.result.value)]
    if outcome.provider_id:
        lines.append(f"{_('Provider id')}: {outcome.provider_id}")
    if outcome.detail:
        lines.append(_("Provider answer: {answer}").format(answer=outcome.detail))
    return "\n".join(lines)


def limits_words(v: Visit, shown: ChannelRead) -> str:
    """The caps and quiet hours of a channel in one line."""
    _ = v._
    caps: dict[str, Any] = shown.caps or {}
    rules = [
        _("at most {max} in {days} days").format(max=r["max"], days=r["days"])
        for r in caps.get("marketing", [])
    ]
    said = [
        f"{_('Caps')}: {', '.join(rules)} ({_(ON_HOLD[caps.get('on_cap', 'wait')])})"
        if rules
        else f"{_('Caps')}: {_('none')}"
    ]
    quiet = shown.quiet_hours
    if quiet:
        start, end = str(quiet["start"])[:5], str(quiet["end"])[:5]
        window = f"{start}–{end} {quiet.get('time_zone', '')}".strip()
        said.append(f"{_('Quiet hours')}: {window} ({_(ON_HOLD[quiet.get('on_quiet', 'wait')])})")
    else:
        said.append(f"{_('Quiet hours')}: {_('none')}")
    return " · ".join(said)
