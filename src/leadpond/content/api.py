"""The content pool over HTTP: items (made, listed by stage × type × topic, edited, deleted,
their file uploaded), the coverage matrix, the taxonomy, per-item stats and the author
ranking, tracking links to an item's viewer, and next-best-content for a person or account."""

from typing import IO, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from leadpond.accounts.directory import get_account
from leadpond.acquisition.schemas import LinkList, LinkRead
from leadpond.config import get_settings
from leadpond.content import analytics, recommend, service, storage
from leadpond.content.models import ContentItem
from leadpond.content.recommend import Pick, Profile
from leadpond.content.schemas import (
    AuthorList,
    ContentCreate,
    ContentItemRead,
    ContentLinkCreate,
    ContentLinksCreate,
    ContentStats,
    ContentUpdate,
    Coverage,
    ReasonRead,
    Recommendation,
    Recommendations,
    UploadRead,
)
from leadpond.content.taxonomy import Taxonomy, set_taxonomy, taxonomy
from leadpond.db.engine import unit_of_work
from leadpond.kit.errors import InvalidInput, PayloadTooLarge
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.kit.pagination import Page, Paging
from leadpond.profiles.service import get_person
from leadpond.users.permissions import ContentRead, ContentWrite

router = APIRouter(prefix="/api/v1", tags=["content"])
Text = Annotated[str | None, Query(min_length=1, max_length=128)]
Limit = Annotated[int, Query(ge=1, le=50)]
_FORM_OVERHEAD_BYTES = 64 * 1024
_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def item_read(item: ContentItem, facets: dict[str, list[str]]) -> ContentItemRead:
    """The API's view of an item."""
    return ContentItemRead(
        id=item.id,
        key=item.key,
        title=item.title,
        summary=item.summary,
        body=item.body,
        body_format=item.body_format,
        format=item.format,
        video_url=item.video_url,
        category=item.category,
        type=item.type,
        author=item.author,
        language=item.language,
        status=item.status,
        gate_form=item.gate_form,
        stages=facets["stage"],
        topics=facets["topic"],
        products=facets["product"],
        industries=facets["industry"],
        file_name=item.file_name,
        file_type=item.file_type,
        file_size=item.file_size,
        viewer_url=service.viewer_url(item.public_code),
        published_at=item.published_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _read(session: Any, item: ContentItem) -> ContentItemRead:
    return item_read(item, service.facets_of(session, item.workspace_id, [item.id])[item.id])


@router.post("/content", status_code=201, response_model=ContentItemRead)
def create_content(
    body: ContentCreate, actor: ContentWrite, session: WriteSession
) -> ContentItemRead:
    """A new item of the pool (a draft unless ``status`` is given)."""
    return _read(session, service.create(session, actor.workspace_id, body, actor.via))


@router.get("/content", response_model=Page[ContentItemRead])
def list_content(
    actor: ContentRead,
    session: ReadSession,
    paging: Paging,
    stage: Text = None,
    type: Text = None,
    category: Text = None,
    topic: Text = None,
    author: Text = None,
    status: Annotated[str | None, Query(pattern="^(draft|published|archived)$")] = None,
    q: Text = None,
) -> Page[ContentItemRead]:
    """The library, newest first, filtered by stage × type × topic (and category, author,
    status, a title search)."""
    query = service.LibraryQuery(stage, type, category, topic, status, author, q)
    total, listed = service.library(session, actor.workspace_id, query, paging)
    return Page(total=total, items=[item_read(x.item, x.facets) for x in listed])


@router.get("/content/coverage", response_model=Coverage)
def content_coverage(actor: ContentRead, session: ReadSession) -> Coverage:
    """Published items per stage × type: the empty cells are where content is missing."""
    return service.coverage(session, actor.workspace_id)


@router.get("/content/authors", response_model=AuthorList)
def author_ranking(actor: ContentRead, session: ReadSession) -> AuthorList:
    """Per author: items, views, unique readers, downloads, read time; most read first."""
    return AuthorList(items=analytics.author_ranking(session, actor.workspace_id))


@router.get("/content/taxonomy", response_model=Taxonomy)
def read_taxonomy(actor: ContentRead, session: ReadSession) -> Taxonomy:
    """The workspace's content categories and types."""
    return taxonomy(session, actor.workspace_id)


@router.put("/content/taxonomy", response_model=Taxonomy)
def write_taxonomy(body: Taxonomy, actor: ContentWrite, session: WriteSession) -> Taxonomy:
    """Replace the workspace's taxonomy (a type items still use cannot be dropped)."""
    return set_taxonomy(session, actor.workspace_id, body)


@router.get("/content/{item_id}", response_model=ContentItemRead)
def read_content(item_id: RowId, actor: ContentRead, session: ReadSession) -> ContentItemRead:
    """One item."""
    return _read(session, service.get(session, actor.workspace_id, item_id))


@router.put("/content/{item_id}", response_model=ContentItemRead)
def update_content(
    item_id: RowId, body: ContentUpdate, actor: ContentWrite, session: WriteSession
) -> ContentItemRead:
    """Change the fields given; the others stay."""
    return _read(session, service.update(session, actor.workspace_id, item_id, body))


@router.delete("/content/{item_id}", status_code=204)
def delete_content(
    item_id: RowId, actor: ContentWrite, session: WriteSession, after: BackgroundTasks
) -> Response:
    """Delete the item (its file is removed once the deletion is committed)."""
    after.add_task(storage.remove, service.remove(session, actor.workspace_id, item_id))
    return Response(status_code=204)


def _attach(
    actor_workspace: Any, item_id: int, name: str, media: str, stream: IO[bytes]
) -> UploadRead:
    with unit_of_work() as session:
        item, replaced = service.attach_file(session, actor_workspace, item_id, name, media, stream)
        answer = UploadRead(
            file_name=item.file_name or "",
            file_type=item.file_type or "",
            file_size=item.file_size or 0,
        )
    storage.remove(replaced)
    return answer


@router.post("/content/{item_id}/file", response_model=UploadRead, openapi_extra=_UPLOAD_SCHEMA)
async def upload_file(item_id: RowId, request: Request, actor: ContentWrite) -> UploadRead:
    """The item's file (multipart field ``file``): PDF, PNG, JPEG, MP4, PowerPoint, Word or
    Excel, checked by its first bytes; at most ``LEADPOND_CONTENT_MAX_UPLOAD_BYTES``. The
    upload is spooled to a temporary file by the form parser and streamed into the store."""
    limit = get_settings().content_max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD_BYTES:
        raise PayloadTooLarge(f"a content file may hold at most {limit:,} bytes", limit=limit)
    async with request.form(max_files=1, max_fields=2) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("the multipart field 'file' is required", field="file")
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLarge(f"a content file may hold at most {limit:,} bytes", limit=limit)
        name, media = upload.filename or "file", upload.content_type or ""
        return await run_in_threadpool(
            _attach, actor.workspace_id, item_id, name, media, upload.file
        )


@router.get("/content/{item_id}/stats", response_model=ContentStats)
def content_stats(item_id: RowId, actor: ContentRead, session: ReadSession) -> ContentStats:
    """Views, readers, read time, downloads; by channel, link, persona, stage, account and
    industry; new or known interest per reader."""
    return analytics.item_stats(session, service.get(session, actor.workspace_id, item_id))


@router.post("/content/{item_id}/links", status_code=201, response_model=LinkRead)
def content_link(
    item_id: RowId, body: ContentLinkCreate, actor: ContentWrite, session: WriteSession
) -> LinkRead:
    """A tracking link (and QR code) to the item's viewer for one channel."""
    parts = body.model_dump(exclude={"channel"})
    [link] = service.make_links(
        session, actor.workspace_id, item_id, [body.channel], parts, actor.via
    )
    return LinkRead.build(link)


@router.post("/content/{item_id}/links:bulk", status_code=201, response_model=LinkList)
def content_links(
    item_id: RowId, body: ContentLinksCreate, actor: ContentWrite, session: WriteSession
) -> LinkList:
    """One link and QR code per channel (S2: one per community group)."""
    parts = body.model_dump(exclude={"channels"})
    made = service.make_links(session, actor.workspace_id, item_id, body.channels, parts, actor.via)
    return LinkList(items=[LinkRead.build(link) for link in made])


def _recommendations(profile: Profile, picks: list[Pick]) -> Recommendations:
    return Recommendations(
        stage=profile.stage,
        interests=sorted(profile.interests),
        industries=sorted(profile.industries),
        items=[
            Recommendation(
                id=p.item.id,
                key=p.item.key,
                title=p.item.title,
                type=p.item.type,
                viewer_url=service.viewer_url(p.item.public_code),
                score=p.score,
                reasons=[ReasonRead.model_validate(r.read()) for r in p.reasons],
            )
            for p in picks
        ],
    )


@router.get("/people/{person_id}/recommendations", response_model=Recommendations)
def person_recommendations(
    person_id: RowId, actor: ContentRead, session: ReadSession, limit: Limit = 5
) -> Recommendations:
    """The next best content for the person: their stage and interests, not yet seen."""
    live = get_person(session, actor.workspace_id, person_id).id
    picks = recommend.recommend(session, actor.workspace_id, [live], limit)[live]
    return _recommendations(recommend.profile_of(session, actor.workspace_id, live), picks)


@router.get("/accounts/{account_id}/recommendations", response_model=Recommendations)
def account_recommendations(
    account_id: RowId, actor: ContentRead, session: ReadSession, limit: Limit = 5
) -> Recommendations:
    """The next best content for an account's people together."""
    account = get_account(session, actor.workspace_id, account_id)
    profile, picks = recommend.recommend_for_account(session, actor.workspace_id, account.id, limit)
    return _recommendations(profile, picks)
