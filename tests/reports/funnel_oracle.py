"""The dashboard's funnel counted directly from ``stage_change`` and ``person_stage``: the
definition the rollups (``rules.stage_days``) must answer exactly, kept here as the oracle."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from leadpond.kit.scope import owned
from leadpond.reports.dashboard import FunnelStep, _bounds
from leadpond.rules.models import PersonStage, StageChange


def _pairs(result: Any) -> dict[Any, Any]:
    return {key: value for key, value in result}


def direct_funnel(
    session: Session,
    workspace_id: uuid.UUID,
    start: date,
    end: date,
    order: list[str],
    detours: set[str],
) -> list[FunnelStep]:
    """The funnel of the range as the dashboard defined it before the rollups."""
    low, high = _bounds(start, end)
    in_range = (owned(StageChange, workspace_id), StageChange.at >= low, StageChange.at < high)
    line = [s for s in order if s not in detours]
    furthest: dict[int, int] = {}
    if line:
        position = case({stage: i for i, stage in enumerate(line)}, value=StageChange.to_stage)
        per_person = (
            select(func.max(position).label("top"))
            .where(*in_range, StageChange.to_stage.in_(line))
            .group_by(StageChange.person_id)
            .subquery()
        )
        furthest = _pairs(
            session.execute(select(per_person.c.top, func.count()).group_by(per_person.c.top))
        )
    entered: dict[str, int] = _pairs(
        session.execute(
            select(StageChange.to_stage, func.count(func.distinct(StageChange.person_id)))
            .where(*in_range, StageChange.to_stage.not_in(line))
            .group_by(StageChange.to_stage)
        )
    )
    current: dict[str, int] = _pairs(
        session.execute(
            select(PersonStage.stage, func.count())
            .where(
                owned(PersonStage, workspace_id),
                PersonStage.entered_at >= low,
                PersonStage.entered_at < high,
            )
            .group_by(PersonStage.stage)
        )
    )
    steps: list[FunnelStep] = []
    beyond = sum(furthest.values())
    previous: int | None = None
    for i, stage in enumerate(line):
        reached = beyond
        beyond -= int(furthest.get(i, 0))
        rate = round(reached / previous, 4) if previous else None
        steps.append(
            FunnelStep(
                stage=stage, reached=reached, current=int(current.get(stage, 0)), conversion=rate
            )
        )
        previous = reached
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
