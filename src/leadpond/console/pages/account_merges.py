"""An account's merges and aliases: fold another account in, undo a merge, add another name."""

import uuid
from collections.abc import Callable

from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.accounts import directory, merges
from leadpond.console.pages.frame import Visit, notify_error, when
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.users.permissions import ACCOUNTS_WRITE


def merge_panel(v: Visit, account_id: int) -> None:
    """The card under an account: its aliases and merge history, and the actions on them."""
    _ = v._
    with ui.card().classes("w-full lp-account-merges").mark("account-merges"):
        ui.label(_("Names and merges")).classes("text-lg")
        history = ui.column().classes("gap-1")
        if v.may(ACCOUNTS_WRITE):
            with ui.row().classes("items-end gap-3"):
                alias = ui.input(_("Another name (e.g. the English one)")).classes("w-80")
                alias.mark("alias-input")
                ui.button(_("Add name"), on_click=lambda: add_alias()).mark("add-alias")
            with ui.row().classes("items-end gap-3"):
                other = ui.number(_("Account number to merge into this one"), format="%d")
                other.classes("w-80").mark("merge-input")
                ui.button(_("Merge"), on_click=lambda: merge()).mark("merge-account")

    def draw() -> None:
        with read_only() as session:
            keys = directory.keys_of(session, v.actor.workspace_id, account_id)
            found = merges.account_merges(session, v.actor.workspace_id, account_id)
        history.clear()
        with history:
            names = sorted({k.value for k in keys if k.kind in ("name", "alias")})
            ui.label(_("Known names: {names}").format(names=", ".join(names))).mark("names")
            for record in found:
                with ui.row().classes("items-center gap-3").mark(f"merge-{record.id}"):
                    name = record.snapshot.get("account", {}).get("name", "")
                    text = _("{name} (#{id}) merged by {actor} at {at}").format(
                        name=name,
                        id=record.merged_id,
                        actor=record.actor,
                        at=when(record.created_at, v.zone),
                    )
                    ui.label(text)
                    if record.undone_at is not None:
                        ui.badge(_("undone"), color="grey")
                    elif v.may(ACCOUNTS_WRITE) and record.survivor_id == account_id:
                        ui.button(_("Undo"), on_click=lambda r=record.id: undo(r)).props(
                            "flat"
                        ).mark("undo-merge")

    def act(step: str, run: Callable[[Session, uuid.UUID, str], object]) -> None:
        try:
            with unit_of_work() as session:
                actor = v.authorised(session, ACCOUNTS_WRITE)
                run(session, actor.workspace_id, f"console:{actor.role}")
        except LeadpondError as exc:
            notify_error(exc)
            return
        ui.notify(step, type="positive")
        draw()

    def add_alias() -> None:
        act(
            _("Name added"),
            lambda s, ws, _a: directory.add_alias(s, ws, account_id, alias.value or ""),
        )

    def merge() -> None:
        merged = int(other.value or 0)
        act(
            _("Accounts merged"),
            lambda s, ws, who: merges.merge_accounts(s, ws, account_id, merged, actor=who),
        )

    def undo(merge_id: int) -> None:
        act(
            _("Merge undone"),
            lambda s, ws, who: merges.unmerge_accounts(s, ws, merge_id, actor=who),
        )

    draw()
