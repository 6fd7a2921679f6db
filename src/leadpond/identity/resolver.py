"""The identity-resolution algorithm, on an in-memory graph.

The same code serves the incremental pipeline (a graph preloaded with what a batch touches) and
the full rebuild (a graph grown from nothing), so both give the same people.

Per event, identifiers are taken strongest first; each one is kept only if attaching or merging
through it keeps every person within the type limits, never joins two people an operator
separated, and — for weak identifiers such as cookies — never joins two people who hold different
values of a strong type (a shared device is not a shared person). Dropped identifiers are
reported with their reason.
"""

from dataclasses import dataclass, field

from leadpond.identity.config import IdentityConfig
from leadpond.identity.keys import IdentifierKey

PersonIds = dict[str, set[str]]


@dataclass
class Decision:
    """What to do with one event: whom it is about and how the graph changes."""

    person_id: int | None  # None with resolved=True: a new person
    resolved: bool
    attach: list[IdentifierKey] = field(default_factory=list)
    merge: list[int] = field(default_factory=list)
    matched_by: dict[int, IdentifierKey] = field(default_factory=dict)
    dropped: list[tuple[IdentifierKey, str]] = field(default_factory=list)


@dataclass
class MemoryGraph:
    """Identifier -> live person, person -> identifiers, and separated person pairs."""

    owner: dict[IdentifierKey, int] = field(default_factory=dict)
    ids_of: dict[int, PersonIds] = field(default_factory=dict)
    separations: set[frozenset[int]] = field(default_factory=set)
    redirect: dict[int, int] = field(default_factory=dict)

    def live(self, person_id: int) -> int:
        """Follow merges to the surviving person."""
        while person_id in self.redirect:
            person_id = self.redirect[person_id]
        return person_id

    def holder(self, key: IdentifierKey) -> int | None:
        found = self.owner.get(key)
        return None if found is None else self.live(found)

    def separated(self, a: int, b: int) -> bool:
        return frozenset((a, b)) in self.separations

    def attach(self, person_id: int, key: IdentifierKey) -> None:
        self.owner[key] = person_id
        self.ids_of.setdefault(person_id, {}).setdefault(key[0], set()).add(key[1])

    def merge(self, survivor: int, loser: int) -> None:
        """Fold ``loser`` into ``survivor``: identifiers, separations and redirects move."""
        for id_type, values in self.ids_of.pop(loser, {}).items():
            self.ids_of.setdefault(survivor, {}).setdefault(id_type, set()).update(values)
            for value in values:
                self.owner[(id_type, value)] = survivor
        moved = {pair for pair in self.separations if loser in pair}
        for pair in moved:
            self.separations.discard(pair)
            other = next(iter(pair - {loser}), survivor)
            if other != survivor:
                self.separations.add(frozenset((survivor, other)))
        self.redirect[loser] = survivor


def _union(graph: MemoryGraph, people: set[int], extra: list[IdentifierKey]) -> PersonIds:
    combined: PersonIds = {}
    for person in people:
        for id_type, values in graph.ids_of.get(person, {}).items():
            combined.setdefault(id_type, set()).update(values)
    for id_type, value in extra:
        combined.setdefault(id_type, set()).add(value)
    return combined


def _strong_conflict(
    graph: MemoryGraph, side: PersonIds, other: int, config: IdentityConfig
) -> bool:
    """Both sides hold values of one strong type and none in common."""
    for id_type, values in graph.ids_of.get(other, {}).items():
        if config.rule(id_type).weak:
            continue
        mine = side.get(id_type)
        if mine and values and not (mine & values):
            return True
    return False


def decide(keys: list[IdentifierKey], graph: MemoryGraph, config: IdentityConfig) -> Decision:
    """Choose the person for an event's identifiers (strongest first) without changing the graph."""
    people: set[int] = set()
    new_keys: list[IdentifierKey] = []
    kept: list[IdentifierKey] = []
    matched_by: dict[int, IdentifierKey] = {}
    dropped: list[tuple[IdentifierKey, str]] = []
    for key in keys:
        holder = graph.holder(key)
        trial_people = people | ({holder} if holder is not None else set())
        trial_new = new_keys if holder is not None else [*new_keys, key]
        union = _union(graph, trial_people, trial_new)
        over = [t for t, values in union.items() if len(values) > config.rule(t).limit]
        if over:
            dropped.append((key, f"limit:{over[0]}"))
            continue
        if holder is not None and holder not in people:
            if any(graph.separated(holder, p) for p in people):
                dropped.append((key, "separated"))
                continue
            side = _union(graph, people, new_keys)
            if config.rule(key[0]).weak and side and _strong_conflict(graph, side, holder, config):
                dropped.append((key, "weak_link_conflict"))
                continue
        kept.append(key)
        people = trial_people
        new_keys = trial_new
        if holder is not None:
            matched_by.setdefault(holder, key)
    if not kept:
        return Decision(person_id=None, resolved=False, dropped=dropped)
    survivor = min(people) if people else None
    return Decision(
        person_id=survivor,
        resolved=True,
        attach=new_keys,
        merge=sorted(p for p in people if p != survivor),
        matched_by=matched_by,
        dropped=dropped,
    )


def merge_blocker(graph: MemoryGraph, people: set[int], config: IdentityConfig) -> str | None:
    """Why these people may not become one (a limit or a separation), or None when they may."""
    union = _union(graph, people, [])
    over = [t for t, values in union.items() if len(values) > config.rule(t).limit]
    if over:
        return f"limit:{over[0]}"
    for a in people:
        for b in people:
            if a < b and graph.separated(a, b):
                return "separated"
    return None
