"""Identity accuracy against a labelled world: pairwise precision and recall, three ways.

- ``all_events``: every stored event, as the demo's ground truth labels it.
- ``identified_events``: only events carrying a strong identifier (user id, email, mobile…);
  events seen only through a shared device are ambiguous for any resolver and are left out.
- ``reachable``: recall against what a person's own identifiers can link at all. Two events of
  one human with no identifier chain between them (a cookie that never identified) cannot be
  joined by ID mapping, only suggested for review.
"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.demo.truth import GroundTruth, pairwise_scores, resolved_people
from leadpond.flow.batch import EVENT_COLUMNS, PipelineEvent
from leadpond.identity.config import load_config
from leadpond.identity.keys import IdentifierKey, event_identifiers
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned

_COLUMNS = (*EVENT_COLUMNS, Event.message_id)


def _reachable_labels(
    truth: GroundTruth, keys_of: dict[str, list[IdentifierKey]]
) -> dict[str, tuple[int, tuple[str, str]]]:
    """messageId -> (true person, component of that person's events linked by identifiers)."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        root = node
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    for message_id, keys in keys_of.items():
        person = truth.person.get(message_id)
        for id_type, value in keys:
            parent[find(("m", message_id))] = find((f"{person}:{id_type}", value))
    return {m: (truth.person[m], find(("m", m))) for m in keys_of if m in truth.person}


def identity_accuracy(
    session: Session, workspace_id: uuid.UUID, truth: GroundTruth
) -> dict[str, dict[str, Any]]:
    """Pairwise scores of the workspace's resolved people against the labelled truth."""
    config = load_config(session, workspace_id)
    predicted = resolved_people(session, workspace_id)
    keys_of: dict[str, list[IdentifierKey]] = {}
    identified: set[str] = set()
    for row in session.execute(select(*_COLUMNS).where(owned(Event, workspace_id))):
        keys = event_identifiers(PipelineEvent(*row[:-1]), config)
        keys_of[row[-1]] = keys
        if any(not config.rule(id_type).weak for id_type, _ in keys):
            identified.add(row[-1])
    return {
        "all_events": pairwise_scores(truth.person, predicted).to_dict(),
        "identified_events": pairwise_scores(
            truth.person, {m: p for m, p in predicted.items() if m in identified}
        ).to_dict(),
        "reachable": pairwise_scores(_reachable_labels(truth, keys_of), predicted).to_dict(),
    }
