"""Accounts: the list, and one account's buying committee, engagement and score."""

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.accounts import overview
from leadpond.console.pages.account_merges import merge_panel
from leadpond.console.pages.frame import DENSE_TABLE, Visit, header, notify_error, visit, when
from leadpond.console.pages.people import NAME_CELL, people_table, person_rows
from leadpond.console.pages.words import ACCOUNT_ROLES, said
from leadpond.db.engine import read_only
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError
from leadpond.kit.pagination import PageQuery
from leadpond.reports.directory import PersonRow, people_by_role
from leadpond.rules import reads, vocabulary
from leadpond.rules.vocabulary import Labels

PAGE_SIZE = 50


def accounts_page(request: Request) -> RedirectResponse | None:
    """Every account, or those matching a company name."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _account_list(v, session)
    return None


def _account_rows(v: Visit, rows: list[overview.AccountRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "href": v.href(f"/accounts/{r.id}"),
            "name": r.name,
            "domain": r.domain or "",
            "industry": r.industry or "",
            "people": r.people,
            "last_seen_at": when(r.last_seen_at, v.zone),
        }
        for r in rows
    ]


def _account_list(v: Visit, session: Session) -> None:
    """The page, drawn with the first page of accounts from the page's transaction."""
    _ = v._
    header(v, _("Accounts"), session)
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
    table.props(DENSE_TABLE)
    table.add_slot("body-cell-name", NAME_CELL)
    table.mark("accounts-table")
    with ui.row():
        ui.button(icon="chevron_left", on_click=lambda: run(state["offset"] - PAGE_SIZE))
        ui.button(icon="chevron_right", on_click=lambda: run(state["offset"] + PAGE_SIZE))

    def show(reading: Session, offset: int) -> None:
        state["offset"] = max(offset, 0)
        page = PageQuery(limit=PAGE_SIZE, offset=state["offset"])
        try:
            total, rows = overview.list_accounts(
                reading, v.actor.workspace_id, name=name.value or None, page=page
            )
        except LeadpondError as exc:
            notify_error(exc)
            return
        table.rows = _account_rows(v, rows)
        table.update()
        summary.text = _("{total} accounts").format(total=f"{total:,}")

    def run(offset: int) -> None:
        with read_only() as reading:
            show(reading, offset)

    name.on("keydown.enter", lambda: run(0))
    show(session, 0)


def account_page(request: Request, account_id: int) -> RedirectResponse | None:
    """One account: people by decision-chain role, committee coverage, engagement, score."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        ws = v.actor.workspace_id
        try:
            found = overview.overview(session, ws, account_id, utcnow().date())
            score = reads.account_scores(session, ws, account_id)
            labels = vocabulary.labels(session, ws, v.actor.locale)
            by_role = people_by_role(session, ws, found.links_by_role)
        except LeadpondError as exc:
            header(v, _("Account"), session)
            missing = _("No such account in this workspace (#{id}).").format(id=account_id)
            said = missing if exc.status_code == 404 else _(exc.message)
            ui.label(said).classes("text-negative").mark("not-found")
            return None
        header(v, found.account.name, session)
    _account_summary(v, found, score, labels)
    _committee(v, found)
    _engagement(v, found)
    _people_tables(v, by_role, found.people_by_role, labels)
    merge_panel(v, account_id)
    return None


def _account_summary(
    v: Visit, found: overview.AccountOverview, score: dict[str, Any], labels: Labels
) -> None:
    _ = v._
    with ui.row().classes("gap-6 text-gray-700"):
        ui.label(f"{_('Domain')}: {found.account.domain or '–'}")
        ui.label(f"{_('Industry')}: {found.account.industry or '–'}")
        ui.label(f"{_('People')}: {score['people']}")
        for model, points in score["scores"].items():
            ui.label(f"{labels.score(model)}: {points:g}").mark("account-score")


def _committee(v: Visit, found: overview.AccountOverview) -> None:
    _ = v._
    with ui.card().classes("w-full"):
        ui.label(
            _("Buying committee coverage: {ratio}").format(ratio=f"{found.coverage_ratio:.0%}")
        ).classes("text-lg").mark("coverage")
        with ui.row():
            for role, count in found.coverage.items():
                color = "positive" if count else "grey"
                ui.badge(f"{said(_, ACCOUNT_ROLES, role)}: {count}", color=color)


def _engagement(v: Visit, found: overview.AccountOverview) -> None:
    _ = v._
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


def _people_tables(
    v: Visit, by_role: dict[str, list[PersonRow]], counts: dict[str, int], labels: Labels
) -> None:
    """Each role's first people; a role with more links to the directory for the rest."""
    _ = v._
    for role, rows in sorted(by_role.items()):
        total = max(counts.get(role, 0), len(rows))
        ui.label(f"{said(_, ACCOUNT_ROLES, role)} ({total:,})").classes("text-lg")
        people_table(v, person_rows(v, rows, labels)).mark(f"role-{role}")
        if total > len(rows):
            ui.label(
                _("The first {shown} of {total}: the people directory lists them all.").format(
                    shown=len(rows), total=f"{total:,}"
                )
            ).classes("text-sm text-gray-600").mark(f"role-{role}-more")
