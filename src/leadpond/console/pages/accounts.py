"""Accounts: the list, and one account's buying committee, engagement and score."""

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console import accounts_view
from leadpond.console.pages.frame import header, notify_error, visit, when
from leadpond.console.pages.people import NAME_CELL, people_columns, person_rows
from leadpond.console.stages import stages
from leadpond.db.engine import read_only
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError
from leadpond.rules import reads

PAGE_SIZE = 50


def accounts_page(request: Request) -> RedirectResponse | None:
    """Every account, or those matching a company name."""
    v = visit(request)
    if isinstance(v, RedirectResponse):
        return v
    _ = v._
    header(v, _("Accounts"))
    state = {"offset": 0}
    with ui.row().classes("items-end gap-3"):
        name = ui.input(_("Company name")).props("clearable").classes("w-80").mark("company")
        ui.button(_("Search"), icon="search", on_click=lambda: run(0))
    summary = ui.label()
    columns = [
        {"name": key, "label": label, "field": key, "align": "left"}
        for key, label in (
            ("name", _("Company")),
            ("domain", _("Domain")),
            ("industry", _("Industry")),
            ("people", _("People")),
            ("last_seen_at", _("Last seen")),
        )
    ]
    table = ui.table(columns=columns, rows=[], row_key="id").classes("w-full")
    table.props("flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'")
    table.add_slot("body-cell-name", NAME_CELL)
    table.mark("accounts-table")
    with ui.row():
        ui.button(icon="chevron_left", on_click=lambda: run(state["offset"] - PAGE_SIZE))
        ui.button(icon="chevron_right", on_click=lambda: run(state["offset"] + PAGE_SIZE))

    def run(offset: int) -> None:
        state["offset"] = max(offset, 0)
        try:
            with read_only() as session:
                total, rows = accounts_view.list_accounts(
                    session,
                    v.actor.workspace_id,
                    name=name.value or None,
                    limit=PAGE_SIZE,
                    offset=state["offset"],
                )
        except LeadpondError as exc:
            notify_error(exc)
            return
        table.rows = [
            {
                "id": r.id,
                "href": v.href(f"/accounts/{r.id}"),
                "name": r.name,
                "domain": r.domain or "",
                "industry": r.industry or "",
                "people": r.people,
                "last_seen_at": when(r.last_seen_at),
            }
            for r in rows
        ]
        table.update()
        summary.text = _("{total} accounts").format(total=f"{total:,}")

    name.on("keydown.enter", lambda: run(0))
    run(0)
    return None


def account_page(request: Request, account_id: int) -> RedirectResponse | None:
    """One account: people by decision-chain role, committee coverage, engagement, score."""
    v = visit(request)
    if isinstance(v, RedirectResponse):
        return v
    _ = v._
    ws = v.actor.workspace_id
    try:
        with read_only() as session:
            found = accounts_view.overview(session, ws, account_id, utcnow().date())
            score = reads.account_scores(session, ws, account_id)
            labels = dict(stages(session, ws))
    except LeadpondError as exc:
        header(v, _("Account"))
        ui.label(exc.message).classes("text-negative").mark("not-found")
        return None
    header(v, found.account.name)
    with ui.row().classes("gap-6 text-gray-700"):
        ui.label(f"{_('Domain')}: {found.account.domain or '–'}")
        ui.label(f"{_('Industry')}: {found.account.industry or '–'}")
        ui.label(f"{_('People')}: {score['people']}")
        for model, points in score["scores"].items():
            ui.label(f"{_('Score')} {model}: {points:g}").mark("account-score")
    with ui.card().classes("w-full"):
        ui.label(
            _("Buying committee coverage: {ratio}").format(ratio=f"{found.coverage_ratio:.0%}")
        ).classes("text-lg").mark("coverage")
        with ui.row():
            for role, count in found.coverage.items():
                color = "positive" if count else "grey"
                ui.badge(f"{_(role)}: {count}", color=color)
    with ui.card().classes("w-full"):
        ui.label(_("Engagement by week")).classes("text-lg")
        ui.echart(
            {
                "tooltip": {"trigger": "axis"},
                "xAxis": {"type": "category", "data": [w for w, _n in found.engagement]},
                "yAxis": {"type": "value"},
                "series": [
                    {"type": "line", "areaStyle": {}, "data": [n for _w, n in found.engagement]}
                ],
            }
        ).classes("h-64 w-full").mark("engagement")
    for role, rows in sorted(found.people_by_role.items()):
        ui.label(f"{_(role)} ({len(rows)})").classes("text-lg")
        table = ui.table(columns=people_columns(v), rows=person_rows(v, rows, labels))
        table.props("flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'")
        table.add_slot("body-cell-name", NAME_CELL)
        table.classes("w-full").mark(f"role-{role}")
    return None
