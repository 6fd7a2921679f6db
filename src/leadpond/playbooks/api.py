"""The playbook API: apply (YAML body), export, validate, and the JSON Schema for editors."""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from leadpond.db.engine import rolled_back
from leadpond.jobs.api import IdempotencyKey, accepted, locate
from leadpond.jobs.schemas import JobRead
from leadpond.journeys.schemas import DryRunAnswer
from leadpond.kit.clock import naive_utc
from leadpond.kit.errors import InvalidInput
from leadpond.kit.http import ReadSession, WriteSession
from leadpond.playbooks import service
from leadpond.playbooks.tasks import enqueue_replay
from leadpond.rules.playbook import json_schema
from leadpond.users.permissions import PlaybooksRead, PlaybooksWrite

router = APIRouter(prefix="/api/v1/playbook", tags=["playbooks"])
# Replaying history runs the rules and rebuilds the segments: it is the playbook's to start.
replay_router = APIRouter(prefix="/api/v1", tags=["rules"])

_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


async def yaml_body(request: Request) -> str:
    """The raw request body as text (YAML or JSON)."""
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the playbook must be UTF-8 text") from exc


YamlBody = Annotated[str, Depends(yaml_body)]


class ApplyRead(BaseModel):
    version: int
    changed: bool
    backfill_job: JobRead | None = Field(
        default=None, description="the queued history replay (with backfill=true)"
    )


class ValidRead(BaseModel):
    valid: bool
    rules: int


@router.post(
    "",
    response_model=ApplyRead,
    openapi_extra=_YAML_BODY,
    responses={202: {"description": "applied; the history replay is queued as a job"}},
)
def apply_playbook(
    body: YamlBody,
    actor: PlaybooksWrite,
    session: WriteSession,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    backfill: bool = False,
) -> ApplyRead:
    """Make this playbook the workspace's rules; ``backfill=true`` also queues a replay of
    history with them (a job, committed with the new version) and answers 202 with it."""
    result = service.apply_playbook(session, actor.workspace_id, body, actor=actor.via)
    job = None
    if backfill:
        job = enqueue_replay(session, actor.workspace_id, idempotency_key)
        response.status_code = 202
        locate(response, job)
    return ApplyRead(
        version=result.version,
        changed=result.changed,
        backfill_job=JobRead.build(job) if job is not None else None,
    )


@router.post("/validate", response_model=ValidRead, openapi_extra=_YAML_BODY)
def validate_playbook(body: YamlBody, actor: PlaybooksRead) -> ValidRead:
    """Check a playbook without applying it (422 with every error's line and key)."""
    valid = service.validate_playbook(body)
    rs = valid.ruleset
    count = len(rs.tag_rules) + len(rs.score_rules) + len(rs.key_events) + len(rs.stage_rules)
    return ValidRead(valid=True, rules=count)


@router.post("/journeys/{key}/dry-run", response_model=DryRunAnswer, openapi_extra=_YAML_BODY)
def dry_run_draft(
    key: str,
    body: YamlBody,
    actor: PlaybooksRead,
    since: Annotated[datetime, Query(description="replay the history from here (UTC)")],
    until: Annotated[datetime, Query(description="up to here; steps due by then run")],
) -> DryRunAnswer:
    """Journey ``key`` of this draft playbook (the body, not applied) tried on the real history
    between ``since`` and ``until``: the draft is applied and the journey run by the engine in
    a transaction that is rolled back — nothing is kept, nothing is sent. 422 with every
    error's line for an invalid draft."""
    with rolled_back() as session:
        report = service.dry_run_draft(
            session, actor.workspace_id, body, key, naive_utc(since), naive_utc(until)
        )
        return DryRunAnswer.model_validate(asdict(report))


@router.get(
    "",
    responses={
        200: {
            "description": "The playbook as YAML (its schema: /api/v1/playbook/schema)",
            "content": {"application/yaml": {"schema": {"type": "object"}}},
        }
    },
)
def export_playbook(actor: PlaybooksRead, session: ReadSession) -> PlainTextResponse:
    """The current playbook as YAML, exactly as applied."""
    text = service.export_playbook(session, actor.workspace_id)
    return PlainTextResponse(text, media_type="application/yaml")


@router.get("/schema")
def playbook_schema() -> dict[str, Any]:
    """The JSON Schema of playbook files (public: editors fetch it)."""
    return json_schema()


@replay_router.post("/rules/backfill", response_model=JobRead, status_code=202)
def run_backfill(
    actor: PlaybooksWrite,
    session: WriteSession,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobRead:
    """Queue a replay of the workspace's history through its current rules (a job: one
    transaction per 2,000 people, then its segments are rebuilt); answers 202 at once with the
    job, whose ``Location`` reports progress and, when done, the backfill report."""
    job = enqueue_replay(session, actor.workspace_id, idempotency_key)
    return accepted(response, job)
