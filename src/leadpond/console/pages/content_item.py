"""One content item in the console: the editor (every field, the stages from the playbook and
the types from the workspace's taxonomy), the file upload, one link and QR code per channel
(S2: a group each), and its stats page (views, readers, read time, downloads, by channel, link,
persona, stage, account and industry; each reader with new or known interest)."""

import tempfile
import uuid
from typing import IO, Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import events, run, ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from leadpond.acquisition.service import short_url
from leadpond.console.pages.channels_words import local_when
from leadpond.console.pages.content import STATUS_NAMES, content_nav, type_names
from leadpond.console.pages.frame import Visit, app_link, header, notify_error, visit
from leadpond.console.pages.words import validation_problem
from leadpond.content import analytics, service, storage
from leadpond.content.schemas import ContentCreate, ContentUpdate, CountBy
from leadpond.content.taxonomy import taxonomy
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError
from leadpond.rules.vocabulary import stages
from leadpond.users.permissions import CONTENT_WRITE

FIELDS = ("title", "summary", "body", "author", "video_url", "gate_form")


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]


class Editor:
    """The form of one item (new when ``item`` is None)."""

    def __init__(self, v: Visit, item: dict[str, Any] | None, stage_names: dict[str, str],
                 names: dict[str, str]) -> None:  # fmt: skip
        _ = v._
        self.v, self.item = v, item
        got = item or {}
        with ui.card().classes("w-full max-w-4xl"):
            self.title = ui.input(_("Content title"), value=got.get("title", "")).classes("w-full")
            self.title.mark("content-title")
            with ui.row().classes("gap-4 w-full"):
                self.type = ui.select(names, value=got.get("type"), label=_("Type"))
                self.type.classes("min-w-48").mark("content-type")
                self.format = ui.select(
                    {"article": _("H5 article"), "file": _("File"), "video": _("Video link")},
                    value=got.get("format", "article"),
                    label=_("Format"),
                ).classes("min-w-36")
                self.status = (
                    ui.select(
                        {k: _(w) for k, w in STATUS_NAMES.items()},
                        value=got.get("status", "draft"),
                        label=_("Status"),
                    )
                    .classes("min-w-36")
                    .mark("content-status")
                )
                self.language = ui.select(
                    {"zh": "中文", "en": "English"}, value=got.get("language", "zh"),
                    label=_("Language"),
                ).classes("min-w-28")  # fmt: skip
            self.stages = (
                ui.select(
                    stage_names,
                    value=got.get("stages", []),
                    label=_("Stages it serves"),
                    multiple=True,
                )
                .classes("w-full")
                .props("use-chips")
                .mark("content-stages")
            )
            with ui.row().classes("gap-4 w-full"):
                self.topics = (
                    ui.input(_("Topics (comma separated)"), value=", ".join(got.get("topics", [])))
                    .classes("min-w-64")
                    .mark("content-topics")
                )
                self.products = ui.input(
                    _("Products"), value=", ".join(got.get("products", []))
                ).classes("min-w-48")
                self.industries = ui.input(
                    _("Industries"), value=", ".join(got.get("industries", []))
                ).classes("min-w-48")
            with ui.row().classes("gap-4 w-full"):
                self.author = ui.input(_("Author"), value=got.get("author", "")).classes("min-w-48")
                self.author.mark("content-author")
                self.gate_form = ui.input(
                    _("Gate form (key)"), value=got.get("gate_form") or ""
                ).classes("min-w-48")
                self.video_url = ui.input(
                    _("Video link"), value=got.get("video_url") or ""
                ).classes("min-w-64")
            self.summary = ui.textarea(_("Summary"), value=got.get("summary", "")).classes("w-full")
            self.body = (
                ui.textarea(_("Body (Markdown)"), value=got.get("body", ""))
                .classes("w-full")
                .props("autogrow")
                .mark("content-body")
            )
            if v.may(CONTENT_WRITE):
                ui.button(_("Save"), icon="save", on_click=self.save).mark("content-save")

    def _fields(self) -> dict[str, Any]:
        return {
            "title": self.title.value,
            "type": self.type.value,
            "format": self.format.value,
            "status": self.status.value,
            "language": self.language.value,
            "stages": list(self.stages.value or []),
            "topics": _split(self.topics.value),
            "products": _split(self.products.value),
            "industries": _split(self.industries.value),
            "author": self.author.value or "",
            "gate_form": self.gate_form.value or None,
            "video_url": self.video_url.value or None,
            "summary": self.summary.value or "",
            "body": self.body.value or "",
        }

    def save(self) -> None:
        """Create or change the item as the REST API does, if the role (now) allows it."""
        try:
            with unit_of_work() as session:
                actor = self.v.authorised(session, CONTENT_WRITE)
                if self.item is None:
                    made = service.create(
                        session, actor.workspace_id, ContentCreate(**self._fields()), actor.email
                    )
                else:
                    made = service.update(
                        session,
                        actor.workspace_id,
                        self.item["id"],
                        ContentUpdate(**self._fields()),
                    )
                item_id = made.id
        except LeadpondError as exc:
            notify_error(exc)
            return
        except ValidationError as exc:
            ui.notify(validation_problem(self.v._, exc)[1], type="negative")
            return
        ui.notify(self.v._("Saved"), type="positive")
        ui.navigate.to(f"/content/{item_id}")


