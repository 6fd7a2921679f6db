"""Duplicate scans: the linkage model run over a workspace's people, its pairs made suggestions.

A *full* scan scores every blocked pair; an *incremental* one only the pairs touching people
whose traits changed since the last scan finished reading (``DuplicateScan.scanned_through``).
Both train the model on everyone, so an incremental scan gives a changed person exactly the
suggestions a full scan would. Suggestions are never merges: a human accepts or rejects them,
and a rejected pair (a separation) is never suggested again.

Memory: people stream from the database in chunks of ``CHUNK`` into DuckDB; at 100k people the
scan holds about 60 MB of DuckDB tables and one chunk of Python dicts.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres, read_only, unit_of_work
from leadpond.identity.likeness import comparable, person_record
from leadpond.identity.linkage import ScoredPair, score_people
from leadpond.identity.models import DuplicateScan, MergeSuggestion
from leadpond.identity.stored_graph import live_separations
from leadpond.jobs.service import enqueue
from leadpond.kit.clock import utcnow
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live_in

SCAN_DUPLICATES = "identity.duplicates"
CHUNK = 5000
_WRITE_BATCH = 1000

Progress = Callable[[int, int | None, str], None]


@dataclass(frozen=True)
class ScanReport:
    mode: str
    people: int
    changed: int
    pairs: int
    suggested: int


def _start(session: Session, workspace_id: uuid.UUID) -> DuplicateScan:
    stmt = select(DuplicateScan).where(DuplicateScan.workspace_id == workspace_id)
    state = session.scalar(stmt.with_for_update() if is_postgres(session) else stmt)
    if state is None:
        state = DuplicateScan(workspace_id=workspace_id, generation=0)
        session.add(state)
    state.generation += 1
    session.flush()
    return state


def _records(
    session: Session, workspace_id: uuid.UUID, since: datetime | None
) -> Iterator[list[dict[str, Any]]]:
    rows = session.execute(
        select(Person.id, Person.traits, Person.updated_at)
        .where(live_in(workspace_id))
        .order_by(Person.id)
        .execution_options(yield_per=CHUNK)
    )
    for partition in rows.partitions():
        chunk = []
        for person_id, traits, updated_at in partition:
            changed = since is None or updated_at > since
            record = person_record(person_id, traits or {}, changed)
            if comparable(record):
                chunk.append(record)
        yield chunk


def scan(
    workspace_id: uuid.UUID, *, full: bool, url: str | None = None, progress: Progress | None = None
) -> ScanReport:
    """Score the workspace's people and queue what looks like one human for review."""
    report = progress or (lambda _done, _total, _message: None)
    with unit_of_work(url) as session:
        state = _start(session, workspace_id)
        started, since = utcnow(), (None if full else state.scanned_through)
    mode = "full" if since is None else "incremental"
    counts = {"people": 0, "changed": 0}
    changed: set[int] = set()

    def counted(chunks: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        for chunk in chunks:
            counts["people"] += len(chunk)
            changed.update(record["unique_id"] for record in chunk if record["changed"])
            counts["changed"] = len(changed)
            report(counts["people"], None, f"reading people ({mode})")
            yield chunk

    with read_only(url) as session:
        separated = live_separations(session, workspace_id)
        pairs = [
            pair
            for pair in score_people(
                counted(_records(session, workspace_id, since)), incremental=since is not None
            )
            if frozenset((pair.person_a_id, pair.person_b_id)) not in separated
        ]
    report(len(pairs), len(pairs), "writing suggestions")
    with unit_of_work(url) as session:
        suggested = write_suggestions(session, workspace_id, pairs, started)
        _retire_unscored(session, workspace_id, pairs, None if since is None else changed)
        session.execute(
            update(DuplicateScan)
            .where(DuplicateScan.workspace_id == workspace_id)
            .values(scanned_through=started)
        )
    return ScanReport(mode, counts["people"], counts["changed"], len(pairs), suggested)


def _reasons(pair: ScoredPair) -> list[str]:
    return [f"{e['comparison']}:{e['level']}" for e in pair.evidence if e["weight"] > 0]


def write_suggestions(
    session: Session, workspace_id: uuid.UUID, pairs: list[ScoredPair], now: datetime
) -> int:
    """Upsert the pairs as pending suggestions (decided ones stay as decided); returns how many
    pairs were never suggested before."""
    if not pairs:
        return 0
    known = 0
    dialect = postgresql if is_postgres(session) else sqlite
    table = MergeSuggestion.__table__
    for start in range(0, len(pairs), _WRITE_BATCH):
        batch = pairs[start : start + _WRITE_BATCH]
        known += len(
            session.execute(
                select(MergeSuggestion.id).where(
                    owned(MergeSuggestion, workspace_id),
                    tuple_(MergeSuggestion.person_a_id, MergeSuggestion.person_b_id).in_(
                        [(p.person_a_id, p.person_b_id) for p in batch]
                    ),
                )
            ).all()
        )
        insert = dialect.insert(MergeSuggestion)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["workspace_id", "person_a_id", "person_b_id"],
                set_={
                    "score": insert.excluded.score,
                    "reasons": insert.excluded.reasons,
                    "method": insert.excluded.method,
                    "evidence": insert.excluded.evidence,
                    "status": "pending",
                },
                # A decision stands; a stale suggestion found again is pending again.
                where=or_(table.c.status == "pending", table.c.status == "stale"),
            ),
            [
                {
                    "workspace_id": workspace_id,
                    "person_a_id": pair.person_a_id,
                    "person_b_id": pair.person_b_id,
                    "score": round(pair.probability, 4),
                    "reasons": _reasons(pair),
                    "method": "model",
                    "evidence": pair.evidence,
                    "status": "pending",
                    "created_at": now,
                }
                for pair in batch
            ],
        )
    return len(pairs) - known


