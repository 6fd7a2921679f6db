"""The content pool in the console: the library (filters stage × type × topic), the coverage
matrix (where content is missing: each cell opens the filtered library), the author ranking;
the editor with the upload and the per-group links are in ``content_item``."""

from html import escape
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from leadpond.console.pages.channels_words import local_when
from leadpond.console.pages.frame import Visit, header, linked_table, visit
from leadpond.content import analytics, service
from leadpond.content.taxonomy import Taxonomy, taxonomy
from leadpond.db.engine import read_only
from leadpond.kit.pagination import PageQuery
from leadpond.rules import vocabulary
from leadpond.rules.vocabulary import stages
from leadpond.users.permissions import CONTENT_WRITE

LIST_PAGE = 200
STATUS_NAMES = {"draft": "Draft", "published": "Published", "archived": "Archived"}


def type_names(tax: Taxonomy, locale: str) -> dict[str, str]:
    """Each type's name in the console's language."""
    lang = "en" if locale == "en" else "zh"
    return {key: tax.type_name(key, lang) for key in tax.type_keys()}


def content_nav(v: Visit) -> None:
    """Links between the content pages."""
    _ = v._
    with ui.row().classes("gap-4"):
        ui.link(_("Library"), "/content").mark("content-library-link")
        ui.link(_("Coverage"), "/content/coverage").mark("content-coverage-link")
        ui.link(_("Authors"), "/content/authors").mark("content-authors-link")
        if v.may(CONTENT_WRITE):
            ui.button(
                _("New item"), icon="add", on_click=lambda: ui.navigate.to("/content/new")
            ).mark("content-new")


def content_page(
    request: Request, stage: str = "", type: str = "", topic: str = ""
) -> RedirectResponse | None:
    """The library: every item, filtered by stage × type × topic."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _, ws = v._, v.actor.workspace_id
        header(v, _("Content"), session)
        query = service.LibraryQuery(stage=stage or None, type=type or None, topic=topic or None)
        total, listed = service.library(session, ws, query, PageQuery(limit=LIST_PAGE))
        stage_names = dict(stages(session, ws, v.actor.locale))
        names = type_names(taxonomy(session, ws), v.actor.locale)
        topics = service.topics(session, ws)
        labels = vocabulary.labels(session, ws, v.actor.locale)
    content_nav(v)
    chosen = {"stage": stage, "type": type, "topic": topic}

    def refilter(name: str, value: Any) -> None:
        chosen[name] = str(value or "")
        ui.navigate.to("/content?" + urlencode({k: x for k, x in chosen.items() if x}))

    with ui.row().classes("gap-4 items-end"):
        for name, label, options in (
            ("stage", _("Stage"), stage_names),
            ("type", _("Type"), names),
            ("topic", _("Topic"), {t: labels.value(t) for t in topics}),
        ):
            ui.select(
                {"": _("All"), **options},
                value=chosen[name] if chosen[name] in options else "",
                label=label,
                on_change=lambda e, n=name: refilter(n, e.value),
            ).classes("min-w-40").mark(f"content-filter-{name}")
    ui.label(_("{total} items").format(total=total)).mark("content-total")
    columns = (
        ("title", _("Content title")),
        ("type", _("Type")),
        ("stages", _("Stages")),
        ("topics", _("Topics")),
        ("author", _("Author")),
        ("status", _("Status")),
        ("updated_at", _("Changed")),
    )
    rows = [
        {
            "id": x.item.id,
            "title": x.item.title,
            "href": v.href(f"/content/{x.item.id}"),
            "type": names.get(x.item.type, x.item.type),
            "stages": "、".join(stage_names.get(s, s) for s in x.facets["stage"]),
            "topics": "、".join(labels.value(t) for t in x.facets["topic"]),
            "author": x.item.author,
            "status": _(STATUS_NAMES.get(x.item.status, x.item.status)),
            "updated_at": local_when(x.item.updated_at, v.zone),
        }
        for x in listed
    ]
    table = linked_table(columns, rows, link="title", row_key="id")
    table.classes("w-full").mark("content-table")
    return None


def coverage_page(request: Request) -> RedirectResponse | None:
    """Published items per stage × type; an empty cell is content to produce next."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _, ws = v._, v.actor.workspace_id
        header(v, _("Content coverage"), session)
        coverage = service.coverage(session, ws)
        stage_names = dict(stages(session, ws, v.actor.locale))
        names = type_names(taxonomy(session, ws), v.actor.locale)
    content_nav(v)
    ui.label(
        _("{missing} of {cells} stage × type cells have no published content").format(
            missing=coverage.missing, cells=len(coverage.cells)
        )
    ).mark("coverage-missing")
    counts = {(c.stage, c.type): c.items for c in coverage.cells}
    head = "".join(f"<th>{escape(names.get(t, t))}</th>" for t in coverage.types)
    body = []
    for stage in coverage.stages:
        cells = []
        for kind in coverage.types:
            n = counts.get((stage, kind), 0)
            href = escape(v.href("/content?" + urlencode({"stage": stage, "type": kind})))
            style = "lp-cell-empty" if n == 0 else "lp-cell"
            cells.append(f'<td class="{style}"><a href="{href}">{n}</a></td>')
        label = escape(stage_names.get(stage, stage))
        # The playbook's stage names are the workspace's words, in whatever language it wrote.
        body.append(f'<tr><th class="lp-data">{label}</th>{"".join(cells)}</tr>')
    ui.add_css(
        ".lp-coverage td,.lp-coverage th{border:1px solid #d0d7de;padding:4px 8px;"
        "text-align:center;font-size:13px}.lp-coverage .lp-cell-empty{background:#ffebe9}"
        ".lp-coverage .lp-cell-empty a{color:#cf222e}"
    )
    ui.html(
        f'<table class="lp-coverage"><tr><th></th>{head}</tr>{"".join(body)}</table>',
        sanitize=False,
    ).mark("coverage-matrix")
    return None


def authors_page(request: Request) -> RedirectResponse | None:
    """Per author: items, views, unique readers, downloads and read time, most read first."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _ = v._
        header(v, _("Authors"), session)
        ranking = analytics.author_ranking(session, v.actor.workspace_id)
    content_nav(v)
    columns = [
        {"name": k, "label": label, "field": k, "align": "left"}
        for k, label in (
            ("rank", "#"),
            ("author", _("Author")),
            ("items", _("Items")),
            ("views", _("Views")),
            ("readers", _("Unique readers")),
            ("downloads", _("Downloads")),
            ("read", _("Average read time (s)")),
        )
    ]
    rows = [
        {
            "rank": n,
            "author": a.author or "–",
            "items": a.items,
            "views": a.views,
            "readers": a.readers,
            "downloads": a.downloads,
            "read": "–" if a.read_seconds_avg is None else a.read_seconds_avg,
        }
        for n, a in enumerate(ranking, 1)
    ]
    ui.table(columns=columns, rows=rows, row_key="rank").props("dense flat").classes("w-full").mark(
        "authors-table"
    )
    return None
