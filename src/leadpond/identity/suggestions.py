"""Duplicate suggestions: people sharing no identifier who look like one human, for review."""

import uuid
from itertools import combinations

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadpond.db.engine import is_postgres
from leadpond.flow.batch import Batch
from leadpond.flow.hooks import people_changed
from leadpond.identity import duplicates
from leadpond.identity.config import load_config
from leadpond.identity.merge import MergePlan, apply_merges
from leadpond.identity.models import Identifier, MergeSuggestion, PersonSeparation
from leadpond.identity.resolver import MemoryGraph, merge_blocker
from leadpond.identity.stored_graph import live_separations
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import Conflict, InvalidInput, NotFound
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import people

# More people than this behind one name+company is a common name, not a duplicate.
MAX_GROUP = 8


class SuggestionNotFound(NotFound):
    code = "suggestion_not_found"


class SuggestionDecided(Conflict):
    code = "suggestion_decided"


class MergeNotAllowed(Conflict):
    code = "merge_not_allowed"


def _digits_apart(a: str, b: str) -> int:
    """Differing positions of two equal-length numbers (a typo), else a large number."""
    return sum(x != y for x, y in zip(a, b, strict=True)) if len(a) == len(b) else 99


_EVIDENCE = {
    "same_name_and_company": [
        {"comparison": "name", "level": "exact", "weight": None},
        {"comparison": "company", "level": "exact", "weight": None},
    ],
    "similar_phone": [{"comparison": "phone", "level": "one_typo", "weight": None}],
    "same_title": [{"comparison": "title", "level": "exact", "weight": None}],
}


def _score(a: Person, b: Person) -> tuple[float, list[str]]:
    score, reasons = 0.6, ["same_name_and_company"]
    phone_a, phone_b = a.traits.get("phone"), b.traits.get("phone")
    if isinstance(phone_a, str) and isinstance(phone_b, str):
        apart = _digits_apart(
            "".join(c for c in phone_a if c.isdigit())[-11:],
            "".join(c for c in phone_b if c.isdigit())[-11:],
        )
        if apart <= 2:
            score, reasons = score + 0.3, [*reasons, "similar_phone"]
    title_a, title_b = a.traits.get("title"), b.traits.get("title")
    if isinstance(title_a, str) and title_a and title_a == title_b:
        score, reasons = score + 0.1, [*reasons, "same_title"]
    return round(min(score, 1.0), 2), reasons


def suggest_batch(batch: Batch) -> None:
    """Pipeline stage: queue review suggestions for people whose name or company just changed."""
    if not batch.traits_changed:
        return
    session = batch.session
    duplicates.follow_changes(
        session,
        set(
            session.scalars(
                select(Person.workspace_id).where(Person.id.in_(batch.traits_changed)).distinct()
            )
        ),
    )
    keyed = session.execute(
        select(Person.workspace_id, Person.match_key).where(
            Person.id.in_(batch.traits_changed), Person.match_key.is_not(None)
        )
    ).all()
    by_workspace: dict[uuid.UUID, set[str]] = {}
    for workspace_id, key in keyed:
        if key is not None:
            by_workspace.setdefault(workspace_id, set()).add(key)
    for workspace_id, keys in by_workspace.items():
        twins = session.scalars(people(workspace_id).where(Person.match_key.in_(keys))).all()
        groups: dict[str, list[Person]] = {}
        for person in twins:
            groups.setdefault(person.match_key or "", []).append(person)
        separated = live_separations(session, workspace_id)
        rows = []
        for group in groups.values():
            if not 2 <= len(group) <= MAX_GROUP:
                continue
            for a, b in combinations(sorted(group, key=lambda p: p.id), 2):
                if frozenset((a.id, b.id)) in separated:
                    continue
                score, reasons = _score(a, b)
                rows.append(
                    {
                        "workspace_id": workspace_id,
                        "person_a_id": a.id,
                        "person_b_id": b.id,
                        "score": score,
                        "reasons": reasons,
                        "method": "exact",
                        "evidence": [e for reason in reasons for e in _EVIDENCE[reason]],
                        "status": "pending",
                        "created_at": batch.now,
                    }
                )
        if rows:
            dialect = postgresql if is_postgres(session) else sqlite
            session.execute(
                dialect.insert(MergeSuggestion).on_conflict_do_nothing(
                    index_elements=["workspace_id", "person_a_id", "person_b_id"]
                ),
                rows,
            )


class BadCursor(InvalidInput):
    code = "bad_cursor"


