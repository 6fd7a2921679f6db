"""Resolving each event to a person through the identity graph."""

import uuid
from collections.abc import Iterable

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from leadpond.identity.models import Identifier
from leadpond.pipeline.batch import Batch, PipelineEvent
from leadpond.profiles.models import Person

IdentifierKey = tuple[str, str]


def event_identifiers(event: PipelineEvent) -> list[IdentifierKey]:
    """The identifiers an event carries, strongest first."""
    keys: list[IdentifierKey] = []
    if event.user_id:
        keys.append(("user_id", event.user_id))
    if event.type == "alias":
        previous = event.payload.get("previousId")
        if isinstance(previous, str) and previous:
            keys.append(("anonymous_id", previous))
    if event.anonymous_id:
        keys.append(("anonymous_id", event.anonymous_id))
    traits = event.payload.get("traits") or {}
    email = traits.get("email") if isinstance(traits, dict) else None
    if isinstance(email, str) and "@" in email:
        keys.append(("email", email.strip().lower()))
    return keys


def _load_graph(
    session: Session, workspace_id: uuid.UUID, keys: Iterable[IdentifierKey]
) -> dict[IdentifierKey, int]:
    wanted = list(set(keys))
    graph: dict[IdentifierKey, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(Identifier.type, Identifier.value, Identifier.person_id).where(
                Identifier.workspace_id == workspace_id,
                tuple_(Identifier.type, Identifier.value).in_(chunk),
            )
        )
        graph.update({(t, v): p for t, v, p in rows})
    return graph


def resolve_batch(batch: Batch) -> None:
    """Pipeline stage: set ``person_id`` on every event, creating people and identifiers."""
    session = batch.session
    for workspace_id, events in batch.by_workspace().items():
        keys_of = {event.id: event_identifiers(event) for event in events}
        graph = _load_graph(session, workspace_id, (k for keys in keys_of.values() for k in keys))
        new_identifiers: list[dict[str, object]] = []
        for event in events:
            keys = keys_of[event.id]
            matched = [graph[key] for key in keys if key in graph]
            if matched:
                person_id = matched[0]
            else:
                person = Person(workspace_id=workspace_id, traits={}, trait_times={})
                session.add(person)
                session.flush()
                person_id = person.id
            for key in keys:
                if key not in graph:
                    graph[key] = person_id
                    new_identifiers.append(
                        {
                            "workspace_id": workspace_id,
                            "type": key[0],
                            "value": key[1],
                            "person_id": person_id,
                            "first_seen_at": event.timestamp,
                            "source_event_id": event.id,
                        }
                    )
            event.person_id = person_id
            batch.touched_people.add(person_id)
        if new_identifiers:
            session.execute(insert(Identifier), new_identifiers)
