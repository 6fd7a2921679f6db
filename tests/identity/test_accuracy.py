"""ID mapping accuracy, measured on a labelled demo world (format variants, typos, shared
mailboxes and shared devices) — targets: precision ≥ 0.995 on identified events, recall ≥ 0.98
of what a person's own identifiers can link."""

import uuid
from datetime import date
from pathlib import Path

from leadpond.db.engine import read_only
from leadpond.demo import service, truth
from leadpond.demo.accuracy import identity_accuracy
from leadpond.demo.service import DemoOptions


def test_identity_accuracy_on_a_labelled_world(backend: str, tmp_path: Path) -> None:
    report = service.run(
        DemoOptions(
            people=600,
            seed=11,
            end=date(2026, 6, 30),
            workspace=f"accuracy-{uuid.uuid4().hex[:8]}",
            truth_root=tmp_path / "truth",
            credentials_path=tmp_path / "credentials.json",
        )
    )
    assert report.truth_dir is not None
    with read_only() as session:
        scores = identity_accuracy(session, report.workspace_id, truth.load(report.truth_dir))
    print({name: (s["precision"], s["recall"]) for name, s in scores.items()})
    assert scores["identified_events"]["precision"] >= 0.995
    assert scores["reachable"]["recall"] >= 0.98
    assert scores["all_events"]["precision"] >= 0.97
