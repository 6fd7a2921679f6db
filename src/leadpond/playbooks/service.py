"""Validating, applying and exporting playbooks; every apply is a new, recorded version."""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from leadpond.conditions.parse import ConditionError
from leadpond.conditions.source import Located, SourceError, format_path, load_located
from leadpond.db.engine import unit_of_work
from leadpond.db.memo import forget
from leadpond.journeys.definitions import compile_journeys
from leadpond.journeys.dryrun import DryRunReport, dry_run
from leadpond.kit.errors import LeadpondError, NotFound, RefusedValue
from leadpond.kit.scope import in_workspace, owned
from leadpond.rules import stage_days
from leadpond.rules.backfill import BackfillReport, backfill_in_steps
from leadpond.rules.compile import compile_playbook
from leadpond.rules.models import PlaybookVersion
from leadpond.rules.playbook import Playbook
from leadpond.rules.ruleset import Ruleset
from leadpond.segments.service import rebuild_workspace, sync_from_playbook
from leadpond.workspaces.service import NewWorkspace, create_workspace


class PlaybookInvalid(LeadpondError):
    """Every problem found, each with its path and line; the message names the first."""

    status_code, code = 422, "invalid_playbook"


class NoPlaybook(NotFound):
    code = "playbook_not_found"


@dataclass
class ValidPlaybook:
    source: str
    document: dict[str, Any]
    playbook: Playbook
    ruleset: Ruleset

    @property
    def checksum(self) -> str:
        return hashlib.sha256(orjson.dumps(self.document, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class ApplyResult:
    version: int
    changed: bool


def _invalid(errors: list[dict[str, Any]]) -> PlaybookInvalid:
    first = errors[0]
    where = f"line {first['line']}, " if first.get("line") else ""
    return PlaybookInvalid(f"{where}{first['path']}: {first['message']}", errors=errors)


def validate_playbook(source: str) -> ValidPlaybook:
    """Parse and check a playbook; raises ``PlaybookInvalid`` with every error's line and key."""
    try:
        located = load_located(source)
    except SourceError as exc:
        line, path = exc.details.get("line"), exc.details.get("path", "(top)")
        error = {"path": path, "line": line, "message": exc.message}
        raise _invalid([{**error, **_words(exc.words, exc.params)}]) from None
    if not isinstance(located.data, dict):
        raise _invalid(
            [{"path": "(top)", "line": 1, "message": "a playbook is a mapping with version: 1"}]
        )
    try:
        playbook = Playbook.model_validate(located.data)
    except ValidationError as exc:
        raise _invalid([_pydantic_error(located, e) for e in exc.errors()]) from None
    try:
        ruleset = compile_playbook(playbook)
        compile_journeys(playbook)
    except ConditionError as exc:
        line = located.line_of(exc.path)
        error = {"path": format_path(exc.path), "line": line, "message": exc.reason}
        raise _invalid([{**error, **_words(exc.words, exc.params)}]) from None
    return ValidPlaybook(source, located.data, playbook, ruleset)


def _pydantic_error(located: Located, error: Any) -> dict[str, Any]:
    path = tuple(
        part
        for part in error["loc"]
        if not (isinstance(part, str) and part.startswith("function-"))
    )
    # The error's kind and limits too: the console says them in the viewer's language.
    context = {
        str(k): v if isinstance(v, str | int | float | bool) else str(v)
        for k, v in (error.get("ctx") or {}).items()
    }
    said = {
        "path": format_path(path),
        "line": located.line_of(path),
        "message": error["msg"],
        "type": error["type"],
        "ctx": context,
    }
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, RefusedValue):
        said.update(_words(cause.words, cause.params))
    return said


def _words(words: str, params: dict[str, Any]) -> dict[str, Any]:
    """A rule's own account as a message id and its values, so the console can say it in the
    viewer's language (``message`` is it in English)."""
    return {"words": words, "params": {key: _plain(value) for key, value in params.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def current(session: Session, workspace_id: uuid.UUID) -> PlaybookVersion:
    """The workspace's newest playbook version, or 404."""
    found = session.scalars(
        in_workspace(PlaybookVersion, workspace_id)
        .order_by(PlaybookVersion.version.desc())
        .limit(1)
    ).first()
    if found is None:
        raise NoPlaybook("this workspace has no playbook yet")
    return found


def apply_playbook(
    session: Session, workspace_id: uuid.UUID, source: str, *, actor: str
) -> ApplyResult:
    """Make this playbook the workspace's rules (a no-op when it is the current one).

    The history is not replayed here: commit this, then :func:`replay_history` (in steps).
    """
    valid = validate_playbook(source)
    return _store(session, workspace_id, valid, actor)


def _store(
    session: Session, workspace_id: uuid.UUID, valid: ValidPlaybook, actor: str
) -> ApplyResult:
    latest = session.execute(
        select(PlaybookVersion.version, PlaybookVersion.checksum)
        .where(owned(PlaybookVersion, workspace_id))
        .order_by(PlaybookVersion.version.desc())
        .limit(1)
    ).first()
    changed = latest is None or latest.checksum != valid.checksum
    version = latest.version if latest is not None else 0
    if changed:
        version += 1
        forget(session)  # what this transaction read of the newest version is stale now
        session.execute(
            insert(PlaybookVersion).values(
                workspace_id=workspace_id,
                version=version,
                document=valid.document,
                source=valid.source,
                checksum=valid.checksum,
                applied_by=actor[:100],
            )
        )
    # The funnel's rollups count for the playbook's line: recounted here when it moved.
    stage_days.follow_playbook(session, workspace_id)
    sync_from_playbook(session, workspace_id, valid.playbook.segments, rebuild_all=changed)
    return ApplyResult(version=version, changed=changed)


def replay_history(
    workspace_id: uuid.UUID,
    *,
    url: str | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> BackfillReport:
    """Replay the workspace's history through its current (committed) rules, so tags, scores,
    stages and key events are what they would be had these rules always existed; then rebuild
    its segments, which read them.

    One transaction per step of people (``rules.backfill.backfill_in_steps``), so ingest and
    the pipeline go on meanwhile; the segments are rebuilt in one transaction at the end.
    """
    report = backfill_in_steps(workspace_id, url=url, on_step=on_step)
    with unit_of_work(url) as session:
        rebuild_workspace(session, workspace_id, "history replayed")
    return report


def export_playbook(session: Session, workspace_id: uuid.UUID) -> str:
    """The current playbook, exactly as it was applied."""
    return current(session, workspace_id).source


def default_source() -> str:
    """The default B2B playbook shipped with leadpond."""
    return resources.files("leadpond.playbooks").joinpath("default_b2b.yaml").read_text("utf-8")


@lru_cache(maxsize=1)
def _default() -> ValidPlaybook:
    return validate_playbook(default_source())


def apply_default_playbook(session: Session, workspace_id: uuid.UUID) -> None:
    """Give a new workspace the default B2B playbook (validated once per process)."""
    _store(session, workspace_id, _default(), "leadpond:default")


def start_workspace(session: Session, name: str) -> NewWorkspace:
    """A new workspace, its keys and the default B2B playbook: what the CLI and the demo create."""
    created = create_workspace(session, name)
    apply_default_playbook(session, created.workspace_id)
    return created


def dry_run_draft(
    session: Session,
    workspace_id: uuid.UUID,
    source: str,
    key: str,
    since: datetime,
    until: datetime,
) -> DryRunReport:
    """Journey ``key`` of a draft playbook tried on real history before it is applied: the
    draft is applied in ``session``'s transaction, which the caller rolls back
    (:func:`leadpond.db.engine.rolled_back`), and the journey dry-runs on it. An invalid draft
    answers as applying it would (every error with its line)."""
    apply_playbook(session, workspace_id, source, actor="dry-run")
    return dry_run(session, workspace_id, key, since, until)
