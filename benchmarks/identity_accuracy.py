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

from benchmarks import duplicate_accuracy
from benchmarks.common import Context, Result, scratch_database, use_database
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


def _exact_name_baseline(frame_name: str) -> dict[str, float]:
    """The suggestions before the model: exact normalised name (+ company, absent in FEBRL)."""
    frame = duplicate_accuracy._frame(frame_name)
    by_name: dict[str, list[str]] = {}
    for rec_id, row in frame.iterrows():
        name = f"{row.given_name}|{row.surname}".lower()
        by_name.setdefault(name, []).append(str(rec_id))
    predicted = {
        frozenset((a, b))
        for recs in by_name.values()
        if 2 <= len(recs) <= 8
        for i, a in enumerate(recs)
        for b in recs[i + 1 :]
    }
    members: dict[str, list[str]] = {}
    for rec in frame.index:
        members.setdefault(str(rec).split("-")[1], []).append(str(rec))
    true = {
        frozenset((a, b))
        for recs in members.values()
        for i, a in enumerate(recs)
        for b in recs[i + 1 :]
    }
    return duplicate_accuracy.pair_scores(predicted, true)


def febrl_results(ctx: Context) -> list[Result]:
    """FEBRL 1–4 imported as people, scanned, scored pairwise (baseline: exact name)."""
    results = []
    with scratch_database(ctx, "febrl") as url:
        for name in duplicate_accuracy.LOADERS:
            use_database(url)
            found = duplicate_accuracy.febrl(url, name)
            baseline = _exact_name_baseline(name)
            target = "F1 ≥ 0.95, precision ≥ 0.97" if name == "febrl4" else "no budget"
            passed = (
                found["f1"] >= 0.95 and found["precision"] >= 0.97 if name == "febrl4" else None
            )
            results.append(
                Result(
                    name=f"duplicates_{name}",
                    metric="pairwise F1 of suggested duplicate pairs",
                    unit="F1",
                    leadpond=found["f1"],
                    baseline_name="exact normalised name",
                    baseline=baseline["f1"],
                    ratio=round(found["f1"] / baseline["f1"], 3) if baseline["f1"] else None,
                    target=target,
                    passed=passed,
                    details={"leadpond": found, "baseline": baseline},
                )
            )
    return results


def run(ctx: Context) -> list[Result]:
    """Score leadpond's resolution and the naive one against the ground truth; then duplicate
    suggestions on the demo world and on FEBRL 1–4."""
    return _resolution(ctx) + _suggestions(ctx) + febrl_results(ctx)


def _suggestions(ctx: Context) -> list[Result]:
    world = processed_world(ctx)
    ground = truth.load(world.truth_dir)
    found = duplicate_accuracy.demo_world(world.url, world.workspace_id, ground)
    after, before = found["companies_linked_after"], found["companies_linked_before"]
    return [
        Result(
            name="duplicates_demo_companies",
            metric="pairwise recall of accounts over events with an account, suggestions accepted",
            unit="recall",
            leadpond=after["recall"],
            baseline_name="accounts before suggestions",
            baseline=before["recall"],
            ratio=round(after["recall"] / before["recall"], 3) if before["recall"] else None,
            target="recall ≥ 0.95 with precision ≥ 0.99",
            passed=after["recall"] >= 0.95 and after["precision"] >= 0.99,
            details=found,
        )
    ]


def _resolution(ctx: Context) -> list[Result]:
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
