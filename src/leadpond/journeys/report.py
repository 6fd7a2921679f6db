"""A journey's report: how many entered, ran each step and wait at it, how each send fared
(sent, delivered, bounced, skipped, opened, clicked, unsubscribed — opens and clicks by people,
not by link scanners), and for an A/B split, each variant side by side with a significance
figure against the first one (scenario S6)."""

import math
import uuid
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadpond.channels.models import Message, MessageEvent
from leadpond.journeys.definitions import Journey
from leadpond.journeys.models import Enrollment, EnrollmentState, JourneyWinner, StepLog
from leadpond.journeys.service import JourneyNotFound, journeys_of
from leadpond.kit.scope import owned
from leadpond.rules.state import chunks

# Receipts counted once per message: a person who opened twice opened once.
ENGAGEMENTS = ("opened", "clicked", "unsubscribed")


def journey_report(session: Session, workspace_id: uuid.UUID, key: str) -> dict[str, Any]:
    """The report of journey ``key`` of the current playbook, over all its enrollments."""
    found = journeys_of(session, workspace_id)
    if found is None or key not in found[1]:
        raise JourneyNotFound(f"no journey {key!r} in the current playbook", field="key")
    journey = found[1][key]
    mine = (owned(Enrollment, workspace_id), Enrollment.journey_key == key)
    states = _counts(
        session.execute(
            select(Enrollment.state, func.count()).where(*mine).group_by(Enrollment.state)
        )
    )
    waiting = _counts(
        session.execute(
            select(Enrollment.step, func.count())
            .where(*mine, Enrollment.state == EnrollmentState.ACTIVE.value)
            .group_by(Enrollment.step)
        )
    )
    ran, sent_by = _steps_run(session, mine)
    fates = _fates(session, workspace_id, list(sent_by))
    sends: dict[str, Counter[str]] = defaultdict(Counter)
    for message_id, (step, _) in sent_by.items():
        sends[step].update(fates.get(message_id, ()))
    return {
        "key": key,
        "name": journey.name,
        "entered": sum(states.values()),
        "states": states,
        "steps": [
            {
                "id": step.id,
                "kind": step.kind,
                "names": dict(step.names),
                "ran": ran.get(step.id, 0),
                "waiting": waiting.get(step.id, 0),
                **(
                    {"messages": dict(sends[step.id])}
                    if step.kind in ("send", "send_winner", "send_content", "webhook", "notify")
                    else {}
                ),
            }
            for step in journey.steps.values()
        ],
        "variants": _variants(session, journey, mine, sent_by, fates),
        "winners": [
            {
                "split": w.split_step,
                "version": w.version,
                "variant": w.variant,
                "by": w.by,
                "decided_by": w.decided_by,
                "decided_at": w.decided_at,
            }
            for w in session.scalars(
                select(JourneyWinner)
                .where(owned(JourneyWinner, workspace_id), JourneyWinner.journey_key == key)
                .order_by(JourneyWinner.id)
            )
        ],
    }


def variant_figures(
    session: Session, workspace_id: uuid.UUID, journey: Journey, version: int
) -> list[dict[str, Any]]:
    """The variants' rows of the report, for one version of the journey (an A/B decision)."""
    mine = (
        owned(Enrollment, workspace_id),
        Enrollment.journey_key == journey.key,
        Enrollment.version == version,
    )
    _, sent_by = _steps_run(session, mine)
    return _variants(session, journey, mine, sent_by, _fates(session, workspace_id, list(sent_by)))


def _steps_run(
    session: Session, mine: tuple[Any, ...]
) -> tuple[Counter[str], dict[int, tuple[str, str | None]]]:
    """How many ran each step, and each message the journey queued → (step, variant)."""
    ran: Counter[str] = Counter()
    sent_by: dict[int, tuple[str, str | None]] = {}
    ids = select(Enrollment.id).where(*mine)
    # A step that waits (wait_for, send_winner) logs when it starts and when it ends: count
    # enrollments, not entries.
    seen: set[tuple[int, str]] = set()
    for enrollment_id, step, kind, message_id, variant in session.execute(
        select(
            StepLog.enrollment_id,
            StepLog.step,
            StepLog.kind,
            StepLog.message_id,
            Enrollment.variant,
        )
        .join(Enrollment, Enrollment.id == StepLog.enrollment_id)
        .where(StepLog.enrollment_id.in_(ids))
    ):
        if kind not in ("entered", "end") and (enrollment_id, step) not in seen:
            seen.add((enrollment_id, step))
            ran[step] += 1
        if message_id is not None:
            sent_by[message_id] = (step, variant)
    return ran, sent_by


