"""The identity-resolution algorithm, on an in-memory graph.

The same code serves the incremental pipeline (a graph preloaded with what a batch touches) and
the full rebuild (a graph grown from nothing), so both give the same people.

Per event, identifiers are taken strongest first; each one is kept only if attaching or merging
through it keeps every person within the type limits, never joins two people an operator
separated, and never joins two people who hold different values of a stronger type: a weak
identifier (cookie, device, landline) defers to every strong type, an email to the mobile numbers
and ids ranked above it (a shared device or team mailbox is not a shared person). Dropped
identifiers are reported with their reason.
"""

from bisect import bisect_left, insort
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from leadpond.identity.config import IdentityConfig
from leadpond.identity.keys import IdentifierKey

PersonIds = dict[str, set[str]]
# When someone identified on a device: the event's time, then its message id (a tie-break that
# does not depend on arrival), then the person.
Moment = tuple[datetime, str, int]


@dataclass
class Decision:
    """What to do with one event: whom it is about and how the graph changes."""

    person_id: int | None  # None with resolved=True: a new person
    resolved: bool
    attach: list[IdentifierKey] = field(default_factory=list)
    merge: list[int] = field(default_factory=list)
    # Weak identifiers whose device session now belongs to the decided person.
    sessions: list[IdentifierKey] = field(default_factory=list)
    # Weak identifiers taken from their holder: this event's person identified on the device
    # earlier in event time than the holder did (see ``MemoryGraph.claims``).
    take: list[tuple[IdentifierKey, int]] = field(default_factory=list)
    matched_by: dict[int, IdentifierKey] = field(default_factory=dict)
    dropped: list[tuple[IdentifierKey, str]] = field(default_factory=list)


@dataclass
class MemoryGraph:
    """Identifier -> live person, person -> identifiers, and separated person pairs."""

    owner: dict[IdentifierKey, int] = field(default_factory=dict)
    ids_of: dict[int, PersonIds] = field(default_factory=dict)
    separations: set[frozenset[int]] = field(default_factory=set)
    redirect: dict[int, int] = field(default_factory=dict)
    # Weak identifier -> every (moment, person) someone identified on it: a shared kiosk's
    # anonymous events belong to whoever filled the form on it nearest in time, not to its
    # first owner (see ``session_holder``).
    sessions: dict[IdentifierKey, list[Moment]] = field(default_factory=dict)
    # Weak identifier -> person -> the first moment they identified on it. A shared device
    # belongs to whoever identified on it first in event time (not first to arrive), so the
    # same events give the same holder in any order.
    claims: dict[IdentifierKey, dict[int, tuple[datetime, str]]] = field(default_factory=dict)

    def live(self, person_id: int) -> int:
        """Follow merges to the surviving person."""
        while person_id in self.redirect:
            person_id = self.redirect[person_id]
        return person_id

    def holder(self, key: IdentifierKey) -> int | None:
        found = self.owner.get(key)
        return None if found is None else self.live(found)

    def open_session(self, key: IdentifierKey, person_id: int, at: datetime, order: str) -> None:
        """Someone identified on a weak identifier at ``at`` (message ``order``)."""
        moments = self.sessions.setdefault(key, [])
        moment = (at, order, person_id)
        if moment not in moments:
            insort(moments, moment)
        claims = self.claims.setdefault(key, {})
        if person_id not in claims or (at, order) < claims[person_id]:
            claims[person_id] = (at, order)

    def first_claim(self, key: IdentifierKey, person_id: int) -> tuple[datetime, str] | None:
        """When ``person_id`` (or anyone merged into them) first identified on ``key``."""
        found = [c for p, c in self.claims.get(key, {}).items() if self.live(p) == person_id]
        return min(found) if found else None

    def detach(self, person_id: int, key: IdentifierKey) -> None:
        values = self.ids_of.get(person_id, {}).get(key[0])
        if values is not None:
            values.discard(key[1])

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


def one_typo_apart(a: str, b: str) -> bool:
    """Equal length and one character wrong, or two neighbours swapped (a mistyped number)."""
    if len(a) != len(b):
        return False
    wrong = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(wrong) == 1:
        return True
    return (
        len(wrong) == 2
        and wrong[1] == wrong[0] + 1
        and a[wrong[0]] == b[wrong[1]]
        and (a[wrong[1]] == b[wrong[0]])
    )


