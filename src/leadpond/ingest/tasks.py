"""Ingest jobs: importing a large people file in the background."""

import io
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadpond.db.engine import read_only, unit_of_work
from leadpond.ingest import importer
from leadpond.ingest.models import ImportUpload
from leadpond.jobs.models import Job
from leadpond.jobs.registry import JobContext
from leadpond.jobs.service import enqueue, fresh_key
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned

IMPORT_PEOPLE = "ingest.import_people"


def enqueue_import(
    session: Session,
    workspace_id: uuid.UUID,
    content: bytes,
    filename: str,
    options: dict[str, Any],
    key: str | None = None,
) -> Job:
    """Keep the file and queue its import, in the caller's transaction (``options``: the
    ``mapping``, ``dry_run`` and ``timezone`` of ``importer.import_people``)."""
    upload = ImportUpload(
        workspace_id=workspace_id, filename=filename[:255], content=content, created_at=utcnow()
    )
    session.add(upload)
    session.flush()
    payload = {"upload_id": upload.id, **options}
    return enqueue(
        session,
        IMPORT_PEOPLE,
        key or f"import:{fresh_key()}",
        payload,
        workspace_id=workspace_id,
    )


def import_people_task(ctx: JobContext) -> dict[str, Any]:
    """Import the kept file (each chunk of rows its own transaction, as the synchronous import
    does; running it again skips what was written), report rows done, then drop the file."""
    upload_id = int(ctx.payload["upload_id"])
    with read_only(ctx.url) as session:
        found = session.execute(
            select(ImportUpload.filename, ImportUpload.content).where(
                ImportUpload.id == upload_id, owned(ImportUpload, ctx.workspace_id)
            )
        ).first()
    if found is None:
        raise LookupError(f"the file of import upload {upload_id} is gone")
    filename, content = found
    ctx.progress(0, None, "rows imported")

    def step(report: importer.ImportReport) -> None:
        ctx.progress(report.rows, None, "rows read")

    report = importer.import_people(
        ctx.workspace_id,
        io.BytesIO(content),
        filename,
        mapping=ctx.payload.get("mapping") or None,
        dry_run=bool(ctx.payload.get("dry_run")),
        timezone=str(ctx.payload.get("timezone") or importer.DEFAULT_TIMEZONE),
        on_progress=step,
    )
    with unit_of_work(ctx.url) as session:
        session.execute(delete(ImportUpload).where(ImportUpload.id == upload_id))
    return report.to_body()
