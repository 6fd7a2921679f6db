"""Workspace settings: its name and time zone, its keys (issued once, revoked), and the code a
developer pastes to send events here — with the write key just made filled in."""

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import (
    DENSE_TABLE,
    Visit,
    header,
    notify_error,
    visit,
    when,
    zone_label,
)
from leadpond.console.pages.members import members_card
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.users.permissions import MEMBERS_READ, MEMBERS_WRITE, WORKSPACE_WRITE
from leadpond.workspaces import service
from leadpond.workspaces.service import KeyKind

KEY_KINDS = {"write": "Write key (SDKs)", "api": "API key (REST API)"}
WRITE_KEY_PLACEHOLDER = "wk_…"


def snippets(host: str, write_key: str) -> dict[str, str]:
    """The code that sends this workspace's events, for the browser (analytics-next from npm,
    its settings read from this server) and for a Python back end."""
    return {
        "browser": (
            "// npm install @segment/analytics-next\n"
            'import { AnalyticsBrowser } from "@segment/analytics-next";\n\n'
            "export const analytics = AnalyticsBrowser.load({\n"
            f'  writeKey: "{write_key}",\n'
            f'  cdnURL: "{host}",\n'
            "});\n"
            "analytics.page();\n"
            'analytics.identify("u-1001", { name: "李雷", phone: "13912345678" });\n'
        ),
        "python": (
            "# pip install segment-analytics-python\n"
            "import segment.analytics as analytics\n\n"
            f'analytics.write_key = "{write_key}"\n'
            f'analytics.host = "{host}"\n'
            'analytics.track("u-1001", "Trial Requested", {"product": "graph-db"})\n'
            "analytics.flush()\n"
        ),
    }


