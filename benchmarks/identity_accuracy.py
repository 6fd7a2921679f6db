"""Identity accuracy: pairwise precision/recall of person merges against the demo's ground truth.

Baseline: the naive resolver many teams start with, measured on the same events in the same run:
every pair of events sharing any raw identifier (anonymousId, userId, trimmed lowercase email,
the digits of a phone, an external id) is the same person (union-find, no rules, no limits).
"""

import re
import uuid
from typing import Any

from sqlalchemy import select

from benchmarks.common import Context, Result, use_database
from benchmarks.world import processed_world
from leadpond.db.engine import read_only
from leadpond.demo import truth
from leadpond.ingest.models import Event

NAME = "identity_accuracy"
_DIGITS = re.compile(r"\D+")


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, item: Any) -> Any:
        parent = self.parent.setdefault(item, item)
        while parent != item:
            grand = self.parent[parent]
            self.parent[item] = grand
            item, parent = parent, grand
        return item

    def union(self, a: Any, b: Any) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a


def _raw_identifiers(message: dict[str, Any]) -> list[str]:
    found = [f"a:{message[k]}" for k in ("anonymousId", "userId") if message.get(k)]
    context = message.get("context") or {}
    traits = message.get("traits") if message.get("type") == "identify" else context.get("traits")
    if isinstance(traits, dict):
        if isinstance(traits.get("email"), str):
            found.append("e:" + traits["email"].strip().lower())
        if isinstance(traits.get("phone"), str):
            found.append("p:" + _DIGITS.sub("", traits["phone"])[-11:])
    for entry in context.get("externalIds") or []:
        found.append(f"x:{entry.get('type')}:{entry.get('id')}")
    return found


def naive_resolution(url: str, workspace_id: uuid.UUID) -> dict[str, str]:
    """messageId -> cluster of the merge-on-anything resolver."""
    use_database(url)
    joined = _UnionFind()
    messages: list[str] = []
    with read_only() as session:
        rows = session.execute(
            select(Event.message_id, Event.payload).where(Event.workspace_id == workspace_id)
        )
        for message_id, payload in rows:
            messages.append(message_id)
            joined.find(("m", message_id))
            for key in _raw_identifiers(payload):
                joined.union(("m", message_id), key)
    return {message_id: str(joined.find(("m", message_id))) for message_id in messages}


def run(ctx: Context) -> list[Result]:
    """Score leadpond's resolution and the naive one against the ground truth."""
    world = processed_world(ctx)
    ground = truth.load(world.truth_dir)
    use_database(world.url)
    with read_only() as session:
        people = truth.identity_scores(session, world.workspace_id, ground)
        companies = truth.company_scores(session, world.workspace_id, ground)
    naive = truth.pairwise_scores(ground.person, naive_resolution(world.url, world.workspace_id))
    return [
        Result(
            name=NAME,
            metric="pairwise F1 of person merges (precision and recall in details)",
            unit="F1",
            leadpond=round(people.f1, 4),
            baseline_name="merge on any shared raw identifier",
            baseline=round(naive.f1, 4),
            ratio=round(people.f1 / naive.f1, 3) if naive.f1 else None,
            target="no budget yet: precision first (never merge two known people)",
            passed=None,
            details={
                "people": people.to_dict(),
                "naive": naive.to_dict(),
                "companies": companies.to_dict(),
                "true_people": world.people,
            },
        )
    ]
