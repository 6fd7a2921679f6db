"""Recommend-and-send (``send_content``): for a group of enrollments at the step, as a set,
each person's next best content items (``content.recommend``: their stage and interests, not
seen), narrowed by the step's stage/type/topic and leaving out what a journey sent them
before, sent through the outbox with the step's template.

The template sees ``content`` (the first item: ``title``, ``summary``, ``url``, ``key``,
``type``, ``reasons``) and ``items`` (all of them, the same fields). ``url`` is a tracked short
link per person × item to the item's viewer, its channel ``journey:<key>``: a click records
``Link Clicked`` with that channel and the viewer counts the read by it. Its code is derived
from the workspace's signing key and the enrollment, step and item, so a retry finds the link
it made (no second one) and nobody can guess another person's. The step log names the items and
why each was picked (the recommendation's reasons), which explain shows. Nothing left to
recommend: the step logs ``nothing_left`` and goes to ``fallback``.
"""

import base64
import hmac
import sys
from typing import Any

from sqlalchemy import select

from leadpond.acquisition.models import TrackingLink
from leadpond.acquisition.service import short_url
from leadpond.channels.models import MessageTemplate
from leadpond.channels.service import QueuedSend, enqueue_many
from leadpond.content.recommend import Pick, recommend
from leadpond.content.service import facets_of, make_links
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.steps import Position, StepRun, message_key
from leadpond.kit.errors import LeadpondError
from leadpond.kit.scope import owned
from leadpond.rules.state import CHUNK, chunks
from leadpond.workspaces.signing import signer

SENT = "send_content"  # the step log's kind, whose ``items`` a later pick leaves out
LINK_PURPOSE = "journey-content-link"


def link_channel(journey_key: str) -> str:
    """The channel a journey's content links record (at most the column's 64 characters)."""
    return f"journey:{journey_key}"[:64]


def _sent_before(run: StepRun, group: list[Position]) -> dict[int, set[str]]:
    """Person → the item keys any journey's ``send_content`` sent them (this run's too)."""
    found: dict[int, set[str]] = {}
    for ids in chunks({r.person_id for r in group}):
        for pid, detail in run.session.execute(
            select(Enrollment.person_id, StepLog.detail)
            .join(StepLog, StepLog.enrollment_id == Enrollment.id)
            .where(
                owned(Enrollment, run.workspace_id),
                Enrollment.person_id.in_(ids),
                StepLog.kind == SENT,
            )
        ):
            for item in (detail or {}).get("items") or []:
                found.setdefault(pid, set()).add(str(item.get("key")))
    person_of = {r.id: r.person_id for r in group}
    for entry in run.entries:
        if entry["kind"] == SENT and entry["enrollment_id"] in person_of:
            for item in entry["detail"].get("items") or []:
                found.setdefault(person_of[entry["enrollment_id"]], set()).add(str(item["key"]))
    return found


def _passes(pick: Pick, facets: dict[str, list[str]], filters: tuple[tuple[str, str], ...]) -> bool:
    for kind, value in filters:
        if kind == "type":
            if pick.item.type != value:
                return False
        elif value not in facets.get(kind, []):
            return False
    return True


def _choose(run: StepRun, group: list[Position]) -> dict[int, list[Pick]]:
    """Enrollment id → the items it gets (at most the step's ``limit``; none: nothing left)."""
    step = run.step
    people = sorted({r.person_id for r in group})
    ranked: dict[int, list[Pick]] = {}
    for ids in chunks(set(people)):
        ranked.update(recommend(run.session, run.workspace_id, sorted(ids), sys.maxsize))
    facets = facets_of(
        run.session,
        run.workspace_id,
        sorted({p.item.id for picks in ranked.values() for p in picks}),
    )
    sent = _sent_before(run, group)
    chosen: dict[int, list[Pick]] = {}
    for row in group:
        left = [
            p
            for p in ranked.get(row.person_id, [])
            if p.item.key not in sent.get(row.person_id, set())
            and _passes(p, facets[p.item.id], step.filters)
        ]
        chosen[row.id] = left[: step.limit]
    return chosen


def _codes(run: StepRun, pairs: list[tuple[Position, Pick]]) -> list[str]:
    """Each (enrollment, item)'s link code: 12 URL-safe characters of an HMAC under the
    workspace's signing key, the same however often the step runs."""
    key = signer(run.session, run.workspace_id, LINK_PURPOSE).key
    codes = []
    for row, pick in pairs:
        name = f"{run.journey.key}:{run.step.id}:{row.id}:{pick.item.id}".encode()
        digest = hmac.digest(key, name, "sha256")[:9]
        codes.append(base64.urlsafe_b64encode(digest).decode())
    return codes


