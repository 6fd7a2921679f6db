"""What the API shows about a person's rules state, and the manual tag edits."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, delete, literal, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadpond.accounts.models import PersonAccount
from leadpond.accounts.scope import live_links
from leadpond.conditions.evaluate import decayed, matches
from leadpond.db.engine import dialect_insert, is_postgres
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import InvalidInput, NotFound
from leadpond.kit.names import DEFAULT_LANGUAGE, name_in
from leadpond.kit.pagination import count
from leadpond.kit.scope import in_workspace, owned
from leadpond.profiles.models import Person
from leadpond.rules.active import current_ruleset
from leadpond.rules.models import PersonScore, PersonStage, PersonTag, ScoreLedger, StageChange
from leadpond.rules.ruleset import Ruleset
from leadpond.rules.state import load_states

_person_tags = cast(Table, PersonTag.__table__)


class TagNotFound(NotFound):
    code = "tag_not_found"


@dataclass
class ModelScore:
    model: str
    points: float
    grade: str | None
    as_of: datetime | None
    ledger: list[dict[str, Any]]


def _ruleset(session: Session, workspace_id: uuid.UUID) -> Ruleset | None:
    return current_ruleset(session, workspace_id)


def tags_of(session: Session, workspace_id: uuid.UUID, person_id: int) -> list[PersonTag]:
    """The person's tags with who or what put each there, oldest first."""
    # Scoped through the person: with the workspace on the tags, SQLite without statistics read
    # every tag of the workspace by (workspace, tag) instead of the person's (person, tag) keys.
    return list(
        session.scalars(
            select(PersonTag)
            .join(Person, Person.id == PersonTag.person_id)
            .where(owned(Person, workspace_id), PersonTag.person_id == person_id)
            .order_by(PersonTag.added_at, PersonTag.id)
        )
    )


