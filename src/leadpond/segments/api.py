"""Segments over HTTP: define, preview, read members, change static lists, export."""

import io
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from leadpond.kit.clock import utcnow
from leadpond.kit.http import ReadSession, WriteSession
from leadpond.kit.pagination import HistoryPaging, Page, Paging
from leadpond.segments import service
from leadpond.segments.build import preview
from leadpond.segments.definitions import load_segments, parse_segment_condition
from leadpond.segments.exports import check_columns, export_rows, to_csv, to_xlsx
from leadpond.segments.reads import member_reads
from leadpond.segments.schemas import (
    BuildRead,
    MemberRead,
    PreviewRequest,
    PreviewResponse,
    SegmentChangeRead,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
    StaticChange,
    StaticChangeResult,
)
from leadpond.segments.static import people_in_file
from leadpond.users.permissions import SegmentsRead, SegmentsWrite

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("", status_code=201, response_model=SegmentRead)
def create_segment(body: SegmentCreate, actor: SegmentsWrite, session: WriteSession) -> SegmentRead:
    """Define a segment (dynamic: a condition; static: a list) and build it."""
    return SegmentRead.build(service.create_segment(session, actor.workspace_id, body))


@router.get("", response_model=Page[SegmentRead])
def list_segments(actor: SegmentsRead, session: ReadSession) -> Page[SegmentRead]:
    """Every segment with its count and last build."""
    found = service.list_segments(session, actor.workspace_id)
    return Page[SegmentRead](total=len(found), items=[SegmentRead.build(s) for s in found])


@router.post(":preview", response_model=PreviewResponse)
def preview_segment(
    body: PreviewRequest, actor: SegmentsRead, session: ReadSession
) -> PreviewResponse:
    """Count and 20 sample members of an unsaved condition."""
    started = time.perf_counter()
    condition, _ = parse_segment_condition(body.condition)
    loaded = load_segments(session, actor.workspace_id)
    count, ids = preview(session, loaded, condition, body.level, body.account_match, utcnow())
    sample = member_reads(session, actor.workspace_id, body.level, [(i, None) for i in ids])
    return PreviewResponse(
        count=count, sample=sample, seconds=round(time.perf_counter() - started, 4)
    )


@router.get("/{ref}", response_model=SegmentRead)
def read_segment(ref: str, actor: SegmentsRead, session: ReadSession) -> SegmentRead:
    """One segment (by id or key) with its count and last build."""
    return SegmentRead.build(service.get_segment(session, actor.workspace_id, ref))


@router.patch("/{ref}", response_model=SegmentRead)
def update_segment(
    ref: str, body: SegmentUpdate, actor: SegmentsWrite, session: WriteSession
) -> SegmentRead:
    """Rename a segment or change its condition (it is rebuilt)."""
    segment = service.get_segment(session, actor.workspace_id, ref)
    return SegmentRead.build(service.update_segment(session, actor.workspace_id, segment, body))


@router.delete("/{ref}", status_code=204)
def delete_segment(ref: str, actor: SegmentsWrite, session: WriteSession) -> Response:
    """Remove a segment with its members and history."""
    segment = service.get_segment(session, actor.workspace_id, ref)
    service.delete_segment(session, actor.workspace_id, segment)
    return Response(status_code=204)


@router.post("/{ref}:rebuild", response_model=BuildRead)
def rebuild_segment(ref: str, actor: SegmentsWrite, session: WriteSession) -> BuildRead:
    """Recompute a dynamic segment from scratch (the live path keeps it current anyway)."""
    segment = service.get_segment(session, actor.workspace_id, ref)
    report = service.build_segment(session, actor.workspace_id, segment)
    return BuildRead.model_validate(report.__dict__)


@router.get("/{ref}/members", response_model=Page[MemberRead])
def list_members(
    ref: str,
    actor: SegmentsRead,
    session: ReadSession,
    paging: Paging,
    after: Annotated[
        int | None,
        Query(ge=0, lt=2**63, description="the next page: members with an id above this one"),
    ] = None,
) -> Page[MemberRead]:
    """Members, lowest id first, with name, email, company, title and suppression; page on
    with ``after`` (the last id of a page), which is fast at any depth."""
    segment = service.get_segment(session, actor.workspace_id, ref)
    total, rows = service.members(
        session,
        actor.workspace_id,
        segment,
        limit=paging.limit,
        offset=paging.offset,
        after=after,
    )
    return Page[MemberRead](
        total=total, items=member_reads(session, actor.workspace_id, segment.level, rows)
    )


@router.post("/{ref}/members", response_model=StaticChangeResult)
def change_members(
    ref: str, body: StaticChange, actor: SegmentsWrite, session: WriteSession
) -> StaticChangeResult:
    """Add or remove people of a static segment."""
    segment = service.get_segment(session, actor.workspace_id, ref)
    added, removed, unknown = service.change_static(
        session, actor.workspace_id, segment, body.add, body.remove, "changed through the API"
    )
    return StaticChangeResult(added=added, removed=removed, unknown=[str(u) for u in unknown])


@router.post(
    "/{ref}/members:upload",
    response_model=StaticChangeResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_members(
    ref: str,
    request: Request,
    actor: SegmentsWrite,
    session: WriteSession,
    filename: str = "members.csv",
) -> StaticChangeResult:
    """Add the people a CSV/XLSX file names (person_id, user_id, email or phone column)."""
    segment = service.get_segment(session, actor.workspace_id, ref)
    content = await request.body()
    people, problems = people_in_file(session, actor.workspace_id, io.BytesIO(content), filename)
    added, _, _ = service.change_static(
        session, actor.workspace_id, segment, people, [], f"uploaded in {filename}"[:300]
    )
    return StaticChangeResult(added=added, removed=0, unknown=problems)


@router.get("/{ref}/history", response_model=Page[SegmentChangeRead])
def read_history(
    ref: str, actor: SegmentsRead, session: ReadSession, paging: HistoryPaging
) -> Page[SegmentChangeRead]:
    """Entries and exits with their reasons, newest first."""
    segment = service.get_segment(session, actor.workspace_id, ref)
    total, rows = service.history(
        session, actor.workspace_id, segment, limit=paging.limit, offset=paging.offset
    )
    items = [
        SegmentChangeRead(
            member_id=r.person_id if r.person_id is not None else (r.account_id or 0),
            change=r.change,
            reason=r.reason,
            at=r.at,
        )
        for r in rows
    ]
    return Page[SegmentChangeRead](total=total, items=items)


@router.get(
    "/{ref}/export",
    responses={
        200: {
            "description": "The members as a file",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def export_segment(
    ref: str,
    actor: SegmentsRead,
    session: ReadSession,
    format: Literal["csv", "xlsx"] = "csv",
    columns: Annotated[
        str | None, Query(description="Comma-separated, e.g. name,company,title,owner,phone,email")
    ] = None,
) -> Response:
    """The members as CSV (UTF-8 with BOM) or XLSX; opted-out people are flagged."""
    segment = service.get_segment(session, actor.workspace_id, ref)
    chosen = check_columns(segment, columns.split(",") if columns else None)
    rows = export_rows(session, actor.workspace_id, segment, chosen)
    name = f"segment-{segment.key}"
    if format == "xlsx":
        return Response(
            to_xlsx(rows, segment.key),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return StreamingResponse(
        iter(list(to_csv(rows))),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
