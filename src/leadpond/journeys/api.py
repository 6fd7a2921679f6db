"""Journeys over HTTP: the current journeys, a person's enrollments explained, and the API
trigger (``POST /journeys/{key}/enroll``)."""

from dataclasses import asdict

from fastapi import APIRouter

from leadpond.db.engine import rolled_back
from leadpond.journeys import reads
from leadpond.journeys.dryrun import dry_run
from leadpond.journeys.report import journey_report
from leadpond.journeys.schemas import (
    DryRunAnswer,
    DryRunRequest,
    EnrollAnswer,
    EnrollmentBrief,
    EnrollmentRead,
    EnrollRequest,
    Explained,
    JourneyList,
    JourneyReport,
    MigrateRequest,
    MigrationAnswer,
    NotEnrolled,
    PersonJourneys,
    WinnerChosen,
    WinnerRequest,
)
from leadpond.journeys.triggers import enroll_by_api
from leadpond.journeys.versions import migrate_enrollments
from leadpond.journeys.winner import choose
from leadpond.kit.clock import naive_utc, utcnow
from leadpond.kit.http import ReadSession, RowId, WriteSession
from leadpond.profiles.service import get_person
from leadpond.users.permissions import ChannelsWrite, PlaybooksRead, PlaybooksWrite

router = APIRouter(prefix="/api/v1", tags=["journeys"])


@router.get("/journeys", response_model=JourneyList)
def list_journeys(actor: PlaybooksRead, session: ReadSession) -> JourneyList:
    """The current playbook's journeys, with their enrollments counted by state."""
    return JourneyList.model_validate(reads.list_journeys(session, actor.workspace_id))


@router.get("/people/{person_id}/journeys", response_model=PersonJourneys)
def person_journeys(person_id: RowId, actor: PlaybooksRead, session: ReadSession) -> PersonJourneys:
    """Every enrollment of the person, each step explained, with its messages' fates."""
    person = get_person(session, actor.workspace_id, person_id)
    found = reads.explain_person(session, actor.workspace_id, person.id)
    return PersonJourneys(
        person_id=person.id, items=[EnrollmentRead.model_validate(e) for e in found]
    )


@router.get("/journeys/{key}/people/{person_id}", response_model=Explained)
def explain(key: str, person_id: RowId, actor: PlaybooksRead, session: ReadSession) -> Explained:
    """Why the person is (or is not) in the journey, and each step they took."""
    person = get_person(session, actor.workspace_id, person_id)
    found = reads.explain_person(session, actor.workspace_id, person.id, key)
    if found:
        items = [EnrollmentRead.model_validate(e) for e in found]
        return Explained(person_id=person.id, enrolled=True, items=items)
    why = NotEnrolled.model_validate(reads.why_not(session, actor.workspace_id, key, person.id))
    return Explained(person_id=person.id, enrolled=False, journey=why, items=[])


@router.post("/journeys/{key}/enroll", status_code=201, response_model=EnrollAnswer)
def enroll(
    key: str, body: EnrollRequest, actor: ChannelsWrite, session: WriteSession
) -> EnrollAnswer:
    """Enroll a person now and run their first steps (the API trigger). ``enrolled`` is false
    when the re-entry rule, the entry condition or the entry limit kept them out;
    ``enrollment`` is then their latest one, if any."""
    report, enrollment = enroll_by_api(
        session, actor.workspace_id, key, body.person_id, actor.via, utcnow()
    )
    return EnrollAnswer(
        enrolled=bool(report.enrolled),
        reentry_refused=report.reentry_refused,
        not_eligible=report.not_eligible,
        over_limit=report.over_limit,
        enrollment=None
        if enrollment is None
        else EnrollmentBrief.model_validate(enrollment, from_attributes=True),
    )


@router.post("/journeys/{key}/dry-run", response_model=DryRunAnswer)
def dry_run_journey(key: str, body: DryRunRequest, actor: PlaybooksRead) -> DryRunAnswer:
    """What the journey would have done over ``since``..``until`` of the real history, run by
    the engine in a transaction that is rolled back: nothing is kept, nothing is sent."""
    with rolled_back() as session:
        report = dry_run(
            session, actor.workspace_id, key, naive_utc(body.since), naive_utc(body.until)
        )
        return DryRunAnswer.model_validate(asdict(report))


@router.get("/journeys/{key}/report", response_model=JourneyReport)
def report(key: str, actor: PlaybooksRead, session: ReadSession) -> JourneyReport:
    """How many entered, ran and wait at each step; each send's fate; an A/B split's variants
    side by side with p-values against the first."""
    return JourneyReport.model_validate(journey_report(session, actor.workspace_id, key))


@router.post("/journeys/{key}/winner", status_code=201, response_model=WinnerChosen)
def choose_winner(
    key: str, body: WinnerRequest, actor: ChannelsWrite, session: WriteSession
) -> WinnerChosen:
    """Choose the winner of an A/B test now (before its time is up): the people waiting for it
    get the winning variant's message at the next run. 409 ``winner_decided`` once chosen."""
    decided = choose(
        session, actor.workspace_id, key, body.split, body.variant, actor.via, utcnow()
    )
    return WinnerChosen.model_validate(decided, from_attributes=True)


@router.post("/journeys/{key}/migrate", response_model=MigrationAnswer)
def migrate(
    key: str, body: MigrateRequest, actor: PlaybooksWrite, session: WriteSession
) -> MigrationAnswer:
    """Move the journey's waiting enrollments of ``from_version`` to the current playbook
    version's step of the same id; ``refused`` lists those whose step it no longer has (they
    stay on their version)."""
    report = migrate_enrollments(session, actor.workspace_id, key, body.from_version, utcnow())
    return MigrationAnswer.model_validate(asdict(report))
