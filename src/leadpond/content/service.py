"""The content pool: items made, edited, filed and listed by stage × type × topic; the
coverage matrix (where content is missing); per-channel tracking links to an item's viewer."""

import secrets
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from leadpond.acquisition.models import TrackingLink
from leadpond.acquisition.service import NewLink, create_links
from leadpond.config import get_settings
from leadpond.content import storage
from leadpond.content.models import ContentFacet, ContentItem
from leadpond.content.schemas import ContentCreate, ContentFields, Coverage, CoverageCell
from leadpond.content.taxonomy import taxonomy
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.kit.pagination import PageQuery, count
from leadpond.kit.scope import in_workspace, owned
from leadpond.rules.vocabulary import stage_order

FACET_KINDS = ("stage", "topic", "product", "industry")
_FACET_FIELDS = {
    "stage": "stages",
    "topic": "topics",
    "product": "products",
    "industry": "industries",
}
CODE_BYTES = 7  # /c/<code>: 10 URL-safe characters


class ContentNotFound(NotFound):
    code = "content_not_found"


class ContentKeyTaken(Conflict):
    code = "content_key_taken"


@dataclass(frozen=True)
class LibraryQuery:
    """The library's filters: stage × type × topic (and status, a title search)."""

    stage: str | None = None
    type: str | None = None
    category: str | None = None
    topic: str | None = None
    status: str | None = None
    author: str | None = None
    q: str | None = None


@dataclass
class Listed:
    """An item with its facets (stage, topic, product, industry values)."""

    item: ContentItem
    facets: dict[str, list[str]]


def viewer_url(code: str, **query: str) -> str:
    """The item's public H5 page, with ``query`` (the channel ``ch``, a link ``lk``)."""
    base = f"{get_settings().public_url.rstrip('/')}/c/{code}"
    return f"{base}?{urlencode(query)}" if query else base


