"""The people directory page: search, filter (tag, stage, persona), sort, page in the database."""

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console import directory
from leadpond.console.pages.frame import Visit, header, notify_error, visit, when
from leadpond.console.stages import personas, stages
from leadpond.db.engine import read_only
from leadpond.kit.errors import LeadpondError

PAGE_SIZE = 50
NAME_CELL = (
    '<q-td :props="props"><a :href="props.row.href" class="text-primary">'
    "{{ props.value }}</a></q-td>"
)


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
    return [{"name": key, "label": _(label), "field": key, "align": "left"} for key, label in names]


def person_rows(
    v: Visit, rows: list[directory.PersonRow], labels: dict[str, str]
) -> list[dict[str, Any]]:
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
            "stage": labels.get(r.stage or "", r.stage or ""),
            "tags": ", ".join(r.tags[:4]) + (" …" if len(r.tags) > 4 else ""),
            "scores": " ".join(f"{m}:{p:g}" for m, p in sorted(r.scores.items())),
            "event_count": r.event_count,
            "last_seen_at": when(r.last_seen_at),
        }
        for r in rows
    ]


def people_page(request: Request) -> RedirectResponse | None:
    """Find anyone in the workspace."""
    v = visit(request)
    if isinstance(v, RedirectResponse):
        return v
    _ = v._
    header(v, _("People"))
    with read_only() as session:
        labels = dict(stages(session, v.actor.workspace_id))
        persona_names = dict(personas(session, v.actor.workspace_id))
    query = directory.PeopleQuery(limit=PAGE_SIZE)
    sorts = {
        "-last_seen": _("Recently active"),
        "last_seen": _("Least recently active"),
        "-events": _("Most events"),
        "name": _("Name"),
        "-id": _("Newest"),
        "id": _("Oldest"),
    }
    with ui.row().classes("items-end gap-3 w-full"):
        search = (
            ui.input(_("Name, email, phone or company"))
            .props("clearable")
            .classes("w-80 lp-search")
            .mark("search")
        )
        tag = ui.input(_("Tag")).props("clearable").classes("w-40").mark("tag")
        stage = (
            ui.select({"": _("Any stage"), **labels}, value="", label=_("Stage"))
            .classes("w-40")
            .mark("stage")
        )
        persona = (
            ui.select({"": _("Any persona"), **persona_names}, value="", label=_("Persona"))
            .classes("w-40")
            .mark("persona")
        )
        sort = ui.select(sorts, value=query.sort, label=_("Sort")).classes("w-48").mark("sort")
        ui.button(_("Search"), icon="search", on_click=lambda: run(0)).mark("run-search")
    summary = ui.label().classes("lp-total").mark("total")
    inside = ui.label().classes("text-sm text-gray-600").mark("inside-names")
    table = ui.table(columns=people_columns(v), rows=[], row_key="id").classes("w-full")
    table.props("flat bordered dense hide-pagination :pagination='{rowsPerPage: 0}'")
    table.add_slot("body-cell-name", NAME_CELL)
    table.mark("people-table")
    with ui.row().classes("items-center gap-2"):
        back = ui.button(icon="chevron_left", on_click=lambda: run(query.offset - PAGE_SIZE))
        forward = ui.button(icon="chevron_right", on_click=lambda: run(query.offset + PAGE_SIZE))
        back.mark("previous")
        forward.mark("next")

    def run(offset: int) -> None:
        query.q, query.tag = search.value or None, tag.value or None
        query.stage, query.persona = stage.value or None, persona.value or None
        query.sort = str(sort.value)
        query.offset = max(offset, 0)
        try:
            with read_only() as session:
                total, rows = directory.search_people(session, v.actor.workspace_id, query)
        except LeadpondError as exc:
            notify_error(exc)
            return
        table.rows = person_rows(v, rows, labels)
        table.update()
        shown = f"{query.offset + 1}–{query.offset + len(rows)}" if rows else "0"
        summary.text = _("{shown} of {total} people").format(shown=shown, total=f"{total:,}")
        inside.text = (
            _(
                "Chinese names are also searched inside (伟 finds 张伟): this reads names without "
                "an index, may take a second at a million people, and counts at most {limit} "
                "such matches."
            ).format(limit=f"{directory.NAME_INSIDE_LIMIT:,}")
            if directory.searches_inside_names(query.q or "")
            else ""
        )
        back.set_enabled(query.offset > 0)
        forward.set_enabled(query.offset + len(rows) < total)

    search.on("keydown.enter", lambda: run(0))
    tag.on("keydown.enter", lambda: run(0))
    stage.on_value_change(lambda: run(0))
    persona.on_value_change(lambda: run(0))
    sort.on_value_change(lambda: run(0))
    run(0)
    return None
