"""The dashboard's numbers: stage funnel, new people per channel over time, top tags, scores.

All counts are computed in the database for one workspace and one date range.
"""

import math
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from leadpond.kit.errors import InvalidInput
from leadpond.profiles.touches import OTHER_GROUP, load_grouping
from leadpond.reports import tallies
from leadpond.reports.rollups import processed_events
from leadpond.rules import stage_days
from leadpond.rules.vocabulary import detour_stages, stage_order
from leadpond.rules.vocabulary import score_models as playbook_score_models

MAX_RANGE_DAYS = 800
TOP_TAGS = 15
SCORE_BUCKETS = 10


class FunnelStep(BaseModel):
    """One stage of the funnel: on its line, or a detour after it."""

    stage: str
    reached: int = Field(description="people who reached this stage or a later one in the range")
    current: int = Field(
        description="people who entered this stage in the range and are still at it (never "
        "more than reached)"
    )
    conversion: float | None = Field(description="share of the previous step (at most 1)")
    detour: bool = Field(default=False, description="off the funnel's line (dormant, disqualified)")


class Dashboard(BaseModel):
    """Everything the dashboard shows for one date range."""

    start: date
    end: date
    people_total: int
    people_new: int
    events: int
    funnel: list[FunnelStep]
    new_people: dict[str, dict[str, int]]  # channel group -> day -> people first seen
    channel_labels: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="channel group -> {zh, en} label"
    )
    top_tags: list[tuple[str, int]]
    score_model: str | None
    score_models: list[str]
    score_histogram: list[tuple[str, int]]


def _pairs(result: Any) -> dict[Any, Any]:
    # dict(result) would treat a Result as a mapping (it has .keys()): unpack rows instead.
    return {key: value for key, value in result}


def check_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The date range asked for (default: the last 90 days), or 400."""
    end = end or today
    start = start or end - timedelta(days=89)
    if start > end:
        raise InvalidInput("start must not be after end", field="start")
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput(f"a range spans at most {MAX_RANGE_DAYS} days", field="start")
    return start, end


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


def funnel(
    session: Session,
    workspace_id: uuid.UUID,
    start: date,
    end: date,
    order: list[str],
    detours: set[str],
) -> list[FunnelStep]:
    """The stage funnel of the range, in playbook order.

    A step counts the people who reached its stage *or a later one* in the range: a person who
    skipped a stage (a demo request makes an unknown visitor an opportunity) still passed it,
    so each step holds at most the one before and its conversion is at most 100%. Detours
    follow the line, counting the people who entered them in the range, without a conversion.
    "Here now" counts the people still at the stage they entered in the range: at most reached.

    Read from the rollups the rules keep (``rules.stage_days``), which count for the playbook's
    line: a sum over the range's days, whatever the number of people.
    """
    line = [s for s in order if s not in detours]
    reached = stage_days.reached(session, workspace_id, start, end)
    entered = {stage: n for stage, n in reached.items() if stage not in line}
    # Here now, of the range: people still at the stage they entered in it. Counting everyone
    # at the stage (since any date) showed more "here now" than "reached" for a short range.
    current = stage_days.here_now(session, workspace_id, start, end)
    steps = _line_steps(line, reached, current)
    off_line = [s for s in order if s in detours]
    off_line += sorted((set(entered) | set(current)) - set(order))
    for stage in off_line:
        if stage in entered or stage in current or stage in detours:
            steps.append(
                FunnelStep(
                    stage=stage,
                    reached=int(entered.get(stage, 0)),
                    current=int(current.get(stage, 0)),
                    conversion=None,
                    detour=True,
                )
            )
    return steps


def _line_steps(
    line: list[str], reached: dict[str, int], current: dict[str, int]
) -> list[FunnelStep]:
    """The funnel's line: people who reached each stage or a later one, with conversions."""
    steps: list[FunnelStep] = []
    previous: int | None = None
    for stage in line:
        count = int(reached.get(stage, 0))
        rate = round(count / previous, 4) if previous else None
        steps.append(
            FunnelStep(
                stage=stage, reached=count, current=int(current.get(stage, 0)), conversion=rate
            )
        )
        previous = count
    return steps


