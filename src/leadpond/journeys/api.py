"""Journeys over HTTP: the current journeys, a person's enrollments explained, and the API
trigger (``POST /journeys/{key}/enroll``)."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from leadpond.journeys import reads
from leadpond.journeys.service import enroll_by_api
from leadpond.kit.clock import utcnow
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.profiles.service import get_person
from leadpond.users.permissions import ChannelsWrite, PlaybooksRead

router = APIRouter(prefix="/api/v1", tags=["journeys"])


class EnrollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: int = Field(ge=1, le=2**63 - 1)


@router.get("/journeys")
def list_journeys(actor: PlaybooksRead, session: ReadSession) -> dict[str, Any]:
    """The current playbook's journeys, with their enrollments counted by state."""
    return reads.list_journeys(session, actor.workspace_id)


@router.get("/people/{person_id}/journeys")
def person_journeys(person_id: RowId, actor: PlaybooksRead, session: ReadSession) -> dict[str, Any]:
    """Every enrollment of the person, each step explained, with its messages' fates."""
    person = get_person(session, actor.workspace_id, person_id)
    return {
        "person_id": person.id,
        "items": reads.explain_person(session, actor.workspace_id, person.id),
    }


@router.get("/journeys/{key}/people/{person_id}")
def explain(
    key: str, person_id: RowId, actor: PlaybooksRead, session: ReadSession
) -> dict[str, Any]:
    """Why the person is (or is not) in the journey, and each step they took."""
    person = get_person(session, actor.workspace_id, person_id)
    found = reads.explain_person(session, actor.workspace_id, person.id, key)
    if found:
        return {"person_id": person.id, "enrolled": True, "items": found}
    return {
        "person_id": person.id,
        "enrolled": False,
        "journey": reads.why_not(session, actor.workspace_id, key, person.id),
        "items": [],
    }


@router.post("/journeys/{key}/enroll", status_code=201)
def enroll(
    key: str, body: EnrollRequest, actor: ChannelsWrite, session: WriteSession
) -> dict[str, Any]:
    """Enroll a person now and run their first steps (the API trigger). ``enrolled`` is false
    when the re-entry rule or the entry condition kept them out; ``enrollment`` is then their
    latest one, if any."""
    report, enrollment = enroll_by_api(
        session, actor.workspace_id, key, body.person_id, actor.via, utcnow()
    )
    return {
        "enrolled": bool(report.enrolled),
        "reentry_refused": report.reentry_refused,
        "not_eligible": report.not_eligible,
        "enrollment": None
        if enrollment is None
        else {
            "id": enrollment.id,
            "state": enrollment.state,
            "step": enrollment.step,
            "due_at": enrollment.due_at,
            "variant": enrollment.variant,
        },
    }
