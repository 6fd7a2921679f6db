"""Writing what the engine changed: only the difference for state, append-only for history."""

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.orm import Session

from leadpond.ingest.models import Event
from leadpond.ingest.service import derived_event_row
from leadpond.profiles.models import Person
from leadpond.rules.engine import Output, PersonState
from leadpond.rules.models import PersonScore, PersonStage, PersonTag, ScoreLedger, StageChange
from leadpond.rules.stage_days import EntryKey, count_moves, utc_day
from leadpond.rules.state import chunks

_tag_table = cast(Table, PersonTag.__table__)
_score_table = cast(Table, PersonScore.__table__)
_person_table = cast(Table, Person.__table__)


def _core(model: Any) -> Table:
    """The model's table: Core executemany skips the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


@dataclass
class _StateDiff:
    """The rows to delete and insert so that stored tags, scores and stages match the engine's."""

    drop_tags: list[dict[str, Any]] = field(default_factory=list)
    add_tags: list[dict[str, Any]] = field(default_factory=list)
    drop_scores: list[dict[str, Any]] = field(default_factory=list)
    add_scores: list[dict[str, Any]] = field(default_factory=list)
    stage_people: list[int] = field(default_factory=list)
    add_stages: list[dict[str, Any]] = field(default_factory=list)
    # (person, stage) of the people whose stage key changed (not only its entry time)
    new_stages: list[tuple[int, str | None]] = field(default_factory=list)
    # +1 per person_stage row written, -1 per row replaced, by (stage, day entered)
    entries: Counter[EntryKey] = field(default_factory=Counter)


def write_changes(
    session: Session,
    workspace_id: uuid.UUID,
    states: dict[int, PersonState],
    out: Output,
    now: datetime,
) -> None:
    """Persist tags, scores, stages, the ledger, stage history and derived events, and count
    the stage moves in the funnel's rollups (before they are written: see ``count_moves``)."""
    diff = _state_diff(workspace_id, states)
    count_moves(session, workspace_id, out.stage_changes, diff.entries)
    _write_state(session, diff)
    _append_history(session, workspace_id, out, now)


def _state_diff(workspace_id: uuid.UUID, states: dict[int, PersonState]) -> _StateDiff:
    diff = _StateDiff()
    for pid, state in states.items():
        for tag, row in state.initial_tags.items():
            if state.tags.get(tag) != row:
                diff.drop_tags.append({"p": pid, "t": tag})
        for tag, row in state.tags.items():
            if state.initial_tags.get(tag) != row:
                diff.add_tags.append(
                    {"workspace_id": workspace_id, "person_id": pid, **row.__dict__}
                )
        for model, value in state.snap.scores.items():
            if state.initial_scores.get(model) != value:
                if model in state.initial_scores:
                    diff.drop_scores.append({"p": pid, "m": model})
                diff.add_scores.append(
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
            assert state.stage_entered is not None  # the engine enters a stage at a time
            if state.initial_stage is not None:
                diff.stage_people.append(pid)
                before, entered = state.initial_stage
                diff.entries[(before, utc_day(entered))] -= 1
            diff.entries[(stage, utc_day(state.stage_entered))] += 1
            if state.initial_stage is None or state.initial_stage[0] != stage:
                diff.new_stages.append((pid, stage))
            diff.add_stages.append(
                {
                    "workspace_id": workspace_id,
                    "person_id": pid,
                    "stage": stage,
                    "entered_at": state.stage_entered,
                }
            )
    return diff


def _write_state(session: Session, diff: _StateDiff) -> None:
    if diff.drop_tags:
        session.execute(
            _tag_table.delete().where(
                _tag_table.c.person_id == bindparam("p"), _tag_table.c.tag == bindparam("t")
            ),
            diff.drop_tags,
        )
    if diff.add_tags:
        session.execute(_core(PersonTag).insert(), diff.add_tags)
    if diff.drop_scores:
        session.execute(
            _score_table.delete().where(
                _score_table.c.person_id == bindparam("p"), _score_table.c.model == bindparam("m")
            ),
            diff.drop_scores,
        )
    if diff.add_scores:
        session.execute(_core(PersonScore).insert(), diff.add_scores)
    if diff.stage_people:
        session.execute(delete(PersonStage).where(PersonStage.person_id.in_(diff.stage_people)))
    if diff.add_stages:
        session.execute(_core(PersonStage).insert(), diff.add_stages)
    keep_person_stages(session, diff.new_stages)


def keep_person_stages(session: Session, stages: Sequence[tuple[int, str | None]]) -> None:
    """Copy people's stage keys (None: no stage) onto ``person.stage``, the directory's stage
    filter: every write of ``person_stage`` calls this in its transaction.

    One statement per stage key (a batch moves people into a few stages); ``updated_at`` is
    set to itself: the stage is derived, the person's own data did not change (duplicate scans
    read ``updated_at`` as "traits changed since"). The dashboard's trigger on ``person``
    watches other columns, so it does not fire for this update.
    """
    by_stage: dict[str | None, list[int]] = {}
    for pid, stage in stages:
        by_stage.setdefault(stage, []).append(pid)
    column = _person_table.c
    for stage, people in by_stage.items():
        for ids in chunks(people):
            session.execute(
                _person_table.update()
                .where(column.id.in_(ids))
                .values(stage=stage, updated_at=column.updated_at)
            )


def _append_history(session: Session, workspace_id: uuid.UUID, out: Output, now: datetime) -> None:
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