def settings_page(request: Request) -> RedirectResponse | None:
    """The workspace's settings, its keys and the tracking code."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Settings"), session)
        host = str(request.base_url).rstrip("/")
        _workspace_card(v, session)
        snippet = _snippet_card(v, host)
        if v.may(MEMBERS_READ):
            _keys_card(v, session, snippet)
            members_card(v, session)
    return None


def _workspace_card(v: Visit, session: Session) -> None:
    _ = v._
    workspace = service.get_workspace(session, v.actor.workspace_id)
    editable = v.may(WORKSPACE_WRITE)
    with ui.card().classes("w-full max-w-3xl"):
        ui.label(_("Workspace")).classes("text-lg font-semibold")
        name = (
            ui.input(_("Workspace name"), value=workspace.name)
            .classes("w-full max-w-sm")
            .mark("workspace-name")
        )
        zone = (
            ui.select(
                list(service.time_zones()),
                value=workspace.time_zone,
                label=_("Time zone"),
                with_input=True,
            )
            .classes("w-full max-w-sm")
            .mark("time-zone")
        )
        ui.label(
            _("Every time in the console is shown and entered in this zone: now {zone}.").format(
                zone=zone_label(v.zone)
            )
        ).classes("text-sm text-gray-600")
        if not editable:
            name.disable()
            zone.disable()
            return

        def save() -> None:
            try:
                with unit_of_work() as writing:
                    ws = v.authorised(writing, WORKSPACE_WRITE).workspace_id
                    service.update_workspace(
                        writing, ws, name=str(name.value or ""), time_zone=str(zone.value or "")
                    )
            except LeadpondError as exc:
                notify_error(exc)
                return
            ui.notify(_("Saved"), type="positive")
            ui.navigate.reload()

        ui.button(_("Save"), icon="save", on_click=save).mark("save-workspace")


class Snippet:
    """The tracking code, its write key filled in once one is made on this page."""

    def __init__(self, v: Visit, host: str) -> None:
        self.host = host
        self.code: dict[str, ui.code] = {}
        _ = v._
        with ui.card().classes("w-full max-w-3xl"):
            ui.label(_("Send events")).classes("text-lg font-semibold")
            ui.label(
                _(
                    "Paste this code where your site or back end runs. The write key is shown "
                    "only when it is made: make one below if you have not kept yours."
                )
            ).classes("text-sm text-gray-600")
            shown = snippets(host, WRITE_KEY_PLACEHOLDER)
            with ui.tabs() as tabs:
                browser = ui.tab(_("Website (JavaScript)"))
                python = ui.tab(_("Back end (Python)"))
            with ui.tab_panels(tabs, value=browser).classes("w-full"):
                with ui.tab_panel(browser):
                    self.code["browser"] = ui.code(shown["browser"], language="javascript").mark(
                        "snippet-browser"
                    )
                with ui.tab_panel(python):
                    self.code["python"] = ui.code(shown["python"], language="python").mark(
                        "snippet-python"
                    )

    def fill(self, write_key: str) -> None:
        for kind, text in snippets(self.host, write_key).items():
            self.code[kind].set_content(text)


def _snippet_card(v: Visit, host: str) -> Snippet:
    return Snippet(v, host)


def _key_rows(v: Visit, session: Session) -> list[dict[str, Any]]:
    _ = v._
    return [
        {
            "id": k.id,
            "kind": _(KEY_KINDS.get(k.kind, k.kind)),
            "name": k.name,
            "prefix": f"{k.prefix}…",
            "created_at": when(k.created_at, v.zone),
            "revoked_at": when(k.revoked_at, v.zone) if k.revoked_at else "",
            "live": k.revoked_at is None,
        }
        for k in service.list_keys(session, v.actor.workspace_id)
    ]


def _keys_card(v: Visit, session: Session, snippet: Snippet) -> None:
    _ = v._
    with ui.card().classes("w-full max-w-3xl"):
        ui.label(_("Keys")).classes("text-lg font-semibold")
        columns = [
            {"name": k, "label": label, "field": k, "align": "left"}
            # A key's first characters are shown as code (a key, not words).
            | ({"classes": "lp-code"} if k == "prefix" else {})
            for k, label in (
                ("kind", _("Kind")),
                ("name", _("Key name")),
                ("prefix", _("Starts with")),
                ("created_at", _("Made")),
                ("revoked_at", _("Revoked")),
                ("action", ""),
            )
        ]
        table = ui.table(columns=columns, rows=_key_rows(v, session), row_key="id")
        table.props(DENSE_TABLE).classes("w-full").mark("keys-table")
        if not v.may(MEMBERS_WRITE):
            return
        table.add_slot(
            "body-cell-action",
            '<q-td :props="props"><q-btn v-if="props.row.live" dense flat color="negative" '
            f'icon="block" label="{_("Revoke")}" '
            "@click=\"$parent.$emit('revoke', props.row)\" /></q-td>",
        )
        shown = ui.label().classes("font-mono text-positive break-all").mark("new-key")

        def refresh() -> None:
            with read_only() as reading:
                table.rows = _key_rows(v, reading)
            table.update()

        def revoke(row: dict[str, Any]) -> None:
            try:
                with unit_of_work() as writing:
                    ws = v.authorised(writing, MEMBERS_WRITE).workspace_id
                    service.revoke_key(writing, ws, int(row["id"]))
            except LeadpondError as exc:
                notify_error(exc)
                return
            ui.notify(_("Revoked"), type="warning")
            refresh()

        def issue(kind: str) -> None:
            try:
                with unit_of_work() as writing:
                    ws = v.authorised(writing, MEMBERS_WRITE).workspace_id
                    _made, secret = service.issue_credential(writing, ws, KeyKind(kind), "console")
            except LeadpondError as exc:
                notify_error(exc)
                return
            shown.text = _("Copy it now, it is not shown again: {secret}").format(secret=secret)
            if kind == KeyKind.WRITE:
                snippet.fill(secret)
            refresh()

        table.on("revoke", lambda e: revoke(e.args))
        with ui.row().classes("gap-2"):
            ui.button(
                _("New write key"), icon="add", on_click=lambda: issue(KeyKind.WRITE.value)
            ).mark("new-write-key")
            ui.button(_("New API key"), icon="add", on_click=lambda: issue(KeyKind.API.value)).mark(
                "new-api-key"
            )
