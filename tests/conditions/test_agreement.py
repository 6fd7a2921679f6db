"""One truth: the Python evaluator and the SQL compiler agree on random conditions and data."""

import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.conditions.ast import walk
from leadpond.conditions.evaluate import ConditionContext, matches
from leadpond.conditions.parse import condition_from_data
from leadpond.db.engine import get_engine
from leadpond.ingest.models import Event
from leadpond.profiles.models import Person
from leadpond.rules.models import PersonScore, PersonStage, PersonTag
from leadpond.segments.snapshots import load_snapshots, needs_of
from leadpond.segments.sql import SqlContext, to_sql
from leadpond.workspaces.service import NewWorkspace
from tests.conditions import strategies as gen

CONTEXT = ConditionContext(
    stages=gen.STAGES,
    personas={"p1": condition_from_data({"trait": "a", "exists": True})},
    segments={"s1": condition_from_data({"any": [{"tag": "vip"}, {"stage": "visit"}]})},
    grades={"engagement": gen.GRADES},
    # Scores decay: the evaluator and the SQL compiler must agree on the decayed value.
    half_lives={"engagement": timedelta(days=30)},
)


def _store(session: Session, workspace_id: uuid.UUID, world: dict[str, Any]) -> list[int]:
    """Write the generated people, events, tags, scores, stages and accounts; return person ids."""
    account_ids = [
        session.execute(
            insert(Account)
            .values(
                workspace_id=workspace_id,
                name=f"acct{i}",
                industry=a["industry"],
                traits=a["traits"],
            )
            .returning(Account.id)
        ).scalar_one()
        for i, a in enumerate(world["accounts"])
    ]
    ids = []
    for n, p in enumerate(world["people"]):
        pid = session.execute(
            insert(Person)
            .values(workspace_id=workspace_id, traits=p["traits"], trait_times={}, event_count=0)
            .returning(Person.id)
        ).scalar_one()
        ids.append(pid)
        for k, e in enumerate(p["events"]):
            session.execute(
                insert(Event).values(
                    workspace_id=workspace_id,
                    message_id=f"m-{pid}-{k}",
                    type=e["type"],
                    event=e["event"],
                    timestamp=e["timestamp"],
                    received_at=gen.NOW,
                    payload={"properties": e["properties"]},
                    person_id=pid,
                )
            )
        for tag in p["tags"]:
            session.execute(
                insert(PersonTag).values(
                    workspace_id=workspace_id,
                    person_id=pid,
                    tag=tag,
                    source="manual",
                    actor="t",
                    added_at=gen.NOW,
                )
            )
        if p["score"] is not None:
            session.execute(
                insert(PersonScore).values(
                    workspace_id=workspace_id,
                    person_id=pid,
                    model="engagement",
                    points=p["score"],
                    as_of=gen.NOW - timedelta(days=p["score_age_days"]),
                )
            )
        if p["stage"] is not None:
            session.execute(
                insert(PersonStage).values(
                    workspace_id=workspace_id, person_id=pid, stage=p["stage"], entered_at=gen.NOW
                )
            )
        if p["account"] is not None:
            session.execute(
                insert(PersonAccount).values(
                    workspace_id=workspace_id,
                    person_id=pid,
                    account_id=account_ids[p["account"]],
                    source="group",
                    first_seen_at=gen.NOW,
                    last_seen_at=gen.NOW,
                    is_primary=True,
                )
            )
        del n
    return ids


def _python_answer(
    session: Session, workspace_id: uuid.UUID, ids: list[int], cond: Any
) -> list[bool]:
    """The evaluator's answers on snapshots built by the production loader (the one the
    real-time segments use), from what ``_store`` wrote."""
    nodes = list(walk(cond))
    for table in (CONTEXT.personas, CONTEXT.segments):
        nodes += [node for definition in table.values() for node in walk(definition)]
    snaps = load_snapshots(session, workspace_id, CONTEXT, ids, needs_of(nodes, CONTEXT), gen.NOW)
    return [matches(cond, snaps[pid]) for pid in ids]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=gen.conditions(), people=gen.people(), accounts=gen.accounts())
def test_python_and_sql_agree(
    backend: str,
    workspace: NewWorkspace,
    data: dict[str, Any],
    people: list[Any],
    accounts: list[Any],
) -> None:
    cond = condition_from_data(data)
    world = {"people": people, "accounts": accounts}
    engine = get_engine()
    with Session(engine) as session, session.begin():
        ids = _store(session, workspace.workspace_id, world)
        expected = _python_answer(session, workspace.workspace_id, ids, cond)
        ctx = SqlContext(workspace.workspace_id, gen.NOW, engine.dialect.name, CONTEXT)
        found = set(session.scalars(select(Person.id).where(Person.id.in_(ids), to_sql(cond, ctx))))
        session.rollback()
    assert [pid in found for pid in ids] == expected, (data, world)


@settings(deadline=None)
@given(st.data())
def test_strategies_produce_valid_conditions(data: st.DataObject) -> None:
    condition_from_data(data.draw(gen.conditions()))