def _clean_values(values: Sequence[str], field: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        value = " ".join(value.split())
        if not value or len(value) > 128:
            raise InvalidInput(f"{field}: a value is empty or over 128 characters", field=field)
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _check(
    session: Session, workspace_id: uuid.UUID, item: ContentItem, fields: ContentFields
) -> None:
    if fields.type is not None:
        category = taxonomy(session, workspace_id).category_of(fields.type)
        if category is None:
            raise InvalidInput(f"no such content type: {fields.type!r}", field="type")
        item.category = category
    if fields.stages:
        known = stage_order(session, workspace_id)
        unknown = [s for s in fields.stages if known and s not in known]
        if unknown:
            raise InvalidInput(
                f"no such stage: {', '.join(unknown)} (the playbook has {', '.join(known)})",
                field="stages",
            )
    if fields.video_url is not None and urlsplit(fields.video_url).scheme not in ("http", "https"):
        raise InvalidInput("the video link must be an http(s) URL", field="video_url")


_PLAIN = (
    "title", "summary", "body", "body_format", "format", "video_url", "type", "author",
    "language", "gate_form",
)  # fmt: skip


def _apply(
    session: Session, workspace_id: uuid.UUID, item: ContentItem, fields: ContentFields
) -> None:
    _check(session, workspace_id, item, fields)
    given = fields.model_dump(exclude_unset=True)
    for name in _PLAIN:
        if name in given:
            setattr(item, name, given[name] if given[name] is not None else _default(name))
    if fields.status is not None:
        if fields.status == "published" and item.published_at is None:
            item.published_at = utcnow()
        item.status = fields.status
    if item.format == "video" and not item.video_url:
        raise InvalidInput("a video needs its link", field="video_url")
    session.flush()
    for kind, name in _FACET_FIELDS.items():
        values = getattr(fields, name)
        if values is None:
            continue
        session.execute(
            delete(ContentFacet).where(
                owned(ContentFacet, workspace_id),
                ContentFacet.item_id == item.id,
                ContentFacet.kind == kind,
            )
        )
        session.add_all(
            ContentFacet(workspace_id=workspace_id, item_id=item.id, kind=kind, value=value)
            for value in _clean_values(values, name)
        )
    session.flush()


def _default(name: str) -> Any:
    return {"summary": "", "body": "", "author": "", "body_format": "markdown"}.get(name)


def create(
    session: Session, workspace_id: uuid.UUID, body: ContentCreate, actor: str
) -> ContentItem:
    """A new item (a draft unless ``status`` says otherwise)."""
    key = body.key or f"c-{secrets.token_hex(4)}"
    taken = session.scalar(
        select(ContentItem.id).where(owned(ContentItem, workspace_id), ContentItem.key == key)
    )
    if taken is not None:
        raise ContentKeyTaken(f"an item with the key {key!r} exists", field="key")
    item = ContentItem(
        workspace_id=workspace_id,
        key=key,
        public_code=secrets.token_urlsafe(CODE_BYTES),
        title=body.title,
        format=body.format,
        type=body.type,
        category="",
        created_by=actor[:128],
    )
    session.add(item)
    _apply(session, workspace_id, item, body)
    return item


def get(session: Session, workspace_id: uuid.UUID, item_id: int) -> ContentItem:
    """The workspace's item, or :class:`ContentNotFound`."""
    item = session.scalar(in_workspace(ContentItem, workspace_id).where(ContentItem.id == item_id))
    if item is None:
        raise ContentNotFound("no such content item")
    return item


def by_code(session: Session, code: str) -> ContentItem:
    """The item of a public viewer code (any workspace: the code is the secret)."""
    item = session.scalar(select(ContentItem).where(ContentItem.public_code == code))
    if item is None:
        raise ContentNotFound("no such content item")
    return item


def update(
    session: Session, workspace_id: uuid.UUID, item_id: int, fields: ContentFields
) -> ContentItem:
    """Change what is given; the rest stays."""
    item = get(session, workspace_id, item_id)
    _apply(session, workspace_id, item, fields)
    return item


def remove(session: Session, workspace_id: uuid.UUID, item_id: int) -> str | None:
    """Delete the item; returns its stored file's reference (to delete after the commit)."""
    item = get(session, workspace_id, item_id)
    ref = item.file_ref
    session.execute(
        delete(ContentFacet).where(
            owned(ContentFacet, workspace_id), ContentFacet.item_id == item.id
        )
    )
    session.delete(item)
    session.flush()
    return ref


def attach_file(
    session: Session,
    workspace_id: uuid.UUID,
    item_id: int,
    file_name: str,
    media_type: str,
    stream: IO[bytes],
) -> tuple[ContentItem, str | None]:
    """Store the item's file (checked for type and size, streamed from a seekable ``stream``
    into the store); returns the item and the reference of the file it replaced, if any."""
    item = get(session, workspace_id, item_id)
    size = storage.size_of(stream)
    media_type = storage.check(stream, size, media_type)
    replaced = item.file_ref
    item.file_ref = storage.save(workspace_id, stream, media_type)
    item.file_name = (file_name or "file").replace("/", "_").replace("\\", "_")[:255]
    item.file_type = media_type
    item.file_size = size
    session.flush()
    return item, replaced


def facets_of(
    session: Session, workspace_id: uuid.UUID, item_ids: Sequence[int]
) -> dict[int, dict[str, list[str]]]:
    """Each item's facet values by kind, in the order they were given."""
    found: dict[int, dict[str, list[str]]] = defaultdict(lambda: {k: [] for k in FACET_KINDS})
    if not item_ids:
        return found
    rows = session.execute(
        select(ContentFacet.item_id, ContentFacet.kind, ContentFacet.value)
        .where(owned(ContentFacet, workspace_id), ContentFacet.item_id.in_(item_ids))
        .order_by(ContentFacet.id)
    )
    for item_id, kind, value in rows:
        found[item_id][kind].append(value)
    return found


def _has(workspace_id: uuid.UUID, kind: str, value: str) -> Any:
    return ContentItem.id.in_(
        select(ContentFacet.item_id).where(
            owned(ContentFacet, workspace_id),
            ContentFacet.kind == kind,
            ContentFacet.value == value,
        )
    )


def _library(workspace_id: uuid.UUID, query: LibraryQuery) -> Select[ContentItem]:
    stmt = in_workspace(ContentItem, workspace_id)
    for kind, value in (("stage", query.stage), ("topic", query.topic)):
        if value:
            stmt = stmt.where(_has(workspace_id, kind, value))
    if query.type:
        stmt = stmt.where(ContentItem.type == query.type)
    if query.category:
        stmt = stmt.where(ContentItem.category == query.category)
    if query.status:
        stmt = stmt.where(ContentItem.status == query.status)
    if query.author:
        stmt = stmt.where(ContentItem.author == query.author)
    if query.q and query.q.strip():
        stmt = stmt.where(ContentItem.title.contains(query.q.strip(), autoescape=True))
    return stmt


def library(
    session: Session, workspace_id: uuid.UUID, query: LibraryQuery, page: PageQuery
) -> tuple[int, list[Listed]]:
    """The items matching the filters, newest first, with their facets; and how many match."""
    stmt = _library(workspace_id, query)
    total = count(session, stmt)
    items = list(session.scalars(page.apply(stmt.order_by(ContentItem.id.desc()))))
    facets = facets_of(session, workspace_id, [i.id for i in items])
    return total, [Listed(i, facets[i.id]) for i in items]


def topics(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """Every topic an item is tagged with, for the library's filter."""
    return list(
        session.scalars(
            select(ContentFacet.value)
            .where(owned(ContentFacet, workspace_id), ContentFacet.kind == "topic")
            .distinct()
            .order_by(ContentFacet.value)
        )
    )


def coverage(session: Session, workspace_id: uuid.UUID) -> Coverage:
    """Published items per stage × type (the playbook's stages, the taxonomy's types)."""
    stages = stage_order(session, workspace_id)
    types = taxonomy(session, workspace_id).type_keys()
    counted = {(stage, kind): n for stage, kind, n in _rows(session, workspace_id)}
    cells = [
        CoverageCell(stage=stage, type=kind, items=int(counted.get((stage, kind), 0)))
        for stage in stages
        for kind in types
    ]
    return Coverage(
        stages=stages, types=types, cells=cells, missing=sum(1 for c in cells if c.items == 0)
    )


def _rows(session: Session, workspace_id: uuid.UUID) -> list[tuple[str, str, int]]:
    return [
        (stage, kind, int(n))
        for stage, kind, n in session.execute(
            select(ContentFacet.value, ContentItem.type, func.count(func.distinct(ContentItem.id)))
            .join(ContentItem, ContentItem.id == ContentFacet.item_id)
            .where(
                owned(ContentFacet, workspace_id),
                owned(ContentItem, workspace_id),
                ContentFacet.kind == "stage",
                ContentItem.status == "published",
            )
            .group_by(ContentFacet.value, ContentItem.type)
        )
    ]


def make_links(
    session: Session,
    workspace_id: uuid.UUID,
    item_id: int,
    channels: Sequence[str],
    parts: dict[str, str | None],
    actor: str,
    codes: Sequence[str] | None = None,
) -> list[TrackingLink]:
    """One tracking link (and QR code) per channel to the item's viewer: the viewer URL
    carries the channel (``ch``) and, once the link exists, its code (``lk``), so a view is
    counted by channel and by link. ``codes``: the links' codes (see ``create_links``)."""
    item = get(session, workspace_id, item_id)
    parts = {"content": item.key, **{k: v for k, v in parts.items() if v is not None}}
    made = create_links(
        session,
        workspace_id,
        [
            NewLink(
                viewer_url(item.public_code, ch=channel),
                channel,
                parts.get("source"),
                parts.get("medium"),
                parts.get("campaign"),
                parts.get("content"),
            )
            for channel in channels
        ],
        actor,
        codes,
    )
    for link in made:
        target = urlsplit(link.target)
        query = [*parse_qsl(target.query, keep_blank_values=True), ("lk", link.code)]
        link.target = urlunsplit(target._replace(query=urlencode(query)))
    session.flush()
    return made
