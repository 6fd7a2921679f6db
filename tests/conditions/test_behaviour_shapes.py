"""Both SQL shapes of a behaviour atom (grouped over the workspace, correlated per candidate)."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.conditions.parse import condition_from_data
from leadpond.db.engine import get_engine
from leadpond.profiles.models import Person
from leadpond.segments.sql import SqlContext, groups_events, to_sql
from leadpond.workspaces.service import NewWorkspace
from tests.conditions import strategies as gen
from tests.conditions.test_agreement import CONTEXT, _python_answer, _store

ALWAYS = {"not": {"tag": "never-given"}}  # a non-behaviour sibling that holds for everyone


def _person(signups: int, pages: int) -> dict[str, Any]:
    events = [
        {"type": "track", "event": "Signed Up", "properties": {"n": i}, "timestamp": gen.NOW}
        for i in range(signups)
    ] + [
        {
            "type": "page",
            "event": "Pricing",
            "properties": {"path": "/pricing"},
            "timestamp": gen.NOW - timedelta(days=2 * i),
        }
        for i in range(pages)
    ]
    return {
        "traits": {},
        "tags": set(),
        "score": None,
        "score_age_days": 0,
        "stage": None,
        "events": events,
        "account": None,
    }


ATOMS = [
    {"event": "Signed Up", "count": {op: value}}
    for op, value in [("gte", 1), ("gte", 2), ("lt", 2), ("eq", 0), ("ne", 1), ("lte", 0)]
] + [
    {"event": "Page Viewed", "within": "3d"},
    {"event": "Page Viewed", "within": "5d", "count": {"lt": 2}},
    {"event": "Signed Up", "where": {"n": {"gte": 1}}, "count": {"eq": 1}},
]


@pytest.mark.parametrize("atom", ATOMS, ids=lambda a: str(a))
def test_grouped_and_correlated_shapes_agree(
    backend: str, workspace: NewWorkspace, atom: dict[str, Any]
) -> None:
    world = {"people": [_person(s, p) for s in (0, 1, 2) for p in (0, 1, 3)], "accounts": []}
    alone, narrowed = condition_from_data(atom), condition_from_data({"all": [ALWAYS, atom]})
    engine = get_engine()
    ctx = SqlContext(workspace.workspace_id, gen.NOW, engine.dialect.name, CONTEXT)
    assert groups_events(alone, ctx) and not groups_events(narrowed, ctx)
    with Session(engine) as session, session.begin():
        ids = _store(session, workspace.workspace_id, world)
        answers = [
            set(session.scalars(select(Person.id).where(Person.id.in_(ids), to_sql(c, ctx))))
            for c in (alone, narrowed)
        ]
        expected = _python_answer(session, workspace.workspace_id, ids, alone)
        session.rollback()
    assert [pid in answers[0] for pid in ids] == expected
    assert answers[1] == answers[0]
