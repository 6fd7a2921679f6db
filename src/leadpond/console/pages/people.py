"""The people directory page: search, filter (tag, stage, persona), sort, page in the database."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from leadpond.console.pages.frame import DENSE_TABLE, Visit, header, notify_error, visit, when
from leadpond.db.engine import read_only
from leadpond.kit.errors import LeadpondError
from leadpond.kit.pagination import PageQuery
from leadpond.reports import directory, people_search
from leadpond.rules import vocabulary
from leadpond.rules.vocabulary import Labels

PAGE_SIZE = 50
NAME_CELL = (
    '<q-td :props="props" :title="props.value"><a :href="props.row.href" class="text-primary">'
    "{{ props.value }}</a></q-td>"
)


# Share of the table's width per column: the table takes the window's width (fixed layout) and a
# cell too long for its column ends in an ellipsis, its full text in the cell's tooltip.
COLUMN_WIDTHS = {
    "name": 10,
    "email": 14,
    "phone": 10,
    "company": 13,
    "title": 10,
    "stage": 6,
    "tags": 11,
    "scores": 10,
    "event_count": 5,
    "last_seen_at": 11,
}
# On a phone (narrower than 600 px) the table keeps these; the person's page has the rest.
PHONE_COLUMNS = {"name", "phone", "company", "stage"}
FITTED_CELL = '<q-td :props="props" :title="props.value">{{ props.value }}</q-td>'
FIT_CSS = """
.lp-fit table { table-layout: fixed; width: 100%; }
.lp-fit th, .lp-fit td { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
@media (max-width: 599.98px) { .lp-fit .lp-wide-only { display: none; } }
"""


def people_columns(v: Visit) -> list[dict[str, Any]]:
    _ = v._
    names = (
        ("name", "Name"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("company", "Company"),
        ("title", "Title"),
        ("stage", "Stage"),
        ("tags", "Tags"),
        ("scores", "Scores"),
        ("event_count", "Events"),
        ("last_seen_at", "Last seen"),
    )
    columns = []
    for key, label in names:
        column = {
            "name": key,
            "label": _(label),
            "field": key,
            "align": "left",
            "headerStyle": f"width: {COLUMN_WIDTHS[key]}%",
        }
        if key not in PHONE_COLUMNS:
            column |= {"classes": "lp-wide-only", "headerClasses": "lp-wide-only"}
        columns.append(column)
    return columns


def people_table(v: Visit, rows: list[dict[str, Any]]) -> ui.table:
    """The directory's table (also the account page's): as wide as the window, no wider."""
    ui.add_css(FIT_CSS)
    table = ui.table(columns=people_columns(v), rows=rows, row_key="id").classes("w-full lp-fit")
    table.props(DENSE_TABLE)
    table.add_slot("body-cell", FITTED_CELL)
    table.add_slot("body-cell-name", NAME_CELL)
    return table


def person_rows(v: Visit, rows: list[directory.PersonRow], labels: Labels) -> list[dict[str, Any]]:
    """Table rows for directory rows (shared with the account page)."""
    return [
        {
            "id": r.id,
            "href": v.href(f"/people/{r.id}"),
            "name": r.name or f"#{r.id}",
            "email": r.email or "",
            "phone": r.phone or "",
            "company": r.company or "",
            "title": r.title or "",
            "stage": labels.stage(r.stage) if r.stage else "",
            "tags": ", ".join(labels.tag(t) for t in r.tags[:4])
            + (" …" if len(r.tags) > 4 else ""),
            "scores": " ".join(f"{labels.score(m)} {p:g}" for m, p in sorted(r.scores.items())),
            "event_count": r.event_count,
            "last_seen_at": when(r.last_seen_at, v.zone),
        }
        for r in rows
    ]


@dataclass
class Filters:
    """The directory's search inputs."""

    search: ui.input
    tag: ui.input
    stage: ui.select
    persona: ui.select
    sort: ui.select
    known: ui.switch

    def query(self) -> directory.PeopleQuery:
        """What the inputs ask for now."""
        return directory.PeopleQuery(
            q=self.search.value or None,
            tag=self.tag.value or None,
            stage=self.stage.value or None,
            persona=self.persona.value or None,
            sort=str(self.sort.value),
            known=bool(self.known.value),
        )


