"""Writing what the engine changed: only the difference for state, append-only for history."""

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.orm import Session

from leadpond.ingest.models import Event
from leadpond.ingest.service import derived_event_row
from leadpond.rules.engine import Output, PersonState
from leadpond.rules.models import PersonScore, PersonStage, PersonTag, ScoreLedger, StageChange

_tag_table = cast(Table, PersonTag.__table__)
_score_table = cast(Table, PersonScore.__table__)


def _core(model: Any) -> Table:
    """The model's table: Core executemany skips the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


def write_changes(
    session: Session,
    workspace_id: uuid.UUID,
    states: dict[int, PersonState],
    out: Output,
    now: datetime,
) -> None:
    """Persist tags, scores, stages, the ledger, stage history and derived events."""
    drop_tags: list[dict[str, Any]] = []
    add_tags: list[dict[str, Any]] = []
    drop_scores: list[dict[str, Any]] = []
    add_scores: list[dict[str, Any]] = []
    stage_people: list[int] = []
    add_stages: list[dict[str, Any]] = []
    for pid, state in states.items():
        for tag, row in state.initial_tags.items():
            if state.tags.get(tag) != row:
                drop_tags.append({"p": pid, "t": tag})
        for tag, row in state.tags.items():
            if state.initial_tags.get(tag) != row:
                add_tags.append({"workspace_id": workspace_id, "person_id": pid, **row.__dict__})
        for model, value in state.snap.scores.items():
            if state.initial_scores.get(model) != value:
                if model in state.initial_scores:
                    drop_scores.append({"p": pid, "m": model})
                add_scores.append(
                    {
                        "workspace_id": workspace_id,
                        "person_id": pid,
                        "model": model,
                        "points": value[0],
                        "as_of": value[1],
                    }
                )
        stage = state.snap.stage
        if stage is not None and (stage, state.stage_entered) != state.initial_stage:
            if state.initial_stage is not None:
                stage_people.append(pid)
            add_stages.append(
                {
                    "workspace_id": workspace_id,
                    "person_id": pid,
                    "stage": stage,
                    "entered_at": state.stage_entered,
                }
            )
    if drop_tags:
        session.execute(
            _tag_table.delete().where(
                _tag_table.c.person_id == bindparam("p"), _tag_table.c.tag == bindparam("t")
            ),
            drop_tags,
        )
    if add_tags:
        session.execute(_core(PersonTag).insert(), add_tags)
    if drop_scores:
        session.execute(
            _score_table.delete().where(
                _score_table.c.person_id == bindparam("p"), _score_table.c.model == bindparam("m")
            ),
            drop_scores,
        )
    if add_scores:
        session.execute(_core(PersonScore).insert(), add_scores)
    if stage_people:
        session.execute(delete(PersonStage).where(PersonStage.person_id.in_(stage_people)))
    if add_stages:
        session.execute(_core(PersonStage).insert(), add_stages)
    if out.ledger:
        session.execute(
            _core(ScoreLedger).insert(),
            [{"workspace_id": workspace_id, **row} for row in out.ledger],
        )
    if out.stage_changes:
        session.execute(
            _core(StageChange).insert(),
            [{"workspace_id": workspace_id, **row} for row in out.stage_changes],
        )
    if out.derived:
        session.execute(
            _core(Event).insert(),
            [derived_event_row(workspace_id, row, now) for row in out.derived],
        )
