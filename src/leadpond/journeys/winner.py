"""The winner of a journey's A/B test (scenario S6): chosen once per journey version and split,
by hand or by the rates when the test's time is up, and then sent to the rest.

The split sends some people to each tested variant's send step and the rest to a
``send_winner`` step, where they wait. When the winner is known, each of them gets the winning
variant's message (with the winner step's own idempotency key, so never twice).
"""

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.journeys.definitions import Journey, Step, tested_arms
from leadpond.journeys.models import Enrollment, EnrollmentState, JourneyWinner, StepLog
from leadpond.journeys.report import variant_figures
from leadpond.journeys.service import JourneyNotFound, journeys_of
from leadpond.kit.errors import Conflict, InvalidInput
from leadpond.kit.scope import owned

RATE = {"clicks": "click_rate", "opens": "open_rate", "goal": "goal_rate"}


class WinnerDecided(Conflict):
    code = "winner_decided"


def winner_of(
    session: Session, workspace_id: uuid.UUID, key: str, version: int, split: str
) -> JourneyWinner | None:
    """The decision for this version's split, if it was made."""
    return session.scalar(
        select(JourneyWinner).where(
            owned(JourneyWinner, workspace_id),
            JourneyWinner.journey_key == key,
            JourneyWinner.version == version,
            JourneyWinner.split_step == split,
        )
    )


def decision_time(
    session: Session, workspace_id: uuid.UUID, journey: Journey, version: int, step: Step
) -> datetime | None:
    """When the test's time is up: ``after`` from the first person through the split."""
    assert step.split is not None and step.after is not None
    first = session.scalar(
        select(func.min(StepLog.at))
        .join(Enrollment, Enrollment.id == StepLog.enrollment_id)
        .where(
            owned(Enrollment, workspace_id),
            Enrollment.journey_key == journey.key,
            Enrollment.version == version,
            StepLog.step == step.split,
            StepLog.kind == "split",
        )
    )
    return None if first is None else first + step.after


def decide(
    session: Session,
    workspace_id: uuid.UUID,
    journey: Journey,
    version: int,
    step: Step,
    now: datetime,
    *,
    variant: str | None = None,
    actor: str = "auto",
) -> JourneyWinner:
    """Record the winner of the test ``step`` (a send_winner) waits for: ``variant`` when a
    user chose it, else the tested variant with the best rate ``by`` (ties: the first listed);
    returns the decision that stands (a concurrent one may have come first). The people
    waiting for it become due now."""
    assert step.split is not None and step.by is not None
    tested = [arm.variant for arm in tested_arms(journey.steps[step.split], step.id)]
    figures = [
        row
        for row in variant_figures(session, workspace_id, journey, version)
        if row["variant"] in tested
    ]
    if variant is None:
        rate = RATE[step.by]
        best = max(figures, key=lambda row: row[rate] if row[rate] is not None else -1.0)
        variant = str(best["variant"])
    elif variant not in tested:
        raise InvalidInput(
            f"{variant!r} is not a variant tested by split {step.split!r}: "
            f"{', '.join(str(t) for t in tested)}",
            field="variant",
        )
    insert = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(
        insert(JourneyWinner)
        .values(
            workspace_id=workspace_id,
            journey_key=journey.key,
            version=version,
            split_step=step.split,
            variant=variant,
            by=step.by if actor == "auto" else "hand",
            decided_by=actor[:128],
            decided_at=now,
            figures=figures,
        )
        .on_conflict_do_nothing(
            index_elements=["workspace_id", "journey_key", "version", "split_step"]
        )
    )
    # Another run or user may have decided first: theirs stands.
    found = winner_of(session, workspace_id, journey.key, version, step.split)
    assert found is not None
    session.execute(
        update(Enrollment)
        .where(
            owned(Enrollment, workspace_id),
            Enrollment.journey_key == journey.key,
            Enrollment.version == version,
            Enrollment.step == step.id,
            Enrollment.state == EnrollmentState.ACTIVE.value,
            Enrollment.due_at > now,
        )
        .values(due_at=now)
        .execution_options(synchronize_session=False)
    )
    return found


def choose(
    session: Session,
    workspace_id: uuid.UUID,
    key: str,
    split: str,
    variant: str,
    actor: str,
    now: datetime,
) -> JourneyWinner:
    """A user's choice of the winner of the current version's ``split`` (the API)."""
    found = journeys_of(session, workspace_id)
    if found is None or key not in found[1]:
        raise JourneyNotFound(f"no journey {key!r} in the current playbook", field="key")
    version, journeys = found
    journey = journeys[key]
    waiting = [s for s in journey.steps.values() if s.kind == "send_winner" and s.split == split]
    if not waiting:
        raise InvalidInput(f"no step of {key!r} sends the winner of split {split!r}", field="split")
    decided = winner_of(session, workspace_id, key, version, split)
    if decided is None:
        decided = decide(
            session, workspace_id, journey, version, waiting[0], now, variant=variant, actor=actor
        )
        if decided.decided_by == actor[:128] and decided.variant == variant:
            return decided
    raise WinnerDecided(
        f"split {split!r} already chose {decided.variant!r} ({decided.decided_by})",
        field="variant",
    )