def _fates(
    session: Session, workspace_id: uuid.UUID, message_ids: list[int]
) -> dict[int, set[str]]:
    """Per message: its status, and each engagement a person (not a scanner) had with it."""
    fates: dict[int, set[str]] = defaultdict(set)
    for ids in chunks(set(message_ids)):
        for message_id, status in session.execute(
            select(Message.id, Message.status).where(
                owned(Message, workspace_id), Message.id.in_(ids)
            )
        ):
            fates[message_id].add(status)
        for message_id, kind, detail in session.execute(
            select(MessageEvent.message_id, MessageEvent.kind, MessageEvent.detail).where(
                owned(MessageEvent, workspace_id),
                MessageEvent.message_id.in_(ids),
                MessageEvent.kind.in_(ENGAGEMENTS),
            )
        ):
            if not (detail or {}).get("bot"):
                fates[message_id].add(kind)
    return fates


def _variants(
    session: Session,
    journey: Journey,
    mine: tuple[Any, ...],
    sent_by: dict[int, tuple[str, str | None]],
    fates: dict[int, set[str]],
) -> list[dict[str, Any]]:
    """Each variant of the journey's splits: people, sends and what they did, rates per
    message and per person, and how sure a difference with the first variant is."""
    if not any(step.kind == "split" for step in journey.steps.values()):
        return []
    people = _counts(
        session.execute(
            select(Enrollment.variant, func.count())
            .where(*mine, Enrollment.variant.is_not(None))
            .group_by(Enrollment.variant)
        )
    )
    goals = _counts(
        session.execute(
            select(Enrollment.variant, func.count())
            .where(*mine, Enrollment.state == EnrollmentState.GOAL.value)
            .group_by(Enrollment.variant)
        )
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for message_id, (_, variant) in sent_by.items():
        if variant is not None:
            counts[variant]["messages"] += 1
            counts[variant].update(fates.get(message_id, set()) & {"opened", "clicked"})
    order = [arm.variant for step in journey.steps.values() for arm in step.arms if arm.variant]
    tallies = [
        (
            variant,
            people.get(variant, 0),
            counts[variant]["messages"],
            counts[variant]["opened"],
            counts[variant]["clicked"],
            goals.get(variant, 0),
        )
        for variant in dict.fromkeys(order)
    ]
    rows: list[dict[str, Any]] = []
    for variant, n, sent, opened, clicked, goal in tallies:
        row: dict[str, Any] = {
            "variant": variant,
            "people": n,
            "messages": sent,
            "opened": opened,
            "clicked": clicked,
            "goal": goal,
            "open_rate": _rate(opened, sent),
            "click_rate": _rate(clicked, sent),
            "goal_rate": _rate(goal, n),
        }
        if rows:
            _, n_a, sent_a, _, clicked_a, goal_a = tallies[0]
            row["click_p_value"] = two_proportion_p(clicked_a, sent_a, clicked, sent)
            row["goal_p_value"] = two_proportion_p(goal_a, n_a, goal, n)
        rows.append(row)
    return rows


def _counts(rows: Any) -> dict[Any, int]:
    """``(key, count)`` rows as a dict."""
    return {key: int(n) for key, n in rows}


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def two_proportion_p(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float | None:
    """Two-sided p-value of the two-proportion z-test (pooled): how likely a difference at
    least this large between the rates is if the variants were in fact the same. None when a
    side is empty or nobody (or everybody) converted, where the test says nothing."""
    if n_a == 0 or n_b == 0:
        return None
    pooled = (hits_a + hits_b) / (n_a + n_b)
    if pooled in (0.0, 1.0):
        return None
    error = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = (hits_b / n_b - hits_a / n_a) / error
    return round(math.erfc(abs(z) / math.sqrt(2)), 4)