def _filters(v: Visit, labels: dict[str, str], persona_names: dict[str, str]) -> Filters:
    """The row of search inputs (the search button is added by the page)."""
    _ = v._
    sorts = {
        "-last_seen": _("Recently active"),
        "last_seen": _("Least recently active"),
        "-events": _("Most events"),
        "name": _("Name"),
        "-id": _("Newest"),
        "id": _("Oldest"),
    }
    search = ui.input(_("Name, email, phone or company")).props("clearable")
    search.classes("w-80 lp-search").mark("search")
    tag = ui.input(_("Tag")).props("clearable").classes("w-40").mark("tag")
    stage = ui.select({"": _("Any stage"), **labels}, value="", label=_("Stage"))
    stage.classes("w-40").mark("stage")
    persona = ui.select({"": _("Any persona"), **persona_names}, value="", label=_("Persona"))
    persona.classes("w-40").mark("persona")
    sort = ui.select(sorts, value="-last_seen", label=_("Sort")).classes("w-48").mark("sort")
    known = ui.switch(_("Known contacts only"), value=True).mark("known-only")
    known.tooltip(_("People with a name, email or phone; off: anonymous visitors too"))
    return Filters(search, tag, stage, persona, sort, known)


def _inside_names_note(v: Visit, q: str | None) -> str:
    """How a Chinese search finds names, in the marketer's words (docs/console.md has the
    cost: no index answers it, and it counts at most ``NAME_INSIDE_LIMIT`` such matches)."""
    if not people_search.searches_inside_names(q or ""):
        return ""
    return v._("Chinese names are also found by any part of them (伟 finds 张伟).")


def people_page(request: Request) -> RedirectResponse | None:
    """Find anyone in the workspace."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _directory(v, session)
    return None


def _directory(v: Visit, session: Session) -> None:
    """The page, drawn with the first page of results from the page's transaction."""
    _ = v._
    header(v, _("People"), session)
    labels = vocabulary.labels(session, v.actor.workspace_id, v.actor.locale)
    with ui.row().classes("items-end gap-3 w-full"):
        filters = _filters(v, labels.stages, labels.personas)
        ui.button(_("Search"), icon="search", on_click=lambda: run(0)).mark("run-search")
    summary = ui.label().classes("lp-total").mark("total")
    inside = ui.label().classes("text-sm text-gray-600").mark("inside-names")
    table = people_table(v, [])
    table.mark("people-table")
    shown = {"offset": 0}
    with ui.row().classes("items-center gap-2"):
        back = ui.button(icon="chevron_left", on_click=lambda: run(shown["offset"] - PAGE_SIZE))
        forward = ui.button(icon="chevron_right", on_click=lambda: run(shown["offset"] + PAGE_SIZE))
        back.mark("previous")
        forward.mark("next")

    def show(reading: Session, offset: int) -> None:
        query, page = filters.query(), PageQuery(limit=PAGE_SIZE, offset=max(offset, 0))
        try:
            found = directory.search_people(reading, v.actor.workspace_id, query, page)
        except LeadpondError as exc:
            notify_error(exc)
            return
        shown["offset"] = page.offset
        rows, total = found.items, found.total
        table.rows = person_rows(v, rows, labels)
        table.update()
        listed = f"{page.offset + 1}–{page.offset + len(rows)}" if rows else "0"
        # Past directory.COUNT_LIMIT matches of a filter the count stops: "more than 10,000".
        said = (
            _("{shown} of {total} people")
            if found.total_exact
            else _("{shown} of more than {total} people")
        )
        summary.text = said.format(shown=listed, total=f"{total:,}")
        inside.text = _inside_names_note(v, query.q)
        back.set_enabled(page.offset > 0)
        forward.set_enabled(page.offset + len(rows) < total or not found.total_exact)

    def run(offset: int) -> None:
        with read_only() as reading:
            show(reading, offset)

    filters.search.on("keydown.enter", lambda: run(0))
    filters.tag.on("keydown.enter", lambda: run(0))
    for picker in (filters.stage, filters.persona, filters.sort, filters.known):
        picker.on_value_change(lambda: run(0))
    show(session, 0)
