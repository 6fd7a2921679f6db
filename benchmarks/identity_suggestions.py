"""The duplicate review queue at 100k people: how long one page of suggestions takes.

Budget: < 200 ms a page at 100k people. leadpond reads a keyset page (``list_suggestions``:
the queue index from a (score, id) position, and a count of the status range). Baseline, same
run, same rows: the list as it was before — every pending suggestion whose two people are live
(``IN`` × ``IN`` over the live people), ordered, then sliced at an offset.
"""

import random
import statistics
import time
from typing import Any

from sqlalchemy import insert, select

from benchmarks.common import Context, Result, new_workspace, scratch_database
from leadpond.db.engine import read_only, unit_of_work
from leadpond.identity import suggestions
from leadpond.identity.models import MergeSuggestion
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import in_workspace
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in

NAME = "identity_suggestions"
PEOPLE = 100_000
SUGGESTIONS = 30_000
PAGE = 50
BUDGET_MS = 200.0


def _fill(workspace_id: Any) -> None:
    now = utcnow()
    rng = random.Random(7)
    with unit_of_work() as session:
        for start in range(0, PEOPLE, 10_000):
            session.execute(
                insert(Person),
                [
                    {"workspace_id": workspace_id, "traits": {}, "trait_times": {}}
                    | {"event_count": 0, "created_at": now, "updated_at": now}
                    for _ in range(start, min(PEOPLE, start + 10_000))
                ],
            )
        ids = list(session.scalars(select(Person.id).order_by(Person.id)))
        pairs = set()
        while len(pairs) < SUGGESTIONS:
            a, b = sorted(rng.sample(ids, 2))
            pairs.add((a, b))
        session.execute(
            insert(MergeSuggestion),
            [
                {
                    "workspace_id": workspace_id,
                    "person_a_id": a,
                    "person_b_id": b,
                    "score": round(rng.uniform(0.95, 1.0), 4),
                    "reasons": [],
                    "method": "model",
                    "evidence": [{"comparison": "name", "level": "exact", "weight": 10.0}],
                    "status": "pending",
                    "created_at": now,
                }
                for a, b in sorted(pairs)
            ],
        )


def _old_list(workspace_id: Any, offset: int) -> int:
    with read_only() as session:
        live = select(Person.id).where(live_in(workspace_id))
        stmt = in_workspace(MergeSuggestion, workspace_id).where(
            MergeSuggestion.status == "pending",
            MergeSuggestion.person_a_id.in_(live),
            MergeSuggestion.person_b_id.in_(live),
        )
        found = list(
            session.scalars(stmt.order_by(MergeSuggestion.score.desc(), MergeSuggestion.id))
        )
        return len(found[offset : offset + PAGE])


def _keyset(workspace_id: Any, cursor: str | None) -> int:
    with read_only() as session:
        after = suggestions.decode_cursor(cursor) if cursor else None
        _, page = suggestions.list_suggestions(session, workspace_id, "pending", PAGE, after)
        return len(page)


def _timed(call: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(ctx: Context) -> list[Result]:
    """Page through the queue at 100k people, first page and deep pages."""
    with scratch_database(ctx, "suggestions") as url:
        workspace_id = new_workspace(url).workspace_id
        _fill(workspace_id)
        with read_only() as session:
            _, head = suggestions.list_suggestions(session, workspace_id, "pending", 10_000)
        deep = suggestions.encode_cursor(head[-1])
        first_ms = _timed(lambda: _keyset(workspace_id, None), 7)
        deep_ms = _timed(lambda: _keyset(workspace_id, deep), 7)
        old_first_ms = _timed(lambda: _old_list(workspace_id, 0), 3)
        old_deep_ms = _timed(lambda: _old_list(workspace_id, 10_000), 3)
    worst = max(first_ms, deep_ms)
    old_worst = max(old_first_ms, old_deep_ms)
    return [
        Result(
            name=NAME,
            metric=f"one page of {PAGE} suggestions, {PEOPLE:,} people, {SUGGESTIONS:,} pending",
            unit="ms",
            leadpond=round(worst, 2),
            baseline_name="offset page over IN×IN live people",
            baseline=round(old_worst, 2),
            ratio=round(old_worst / worst, 2) if worst else None,
            target=f"< {BUDGET_MS:.0f} ms",
            passed=worst < BUDGET_MS,
            details={
                "first_page_ms": round(first_ms, 2),
                "page_after_10000_ms": round(deep_ms, 2),
                "baseline_first_page_ms": round(old_first_ms, 2),
                "baseline_page_after_10000_ms": round(old_deep_ms, 2),
            },
        )
    ]