def _retire_unscored(
    session: Session, workspace_id: uuid.UUID, pairs: list[ScoredPair], scope: set[int] | None
) -> None:
    """Pending suggestions the model does not (or no longer) make are stale: once a workspace
    scans, the model decides — the exact name-and-company rule only fills the time until the
    next scan. ``scope`` limits that to the changed people of an incremental scan."""
    kept = {(pair.person_a_id, pair.person_b_id) for pair in pairs}
    pending = session.execute(
        select(MergeSuggestion.id, MergeSuggestion.person_a_id, MergeSuggestion.person_b_id).where(
            owned(MergeSuggestion, workspace_id),
            MergeSuggestion.status == "pending",
        )
    ).all()
    stale = [
        row_id
        for row_id, a, b in pending
        if (a, b) not in kept and (scope is None or a in scope or b in scope)
    ]
    for start in range(0, len(stale), _WRITE_BATCH):
        session.execute(
            update(MergeSuggestion)
            .where(MergeSuggestion.id.in_(stale[start : start + _WRITE_BATCH]))
            .values(status="stale")
        )


def queue_scan(session: Session, workspace_id: uuid.UUID, *, full: bool) -> Any:
    """Queue a scan job in the caller's transaction (one queued incremental scan at a time)."""
    state = session.scalar(select(DuplicateScan).where(DuplicateScan.workspace_id == workspace_id))
    generation = state.generation if state is not None else 0
    key = f"{SCAN_DUPLICATES}:{'full' if full else 'incremental'}:{generation}"
    return enqueue(session, SCAN_DUPLICATES, key, {"full": full}, workspace_id=workspace_id)


def follow_changes(session: Session, workspace_ids: set[uuid.UUID]) -> None:
    """After a batch changed traits: an incremental scan for each workspace that scans (one
    whose first full scan ran; until then only exact name-and-company pairs are suggested)."""
    if not workspace_ids:
        return
    scanning = session.scalars(
        select(DuplicateScan.workspace_id).where(DuplicateScan.workspace_id.in_(workspace_ids))
    ).all()
    for workspace_id in scanning:
        queue_scan(session, workspace_id, full=False)


def report_dict(report: ScanReport) -> dict[str, Any]:
    """The job's result."""
    return asdict(report)