def add_manual_tag(
    session: Session, workspace_id: uuid.UUID, person_id: int, tag: str, actor: str
) -> PersonTag:
    """Tag a person by hand (idempotent: an existing tag is returned as it is)."""
    tag = tag.strip()
    if not tag or len(tag) > 200:
        raise InvalidInput("a tag is 1 to 200 characters", field="tag")
    existing = session.scalars(
        select(PersonTag).where(PersonTag.person_id == person_id, PersonTag.tag == tag)
    ).first()
    if existing is not None:
        return existing
    row = PersonTag(
        workspace_id=workspace_id,
        person_id=person_id,
        tag=tag,
        category=tag.partition(":")[0] if ":" in tag else None,
        source="manual",
        actor=actor[:100],
        added_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def add_manual_tags(
    session: Session, workspace_id: uuid.UUID, tags: list[tuple[int, str]], actor: str
) -> None:
    """:func:`add_manual_tag` for many (person, tag) pairs in one statement (a tag a person has
    already stays as it is). Manual tags survive replays of history, as a hand-set tag does."""
    if not tags:
        return
    upsert = pg_insert if is_postgres(session) else sqlite_insert
    now = utcnow()
    session.execute(
        upsert(PersonTag)
        .values(
            [
                {"workspace_id": workspace_id, "person_id": pid, **_manual(tag, actor, now)}
                for pid, tag in dict.fromkeys(tags)
            ]
        )
        .on_conflict_do_nothing(index_elements=["person_id", "tag"])
    )


def _manual(tag: str, actor: str, now: datetime) -> dict[str, Any]:
    """A manual tag's columns besides its workspace and person."""
    category = tag.partition(":")[0] if ":" in tag else None
    return {
        "tag": tag,
        "category": category,
        "source": "manual",
        "actor": actor[:100],
        "added_at": now,
    }


def add_manual_tags_to(
    session: Session, workspace_id: uuid.UUID, people: Select[Any], tags: Sequence[str], actor: str
) -> None:
    """:func:`add_manual_tags` for the people a query selects (one ``person_id`` column), each
    tag one ``INSERT … SELECT`` whatever their number (a journey step over a batch)."""
    now = utcnow()
    given = people.subquery()
    for tag in dict.fromkeys(tags):
        fields = _manual(tag, actor, now)
        session.execute(
            dialect_insert(session, _person_tags)
            .from_select(
                ["workspace_id", "person_id", *fields],
                select(
                    literal(workspace_id, _person_tags.c.workspace_id.type),
                    given.c.person_id,
                    *(literal(value, _person_tags.c[name].type) for name, value in fields.items()),
                )
                .distinct()
                # SQLite reads ON CONFLICT after a bare SELECT as a join's: a WHERE ends it.
                .where(true()),
            )
            .on_conflict_do_nothing(index_elements=["person_id", "tag"])
        )


def remove_tags_of(
    session: Session, workspace_id: uuid.UUID, person_ids: list[int] | Select[Any], tags: list[str]
) -> None:
    """Take these tags off these people (ids, or a query of them), whoever put them there
    (none held is no error)."""
    if tags and (isinstance(person_ids, Select) or person_ids):
        session.execute(
            delete(PersonTag).where(
                owned(PersonTag, workspace_id),
                PersonTag.person_id.in_(person_ids),
                PersonTag.tag.in_(tags),
            )
        )


def remove_tag(session: Session, workspace_id: uuid.UUID, person_id: int, tag: str) -> None:
    """Take a tag off a person, whoever put it there."""
    gone = session.execute(
        delete(PersonTag).where(
            owned(PersonTag, workspace_id),
            PersonTag.person_id == person_id,
            PersonTag.tag == tag,
        )
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise TagNotFound(f"person {person_id} has no tag {tag!r}")


def scores_of(session: Session, workspace_id: uuid.UUID, person_id: int) -> list[ModelScore]:
    """Each model's value now, and every ledger entry with what it is worth now."""
    ruleset = _ruleset(session, workspace_id)
    now = utcnow()
    half_lives = ruleset.half_lives if ruleset else {}
    held = {
        s.model: s
        for s in session.scalars(
            in_workspace(PersonScore, workspace_id).where(PersonScore.person_id == person_id)
        )
    }
    entries: dict[str, list[dict[str, Any]]] = {}
    for row in session.scalars(
        in_workspace(ScoreLedger, workspace_id)
        .where(ScoreLedger.person_id == person_id)
        .order_by(ScoreLedger.at, ScoreLedger.id)
    ):
        entries.setdefault(row.model, []).append(
            {
                "rule_id": row.rule_id,
                "event_id": row.event_id,
                "points": row.points,
                "worth_now": round(decayed(row.points, row.at, now, half_lives.get(row.model)), 4),
                "reason": row.reason,
                "at": row.at,
            }
        )
    models = list(ruleset.models) if ruleset else []
    models += sorted((set(held) | set(entries)) - set(models))
    result = []
    for model in models:
        score = held.get(model)
        points = (
            0.0 if score is None else decayed(score.points, score.as_of, now, half_lives.get(model))
        )
        result.append(
            ModelScore(
                model=model,
                points=round(points, 4),
                grade=ruleset.grade(model, points) if ruleset else None,
                as_of=score.as_of if score else None,
                ledger=entries.get(model, []),
            )
        )
    return result


def stage_of(
    session: Session, workspace_id: uuid.UUID, person_id: int, language: str = DEFAULT_LANGUAGE
) -> dict[str, Any]:
    """The current stage (with its phase and its name in ``language``) and every change, oldest
    first."""
    ruleset = _ruleset(session, workspace_id)
    current = session.scalars(
        in_workspace(PersonStage, workspace_id).where(PersonStage.person_id == person_id)
    ).first()
    phases = (
        {s.key: (s.phase, name_in(s.name, language)) for s in ruleset.stages} if ruleset else {}
    )
    history = session.scalars(
        in_workspace(StageChange, workspace_id)
        .where(StageChange.person_id == person_id)
        .order_by(StageChange.at, StageChange.id)
    )
    stage = current.stage if current else None
    phase, name = phases.get(stage or "", (None, None))
    return {
        "stage": stage,
        "name": name,
        "phase": phase,
        "entered_at": current.entered_at if current else None,
        "history": [
            {
                "from_stage": h.from_stage,
                "to_stage": h.to_stage,
                "rule_id": h.rule_id,
                "event_id": h.event_id,
                "reason": h.reason,
                "at": h.at,
            }
            for h in history
        ],
    }


def personas_of(
    session: Session, workspace_id: uuid.UUID, person_id: int, language: str = DEFAULT_LANGUAGE
) -> list[dict[str, Any]]:
    """The personas whose criteria the person matches now (names in ``language``)."""
    ruleset = _ruleset(session, workspace_id)
    if ruleset is None or not ruleset.personas:
        return []
    now = utcnow()
    state = load_states(session, workspace_id, ruleset, {person_id}, since=now, fresh=False)[
        person_id
    ]
    state.snap.now = now
    for colleague in state.snap.account_people:
        colleague.now = now
    return [
        {"key": key, "name": name_in(name, language)}
        for key, name in ruleset.personas
        if matches(ruleset.context.persona(key), state.snap)
    ]


def account_scores(session: Session, workspace_id: uuid.UUID, account_id: int) -> dict[str, Any]:
    """An account's scores: the sum of its (live) people's current values, per model."""
    ruleset = _ruleset(session, workspace_id)
    half_lives = ruleset.half_lives if ruleset else {}
    now = utcnow()
    people = live_links(workspace_id, PersonAccount.person_id).where(
        PersonAccount.account_id == account_id
    )
    total = count(session, people)
    models: dict[str, float] = {}
    for model, points, as_of in session.execute(
        # The people are the workspace's (``live_links``); scoping the scores again made SQLite
        # without statistics read every score of the workspace by (workspace, model).
        select(PersonScore.model, PersonScore.points, PersonScore.as_of).where(
            PersonScore.person_id.in_(people)
        )
    ):
        models[model] = models.get(model, 0.0) + decayed(points, as_of, now, half_lives.get(model))
    return {
        "account_id": account_id,
        "people": total,
        "scores": {m: round(v, 4) for m, v in sorted(models.items())},
    }