def _links(run: StepRun, chosen: dict[int, list[Pick]], group: list[Position]) -> dict[str, str]:
    """The tracked link of every (enrollment, item) chosen, made unless it exists:
    ``"<enrollment id>:<item id>"`` → its code. One INSERT per item, whatever the group."""
    pairs = [(row, pick) for row in group for pick in chosen[row.id]]
    codes = _codes(run, pairs)
    existing: set[str] = set()
    unique = sorted(set(codes))
    for start in range(0, len(unique), CHUNK):
        part = unique[start : start + CHUNK]
        existing.update(
            run.session.scalars(
                select(TrackingLink.code).where(
                    owned(TrackingLink, run.workspace_id), TrackingLink.code.in_(part)
                )
            )
        )
    missing: dict[int, list[str]] = {}
    for (_, pick), code in zip(pairs, codes, strict=True):
        if code not in existing:
            missing.setdefault(pick.item.id, []).append(code)
            existing.add(code)
    channel = link_channel(run.journey.key)
    actor = f"journey:{run.journey.key}"
    for item_id, item_codes in sorted(missing.items()):
        make_links(
            run.session,
            run.workspace_id,
            item_id,
            [channel] * len(item_codes),
            {"campaign": run.journey.key[:128], "medium": "journey"},
            actor,
            item_codes,
        )
    return {
        f"{row.id}:{pick.item.id}": code for (row, pick), code in zip(pairs, codes, strict=True)
    }


def _template_ok(run: StepRun) -> str | None:
    """Why the step's template cannot send (missing, or for another channel), else None:
    asked before any link is made, so a workspace without the template makes none."""
    channel = run.session.scalar(
        select(MessageTemplate.channel).where(
            owned(MessageTemplate, run.workspace_id), MessageTemplate.key == run.step.template
        )
    )
    if channel is None:
        return f"no template {run.step.template!r}"
    if channel != run.step.channel:
        return f"template {run.step.template!r} is for {channel}, not {run.step.channel}"
    return None


def send_content(run: StepRun, group: list[Position]) -> int:
    """The step for the group: choose, make the links, queue the messages, log why."""
    step, journey = run.step, run.journey
    assert step.channel is not None and step.template is not None
    detail: dict[str, Any] = {"channel": step.channel, "template": step.template}
    chosen = _choose(run, group)
    for row in [r for r in group if not chosen[r.id]]:
        run.log(row, SENT, {**detail, "items": [], "skipped": "nothing_left"})
        run.go(row, step.fallback)
    group = [r for r in group if chosen[r.id]]
    if not group:
        return 0
    problem = _template_ok(run)
    if problem is not None:
        for row in group:
            run.log(row, SENT, {**detail, "items": [], "skipped": "no_template", "error": problem})
            run.go(row, step.next)
        return 0
    codes = _links(run, chosen, group)
    keys = {r.id: message_key(journey, step, r) for r in group}
    said: dict[int, list[dict[str, Any]]] = {}
    sends = []
    for row in group:
        items = [
            {
                "key": pick.item.key,
                "id": pick.item.id,
                "title": pick.item.title,
                "summary": pick.item.summary,
                "type": pick.item.type,
                "url": short_url(codes[f"{row.id}:{pick.item.id}"]),
                "reasons": [r.text for r in pick.reasons],
            }
            for pick in chosen[row.id]
        ]
        said[row.id] = [
            {
                "key": item["key"],
                "id": item["id"],
                "title": item["title"],
                "link": codes[f"{row.id}:{item['id']}"],
                "score": pick.score,
                "reasons": [r.read() for r in pick.reasons],
            }
            for item, pick in zip(items, chosen[row.id], strict=True)
        ]
        sends.append(
            QueuedSend(
                row.person_id,
                step.channel,
                step.template,
                keys[row.id],
                f"journey:{journey.key}:{row.version}:{step.id}",
                {"journey": journey.key, "step": step.id, "content": items[0], "items": items},
            )
        )
    try:
        message_ids = enqueue_many(run.session, run.workspace_id, sends)
    except LeadpondError as exc:  # checked above; a person merged away mid-run, say
        message_ids = {}
        detail |= {"skipped": "not_queued", "error": exc.message}
    for row in group:
        # Items not queued are not sent: a later pick may choose them again.
        mine = (
            {**detail, "items": said[row.id]}
            if message_ids
            else {**detail, "items": [], "picked": said[row.id]}
        )
        run.log(row, SENT, mine, message_id=message_ids.get(keys[row.id]))
        run.go(row, step.next)
    return len(message_ids)