Cursor = tuple[float, int]


def encode_cursor(suggestion: MergeSuggestion) -> str:
    """The position after this suggestion in the review queue."""
    return f"{suggestion.score!r}_{suggestion.id}"


def decode_cursor(text: str) -> Cursor:
    """(score, id) of a cursor from ``encode_cursor`` (400 when it is not one)."""
    score, _, ident = text.partition("_")
    try:
        value, row = float(score), int(ident)
    except ValueError:
        raise BadCursor(f"{text!r} is not a cursor of this list", field="cursor") from None
    if not (0.0 <= value <= 1.0) or row < 0 or row > 2**62:
        raise BadCursor(f"{text!r} is not a cursor of this list", field="cursor")
    return value, row


def list_suggestions(
    session: Session,
    workspace_id: uuid.UUID,
    status: str,
    limit: int,
    after: Cursor | None = None,
) -> tuple[int, list[MergeSuggestion]]:
    """One page of the suggestions in a status, best first (score, then newest), from a
    position: a keyset page walks the queue index, whatever the queue's length."""
    in_status = (owned(MergeSuggestion, workspace_id), MergeSuggestion.status == status)
    total = session.scalar(select(func.count(MergeSuggestion.id)).where(*in_status)) or 0
    stmt = select(MergeSuggestion).where(*in_status)
    if after is not None:
        # A row value: both databases walk the queue index from the position.
        stmt = stmt.where(tuple_(MergeSuggestion.score, MergeSuggestion.id) < tuple_(*after))
    page = session.scalars(
        stmt.order_by(MergeSuggestion.score.desc(), MergeSuggestion.id.desc()).limit(limit)
    ).all()
    return total, list(page)


def _pending(session: Session, workspace_id: uuid.UUID, suggestion_id: int) -> MergeSuggestion:
    suggestion = get_suggestion(session, workspace_id, suggestion_id)
    if suggestion.status != "pending":
        raise SuggestionDecided(f"suggestion {suggestion_id} is already {suggestion.status}")
    return suggestion


def accept(session: Session, workspace_id: uuid.UUID, suggestion_id: int, actor: str) -> int:
    """Merge the two people (limits and separations still apply); returns the survivor."""
    suggestion = _pending(session, workspace_id, suggestion_id)
    a = session.get_one(Person, suggestion.person_a_id)
    b = session.get_one(Person, suggestion.person_b_id)
    if a.merged_into_id is not None or b.merged_into_id is not None:
        raise SuggestionDecided("one of these people was merged meanwhile; the suggestion is stale")
    graph = MemoryGraph()
    for id_type, value, person_id in session.execute(
        select(Identifier.type, Identifier.value, Identifier.person_id).where(
            Identifier.person_id.in_((a.id, b.id))
        )
    ):
        graph.attach(person_id, (id_type, value))
    graph.separations = live_separations(session, workspace_id)
    blocker = merge_blocker(graph, {a.id, b.id}, load_config(session, workspace_id))
    if blocker is not None:
        raise MergeNotAllowed(
            f"merging {a.id} and {b.id} would break the identity rules ({blocker})"
        )
    survivor, loser = sorted((a.id, b.id))
    apply_merges(
        session,
        workspace_id,
        [MergePlan(survivor, loser, key=None, event_id=None)],
        reason="suggestion_accepted",
        actor=actor,
    )
    suggestion.status, suggestion.decided_at, suggestion.decided_by = "accepted", utcnow(), actor
    people_changed(session, workspace_id, {survivor, loser})
    return survivor


def reject(session: Session, workspace_id: uuid.UUID, suggestion_id: int, actor: str) -> None:
    """Mark the two people as different: never suggested or merged together again."""
    suggestion = _pending(session, workspace_id, suggestion_id)
    suggestion.status, suggestion.decided_at, suggestion.decided_by = "rejected", utcnow(), actor
    session.add(
        PersonSeparation(
            workspace_id=workspace_id,
            person_a_id=suggestion.person_a_id,
            person_b_id=suggestion.person_b_id,
            reason="suggestion_rejected",
            actor=actor,
        )
    )


def get_suggestion(
    session: Session, workspace_id: uuid.UUID, suggestion_id: int
) -> MergeSuggestion:
    """One suggestion of the workspace, or 404."""
    suggestion = session.get(MergeSuggestion, suggestion_id)
    if suggestion is None or suggestion.workspace_id != workspace_id:
        raise SuggestionNotFound(f"suggestion {suggestion_id} not found")
    return suggestion
