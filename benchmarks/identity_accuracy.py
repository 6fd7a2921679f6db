"""Identity accuracy: pairwise precision/recall of person merges against the demo's ground truth.

Baseline: the naive resolver many teams start with, measured on the same events in the same run:
every pair of events sharing any raw identifier (anonymousId, userId, trimmed lowercase email,
the digits of a phone, an external id) is the same person (union-find, no rules, no limits).
Also reported: the "reachable" oracle, joining only through identifiers a single true person
used, the ceiling for recall without false merges.
"""

import re
import unicodedata
import uuid
from collections.abc import Callable
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
            digits = _DIGITS.sub("", unicodedata.normalize("NFKC", traits["phone"]))
            found.append("p:" + digits[-11:])
    for entry in context.get("externalIds") or []:
        found.append(f"x:{entry.get('type')}:{entry.get('id')}")
    return found


def _keys_by_message(url: str, workspace_id: uuid.UUID) -> dict[str, list[str]]:
    use_database(url)
    with read_only() as session:
        rows = session.execute(
            select(Event.message_id, Event.payload).where(Event.workspace_id == workspace_id)
        )
        return {message_id: _raw_identifiers(payload) for message_id, payload in rows}


def _clusters(keys_of: dict[str, list[str]], usable: Callable[[str], bool]) -> dict[str, str]:
    joined = _UnionFind()
    for message_id, keys in keys_of.items():
        joined.find(("m", message_id))
        for key in keys:
            if usable(key):
                joined.union(("m", message_id), key)
    return {message_id: str(joined.find(("m", message_id))) for message_id in keys_of}


def naive_resolution(keys_of: dict[str, list[str]]) -> dict[str, str]:
    """messageId -> cluster of the merge-on-anything resolver."""
    return _clusters(keys_of, lambda _key: True)


def reachable_resolution(
    keys_of: dict[str, list[str]], true_person: dict[str, int]
) -> dict[str, str]:
    """The oracle: join through every identifier that only one true person ever used.

    Its recall is the most any resolver can reach without guessing (people who never link
    their devices stay apart); its precision is 1 by construction.
    """
    holders: dict[str, set[int]] = {}
    for message_id, keys in keys_of.items():
        for key in keys:
            holders.setdefault(key, set()).add(true_person[message_id])
    return _clusters(keys_of, lambda key: len(holders[key]) == 1)


def run(ctx: Context) -> list[Result]:
    """Score leadpond's resolution and the naive one against the ground truth."""
    world = processed_world(ctx)
    ground = truth.load(world.truth_dir)
    use_database(world.url)
    with read_only() as session:
        people = truth.identity_scores(session, world.workspace_id, ground)
        companies = truth.company_scores(session, world.workspace_id, ground)
    keys_of = _keys_by_message(world.url, world.workspace_id)
    naive = truth.pairwise_scores(ground.person, naive_resolution(keys_of))
    reachable = truth.pairwise_scores(ground.person, reachable_resolution(keys_of, ground.person))
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
                "reachable": reachable.to_dict(),
                "companies": companies.to_dict(),
                "true_people": world.people,
            },
        )
    ]