def _loaded(session: Session, workspace_id: uuid.UUID, item_id: int) -> dict[str, Any]:
    item = service.get(session, workspace_id, item_id)
    facets = service.facets_of(session, workspace_id, [item.id])[item.id]
    return {
        "id": item.id,
        "key": item.key,
        "title": item.title,
        "type": item.type,
        "format": item.format,
        "status": item.status,
        "language": item.language,
        "stages": facets["stage"],
        "topics": facets["topic"],
        "products": facets["product"],
        "industries": facets["industry"],
        "author": item.author,
        "gate_form": item.gate_form,
        "video_url": item.video_url,
        "summary": item.summary,
        "body": item.body,
        "file_name": item.file_name,
        "viewer_url": service.viewer_url(item.public_code),
    }


def content_item_page(request: Request, item_id: str) -> RedirectResponse | None:
    """Edit an item (``new``: make one), upload its file, make its links."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _, ws = v._, v.actor.workspace_id
        stage_names = dict(stages(session, ws, v.actor.locale))
        names = type_names(taxonomy(session, ws), v.actor.locale)
        item = None
        if item_id != "new":
            try:
                item = _loaded(session, ws, int(item_id)) if item_id.isdigit() else None
            except LeadpondError:
                item = None
            if item is None:
                header(v, _("Content"), session)
                ui.label(_("No such content item")).mark("content-missing")
                return None
        header(v, item["title"] if item else _("New item"), session)
    content_nav(v)
    if item is not None:
        with ui.row().classes("gap-4"):
            app_link(_("Open the H5 page"), item["viewer_url"]).mark("content-viewer-link")
            ui.link(_("Stats"), f"/content/{item['id']}/stats").mark("content-stats-link")
    Editor(v, item, stage_names, names)
    if item is not None and v.may(CONTENT_WRITE):
        _upload_section(v, item)
        _links_section(v, item)
    return None


def _upload_section(v: Visit, item: dict[str, Any]) -> None:
    _ = v._
    ui.label(_("File")).classes("text-lg mt-4")
    if item["file_name"]:
        ui.label(item["file_name"]).mark("content-file-name")

    async def received(e: events.UploadEventArguments) -> None:
        # Spooled (to disk past 1 MiB) and handed to the store as a stream, never whole in memory.
        with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
            async for chunk in e.file.iterate():
                spool.write(chunk)
            try:
                await run.io_bound(_attach, v, item["id"], e.file.name, e.file.content_type, spool)
            except LeadpondError as exc:
                notify_error(exc)
                return
        ui.notify(_("Uploaded"), type="positive")
        ui.navigate.reload()

    ui.upload(on_upload=received, auto_upload=True, label=_("Upload a file (PDF…)")).mark(
        "content-upload"
    )


def _attach(v: Visit, item_id: int, name: str, media: str, stream: IO[bytes]) -> None:
    with unit_of_work() as session:
        actor = v.authorised(session, CONTENT_WRITE)
        _made, replaced = service.attach_file(
            session, actor.workspace_id, item_id, name, media, stream
        )
    storage.remove(replaced)


def _links_section(v: Visit, item: dict[str, Any]) -> None:
    _ = v._
    ui.label(_("Links and QR codes per channel")).classes("text-lg mt-4")
    channels = (
        ui.textarea(_("Channels, one a line (e.g. wechat-group:finance-01)"))
        .classes("w-full max-w-xl")
        .mark("content-link-channels")
    )
    campaign = ui.input(_("Campaign")).classes("max-w-xs")
    made = ui.column().classes("gap-2").mark("content-links")

    def make() -> None:
        names = [c.strip() for c in (channels.value or "").splitlines() if c.strip()]
        if not names:
            return
        try:
            with unit_of_work() as session:
                actor = v.authorised(session, CONTENT_WRITE)
                links = service.make_links(
                    session, actor.workspace_id, item["id"], names,
                    {"campaign": campaign.value or None}, actor.email,
                )  # fmt: skip
                shown = [(link.channel, link.code) for link in links]
        except LeadpondError as exc:
            notify_error(exc)
            return
        made.clear()
        with made:
            for channel, code in shown:
                with ui.row().classes("items-center gap-4"):
                    ui.label(channel)
                    ui.label(short_url(code)).classes("font-mono").mark("content-link-url")
                    ui.image(f"/api/v1/links/{code}/qr.png").classes("w-24 h-24")

    ui.button(_("Make links"), icon="qr_code", on_click=make).mark("content-make-links")


def _count_table(v: Visit, title: str, counts: list[CountBy], mark: str) -> None:
    _ = v._
    with ui.column().classes("min-w-64"):
        ui.label(title).classes("font-semibold")
        columns = [
            {"name": "key", "label": title, "field": "key", "align": "left"},
            {"name": "views", "label": _("Views"), "field": "views"},
            {"name": "readers", "label": _("Unique readers"), "field": "readers"},
        ]
        rows = [c.model_dump() for c in counts]
        ui.table(columns=columns, rows=rows, row_key="key").props("dense flat").mark(mark)


def content_stats_page(request: Request, item_id: int) -> RedirectResponse | None:
    """How an item is read: totals, by channel and link, who the readers are."""
    with read_only() as session:
        v = visit(request, session)
        if isinstance(v, RedirectResponse):
            return v
        _, ws = v._, v.actor.workspace_id
        try:
            item = service.get(session, ws, item_id)
        except LeadpondError:
            header(v, _("Content"), session)
            ui.label(_("No such content item")).mark("content-missing")
            return None
        header(v, item.title, session)
        stats = analytics.item_stats(session, item)
        stage_names = dict(stages(session, ws, v.actor.locale))
    content_nav(v)
    ui.link(_("Edit"), f"/content/{item_id}")
    with ui.row().classes("gap-8"):
        for label, value, mark in (
            (_("Views"), stats.views, "stat-views"),
            (_("Unique readers"), stats.readers, "stat-readers"),
            (_("Average read time (s)"), stats.read_seconds_avg or "–", "stat-read"),
            (_("Downloads"), stats.downloads, "stat-downloads"),
            (_("New interest"), stats.new_interest, "stat-new-interest"),
            (_("Known interest"), stats.known_interest, "stat-known-interest"),
        ):
            with ui.column().classes("gap-0"):
                ui.label(str(value)).classes("text-2xl").mark(mark)
                ui.label(label).classes("text-sm text-gray-600")
    with ui.row().classes("gap-6 items-start"):
        _count_table(v, _("Channel"), stats.by_channel, "stats-by-channel")
        _count_table(v, _("Link"), stats.by_link, "stats-by-link")
        _count_table(v, _("Persona"), stats.by_persona, "stats-by-persona")
        staged = [
            c.model_copy(update={"key": stage_names.get(c.key, c.key)}) for c in stats.by_stage
        ]
        _count_table(v, _("Stage"), staged, "stats-by-stage")
        _count_table(v, _("Account"), stats.by_account, "stats-by-account")
        _count_table(v, _("Industry"), stats.by_industry, "stats-by-industry")
    ui.label(_("Readers")).classes("text-lg mt-4")
    interest = {"new": _("New interest"), "known": _("Known interest"), None: "–"}
    columns = [
        {"name": k, "label": label, "field": k, "align": "left"}
        for k, label in (
            ("name", _("Name")),
            ("stage", _("Stage")),
            ("account", _("Account")),
            ("channel", _("Channel")),
            ("views", _("Views")),
            ("first", _("First read")),
            ("interest", _("Interest")),
        )
    ]
    rows = [
        {
            "id": r.person_id,
            "name": r.name or f"#{r.person_id}",
            "stage": stage_names.get(r.stage or "", r.stage or "–"),
            "account": r.account or "–",
            "channel": r.channel or "–",
            "views": r.views,
            "first": local_when(r.first_viewed_at, v.zone),
            "interest": interest[r.interest],
        }
        for r in stats.readers_list
    ]
    ui.table(columns=columns, rows=rows, row_key="id").props("dense flat").classes("w-full").mark(
        "stats-readers"
    )
    return None