def new_people(
    session: Session, workspace_id: uuid.UUID, start: date, end: date
) -> dict[str, dict[str, int]]:
    """People first seen in the range, per channel group of their first touch and per day (the
    person's ``first_channel``, kept by the pipeline), from the ``people_day`` tally."""
    series: dict[str, dict[str, int]] = {}
    for day, channel, people in tallies.people_days(session, workspace_id, start, end):
        per_day = series.setdefault(channel or OTHER_GROUP, {})
        per_day[day.isoformat()] = per_day.get(day.isoformat(), 0) + people
    return series


def channel_labels(session: Session, workspace_id: uuid.UUID) -> dict[str, dict[str, str]]:
    """The workspace's channel groups with their Chinese and English labels."""
    grouping = load_grouping(session, workspace_id)
    chinese, english = grouping.labels("zh"), grouping.labels("en")
    return {key: {"zh": chinese[key], "en": english[key]} for key in chinese}


def top_tags(
    session: Session, workspace_id: uuid.UUID, limit: int = TOP_TAGS
) -> list[tuple[str, int]]:
    """The most held tags and how many people hold each."""
    return tallies.tag_holders(session, workspace_id, limit)


def scored_models(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """The score models people have points in."""
    return tallies.scored_models(session, workspace_id)


def score_models(session: Session, workspace_id: uuid.UUID, scored: list[str]) -> list[str]:
    """Every score model of the workspace: the playbook's, in its order, then any other that
    people have points in (``scored``; a model since removed from the playbook)."""
    defined = [key for key, _ in playbook_score_models(session, workspace_id)]
    return list(dict.fromkeys([*defined, *scored]))


def score_histogram(
    session: Session, workspace_id: uuid.UUID, model: str, buckets: int = SCORE_BUCKETS
) -> list[tuple[str, int]]:
    """How many people fall in each of ``buckets`` equal score bands of the model.

    The bands run from the lowest points held to the highest; a value's band is
    ``floor((points - lowest) / width)``, the top value in the last band.
    """
    held = tallies.score_points(session, workspace_id, model)
    if not held:
        return []
    low, high = held[0][0], held[-1][0]
    width = max((high - low) / buckets, 1e-9)
    counts = [0] * buckets
    for points, people in held:
        counts[min(math.floor((points - low) / width), buckets - 1)] += people
    return [(f"{low + i * width:g}–{low + (i + 1) * width:g}", counts[i]) for i in range(buckets)]


def build(
    session: Session,
    workspace_id: uuid.UUID,
    start: date,
    end: date,
    model: str | None = None,
) -> Dashboard:
    """Everything the dashboard shows for the range."""
    total = tallies.people_total(session, workspace_id)
    series = new_people(session, workspace_id, start, end)
    new = sum(sum(days.values()) for days in series.values())
    # Received events of the range, from the rollup the pipeline keeps (not a count of the log).
    events = processed_events(session, workspace_id, start, end)
    scored = scored_models(session, workspace_id)
    models = score_models(session, workspace_id, scored)
    chosen = model if model in models else None
    if chosen is None and models:
        # The first model anyone has points in: a model nobody scored yet would draw nothing.
        chosen = next((m for m in models if m in scored), models[0])
    return Dashboard(
        start=start,
        end=end,
        people_total=int(total),
        people_new=int(new or 0),
        events=int(events or 0),
        funnel=funnel(
            session,
            workspace_id,
            start,
            end,
            stage_order(session, workspace_id),
            detour_stages(session, workspace_id),
        ),
        new_people=series,
        channel_labels=channel_labels(session, workspace_id),
        top_tags=top_tags(session, workspace_id),
        score_model=chosen,
        score_histogram=score_histogram(session, workspace_id, chosen) if chosen else [],
        score_models=models,
    )
