"""People import over HTTP: upload a CSV or XLSX file, get every bad row back."""

import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from leadpond.config import get_settings
from leadpond.db.engine import unit_of_work
from leadpond.ingest import importer
from leadpond.ingest.import_files import time_zone
from leadpond.ingest.tasks import enqueue_import
from leadpond.jobs.api import job_location
from leadpond.jobs.schemas import JobRead
from leadpond.kit.errors import InvalidInput, PayloadTooLarge
from leadpond.users.permissions import ImportsWrite

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])

# Room for the multipart envelope and the small form fields around the file itself.
_FORM_OVERHEAD_BYTES = 64 * 1024


class RowProblem(BaseModel):
    row: int = Field(description="row number as Excel shows it; the header is row 1")
    column: str = Field(description="header text of the column at fault")
    code: str = Field(
        description="what is wrong: bad_email, bad_phone, bad_time, time_out_of_range, "
        "identifier_too_long, no_identifier, row_too_large"
    )
    reason: str = Field(description="the problem in English words")
    value: str = Field(description="the cell's text at fault; empty for a row's problem")


class ImportResult(BaseModel):
    imported: int = Field(description="rows written as new identify events")
    duplicates: int = Field(description="good rows already imported before (or twice in the file)")
    rejected: list[RowProblem]
    rows: int = Field(description="non-blank data rows read")


_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "mapping": {
                            "type": "string",
                            "description": 'JSON object header -> trait, e.g. {"Mobile": "phone"}'
                            '; "" ignores a column',
                        },
                        "dry_run": {"type": "boolean", "default": False},
                        "timezone": {"type": "string", "default": importer.DEFAULT_TIMEZONE},
                    },
                }
            }
        },
    }
}


def _mapping(field: object) -> dict[str, str]:
    if field is None or field == "":
        return {}
    try:
        parsed = orjson.loads(str(field))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"mapping is not valid JSON: {exc}", field="mapping") from exc
    if not isinstance(parsed, dict) or not all(
        isinstance(v, str) or v is None for v in parsed.values()
    ):
        raise InvalidInput("mapping must be a JSON object of column -> trait", field="mapping")
    return {str(k): v or importer.IGNORE for k, v in parsed.items()}


def _flag(field: object) -> bool:
    return str(field or "").strip().lower() in ("1", "true", "yes", "on")


@router.post(
    "/people",
    response_model=ImportResult,
    openapi_extra=_UPLOAD_SCHEMA,
    summary="Import people from a CSV or XLSX file",
    responses={
        202: {
            "model": JobRead,
            "description": "A large file: its import is queued as a job (see Location); the "
            "job's result is this import report",
        }
    },
)
async def import_people(request: Request, actor: ImportsWrite) -> Any:
    """Good rows become identify events (idempotently); every bad row is reported. A file over
    ``LEADPOND_IMPORT_JOB_BYTES`` is kept and imported by a background job: 202 with the job."""
    limit = get_settings().import_max_upload_bytes
    declared = request.headers.get("content-length", "")
    # Refuse before the body is read when the client says up front that it is too large.
    if declared.isascii() and declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD_BYTES:
        raise PayloadTooLarge(f"an import file may hold at most {limit} bytes")
    async with request.form(max_files=1, max_fields=8) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("the multipart field 'file' is required", field="file")
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLarge(f"an import file may hold at most {limit} bytes")
        mapping = _mapping(form.get("mapping"))
        dry_run = _flag(form.get("dry_run"))
        timezone = str(form.get("timezone") or importer.DEFAULT_TIMEZONE)
        time_zone(timezone)  # an unknown zone is refused now, not in the job
        if upload.size is not None and upload.size > get_settings().import_job_bytes:
            content = await upload.read()
            options = {"mapping": mapping, "dry_run": dry_run, "timezone": timezone}
            job = await run_in_threadpool(
                _queue_import, actor.workspace_id, content, upload.filename or "", options
            )
            return JSONResponse(
                job.model_dump(mode="json"),
                status_code=202,
                headers={"Location": job_location(job.id)},
            )
        report = await run_in_threadpool(
            importer.import_people,
            actor.workspace_id,
            upload.file,
            upload.filename or "",
            mapping=mapping,
            dry_run=dry_run,
            timezone=timezone,
        )
    return report.to_body()


def _queue_import(
    workspace_id: uuid.UUID, content: bytes, filename: str, options: dict[str, Any]
) -> JobRead:
    with unit_of_work() as session:
        return JobRead.build(enqueue_import(session, workspace_id, content, filename, options))