def _strong_conflict(
    graph: MemoryGraph, side: PersonIds, other: int, config: IdentityConfig, above: int
) -> bool:
    """Both sides hold values of one strong type ranked above ``above``, none in common and
    none a typo of the other (a mistyped mobile next to the right email is still one person)."""
    for id_type, values in graph.ids_of.get(other, {}).items():
        rule = config.rule(id_type)
        if rule.weak or rule.priority >= above:
            continue
        mine = side.get(id_type)
        if not mine or not values or mine & values:
            continue
        # Only mobile numbers get typo tolerance: a1@ and a2@ are usually two colleagues.
        typo = id_type == "phone" and any(one_typo_apart(a, b) for a in mine for b in values)
        if not typo:
            return True
    return False


def session_holder(
    keys: list[IdentifierKey],
    graph: MemoryGraph,
    config: IdentityConfig,
    at: datetime,
) -> int | None:
    """For an event with only weak identifiers: who identified on that device nearest in event
    time, within the device window on either side (a form is often sent a second before its
    identify call), the earlier one on a tie; None when nobody did.

    Defined on event time, not arrival: the answer is the same whatever order the events came
    in, once every identify is known (``identity.service`` re-resolves when a late one comes).
    """
    window = timedelta(minutes=config.settings.device_session_minutes)
    best: tuple[timedelta, bool, str, int] | None = None
    for key in keys:
        moments = graph.sessions.get(key)
        if not moments:
            continue
        start = bisect_left(moments, (at - window, "", -1))
        for moment, order, person in moments[start:]:
            if moment > at + window:
                break
            candidate = (abs(at - moment), moment > at, order, person)
            if best is None or candidate < best:
                best = candidate
    return None if best is None else graph.live(best[3])


def weak_only(keys: list[IdentifierKey], config: IdentityConfig) -> bool:
    """Only weak identifiers (a cookie, a shared device): who it is depends on device sessions."""
    return bool(keys) and all(config.rule(key[0]).weak for key in keys)


def decide(
    keys: list[IdentifierKey],
    graph: MemoryGraph,
    config: IdentityConfig,
    at: datetime,
    order: str = "",
) -> Decision:
    """Choose the person for an event's identifiers (strongest first) without changing the graph.

    ``at`` and ``order`` (the message id) place the event in event time."""
    weak = [key for key in keys if config.rule(key[0]).weak]
    if weak and len(weak) == len(keys):
        on_device = session_holder(keys, graph, config, at)
        if on_device is not None:
            return Decision(person_id=on_device, resolved=True)
    holders = {graph.holder(key) for key in keys}
    if len(holders) == 1 and None not in holders:
        # The common case, a known person again: nothing to attach, merge or check.
        return Decision(
            person_id=holders.pop(), resolved=True, sessions=weak if len(weak) < len(keys) else []
        )
    people: set[int] = set()
    new_keys: list[IdentifierKey] = []
    kept: list[IdentifierKey] = []
    matched_by: dict[int, IdentifierKey] = {}
    dropped: list[tuple[IdentifierKey, str]] = []
    take: list[tuple[IdentifierKey, int]] = []
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
            # A device may not glue two people who hold different strong identifiers; any other
            # identifier may not glue two people who differ on a stronger one (a team mailbox
            # seen with two different mobiles is a team mailbox, not one person).
            rule = config.rule(key[0])
            side = _union(graph, people, new_keys)
            above = 10**9 if rule.weak else rule.priority
            if side and _strong_conflict(graph, side, holder, config, above):
                claimed = graph.first_claim(key, holder) if rule.weak else None
                if claimed is not None and (at, order) < claimed:
                    take.append((key, holder))
                    kept.append(key)
                    continue
                dropped.append((key, "weak_link_conflict" if rule.weak else "stronger_conflict"))
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
        sessions=weak if len(weak) < len(keys) else [],
        attach=new_keys,
        merge=sorted(p for p in people if p != survivor),
        take=take,
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
