"""Ground truth beside the demo data, and identity precision/recall measured against it.

``truth.jsonl.gz`` holds one line per generated message: ``{"m": messageId, "p": true person,
"c": true company}``; ``summary.json`` the counts of the world. Pairwise scores treat every pair
of messages as a question "same person?": predicted-same when both resolved to one profile,
truly-same when both belong to one true person. They are computed from contingency counts, so a
world of millions of messages is scored in one pass.
"""

import gzip
import uuid
from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.accounts.models import PersonAccount
from leadpond.demo.world import Block, WorldSpec, WorldStats
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person

TRUTH_FILE = "truth.jsonl.gz"
SUMMARY_FILE = "summary.json"


class TruthWriter:
    """Streams each block's (message, person, company) triples to ``truth.jsonl.gz``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        # Held open across blocks and closed by close() or the context manager.
        self._file = gzip.open(  # noqa: SIM115
            directory / TRUTH_FILE, "wt", encoding="utf-8", compresslevel=3
        )

    def write(self, block: Block) -> None:
        """Append one block's truth lines."""
        self._file.write(
            "".join(
                f'{{"m":"{message["messageId"]}","p":{person},"c":{company}}}\n'
                for message, person, company in zip(
                    block.messages, block.people, block.companies, strict=True
                )
            )
        )

    def close(self, spec: WorldSpec, stats: WorldStats, extra: dict[str, Any]) -> Path:
        """Finish the truth file and write the summary; returns the summary's path."""
        self._file.close()
        summary = {
            "seed": spec.seed,
            "people_requested": spec.people,
            "start": spec.start_at.isoformat(),
            "end": spec.end_at.isoformat(),
            **stats.to_dict(),
            **extra,
        }
        path = self.directory / SUMMARY_FILE
        path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        return path

    def __enter__(self) -> "TruthWriter":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._file.closed:
            self._file.close()


@dataclass
class GroundTruth:
    """messageId -> true person id and true company id, plus the world's summary."""

    person: dict[str, int]
    company: dict[str, int]
    summary: dict[str, Any]


def load(path: Path | str) -> GroundTruth:
    """Read a ground truth written by the demo (its directory or its ``truth.jsonl.gz``)."""
    path = Path(path)
    directory = path if path.is_dir() else path.parent
    truth_path = directory / TRUTH_FILE
    person: dict[str, int] = {}
    company: dict[str, int] = {}
    with gzip.open(truth_path, "rb") as lines:
        for line in lines:
            row = orjson.loads(line)
            person[row["m"]] = row["p"]
            company[row["m"]] = row["c"]
    summary_path = directory / SUMMARY_FILE
    summary = orjson.loads(summary_path.read_bytes()) if summary_path.exists() else {}
    return GroundTruth(person=person, company=company, summary=summary)


@dataclass(frozen=True)
class PairwiseScores:
    """Pairwise precision and recall of a clustering against the truth."""

    items: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    true_clusters: int
    predicted_clusters: int

    @property
    def precision(self) -> float:
        """Correct pairs among the pairs predicted to be one person."""
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        """Correct pairs among the pairs that truly are one person."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The counts and the three scores, for JSON reports."""
        return {
            "items": self.items,
            "true_pairs": self.true_pairs,
            "predicted_pairs": self.predicted_pairs,
            "correct_pairs": self.correct_pairs,
            "true_clusters": self.true_clusters,
            "predicted_clusters": self.predicted_clusters,
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "f1": round(self.f1, 6),
        }


def _pairs(sizes: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def pairwise_scores(
    truth: Mapping[str, Hashable], predicted: Mapping[str, Hashable | None]
) -> PairwiseScores:
    """Score ``predicted`` (messageId -> resolved id) against ``truth`` (messageId -> true id).

    Only messages present in both are scored. A message resolved to ``None`` (no profile) is a
    cluster of its own.
    """
    cells: Counter[tuple[Hashable, Hashable]] = Counter()
    true_sizes: Counter[Hashable] = Counter()
    predicted_sizes: Counter[Hashable] = Counter()
    items = 0
    for message_id, resolved in predicted.items():
        if message_id not in truth:
            continue
        actual = truth[message_id]
        label: Hashable = ("unresolved", message_id) if resolved is None else resolved
        cells[(actual, label)] += 1
        true_sizes[actual] += 1
        predicted_sizes[label] += 1
        items += 1
    return PairwiseScores(
        items=items,
        true_pairs=_pairs(true_sizes),
        predicted_pairs=_pairs(predicted_sizes),
        correct_pairs=_pairs(cells),
        true_clusters=len(true_sizes),
        predicted_clusters=len(predicted_sizes),
    )


def resolved_people(session: Session, workspace_id: uuid.UUID) -> dict[str, int | None]:
    """messageId -> the live person each stored event belongs to (merges followed)."""
    merged_into: dict[int, int | None] = {
        person_id: survivor
        for person_id, survivor in session.execute(
            select(Person.id, Person.merged_into_id).where(
                owned(Person, workspace_id), Person.merged_into_id.is_not(None)
            )
        )
    }
    resolved: dict[str, int | None] = {}
    rows = session.execute(
        select(Event.message_id, Event.person_id).where(owned(Event, workspace_id))
    )
    for message_id, person_id in rows:
        seen = 0
        while person_id is not None and person_id in merged_into and seen < 64:
            person_id, seen = merged_into[person_id], seen + 1
        resolved[message_id] = person_id
    return resolved


def identity_scores(
    session: Session, workspace_id: uuid.UUID, truth: GroundTruth
) -> PairwiseScores:
    """Person-merge precision/recall of a processed demo workspace against its ground truth."""
    return pairwise_scores(truth.person, resolved_people(session, workspace_id))


def resolved_accounts(session: Session, workspace_id: uuid.UUID) -> dict[str, int | None]:
    """messageId -> the account (primary first) of the person each stored event belongs to."""
    account_of: dict[int, int] = {}
    links = session.execute(
        select(PersonAccount.person_id, PersonAccount.account_id)
        .where(owned(PersonAccount, workspace_id))
        .order_by(PersonAccount.is_primary.desc(), PersonAccount.id)
    )
    for person_id, account_id in links:
        account_of.setdefault(person_id, account_id)
    return {
        message_id: None if person_id is None else account_of.get(person_id)
        for message_id, person_id in resolved_people(session, workspace_id).items()
    }


def company_scores(session: Session, workspace_id: uuid.UUID, truth: GroundTruth) -> PairwiseScores:
    """Company precision/recall: are two events' people in one account exactly when they should?"""
    return pairwise_scores(truth.company, resolved_accounts(session, workspace_id))
