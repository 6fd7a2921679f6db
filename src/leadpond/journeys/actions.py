"""Actions about the person for the people who work with them: notify a workspace user, assign
an owner, enroll in another journey — set-wise like every step (one query per kind of row read,
one INSERT per kind written), and as safe to run twice (messages and action events carry keys
naming the enrollment and step)."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.channels.models import MessageTemplate, Purpose
from leadpond.channels.service import QueuedSend, enqueue_many
from leadpond.journeys.models import Enrollment, StepLog
from leadpond.journeys.service import Candidate, enroll, journeys_of
from leadpond.journeys.steps import (
    Position,
    StepKind,
    StepRun,
    action_event,
    message_key,
    write_action_events,
)
from leadpond.kit.errors import LeadpondError
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.rules.state import chunks
from leadpond.users.models import ConsoleUser, Membership

# The person's owner, as traits: the name, the email notes go to, the WeCom userid.
OWNER_TRAITS = ("owner", "owner_email", "owner_wecom_userid")
ASSIGNED = "assign_owner"


def owners_of(run: StepRun, group: list[Position]) -> dict[int, dict[str, str]]:
    """Each enrollment's owner: the one an ``assign_owner`` step of the enrollment chose (its
    trait arrives with the pipeline's next batch, so a note right after it reads the step log),
    else the person's owner traits. Enrollment id → the owner's traits that are set."""
    found: dict[int, dict[str, str]] = {}
    by_person: dict[int, list[Position]] = {}
    for row in group:
        by_person.setdefault(row.person_id, []).append(row)
    for ids in chunks(set(by_person)):
        for pid, traits in run.session.execute(
            select(Person.id, Person.traits).where(Person.id.in_(ids))
        ):
            mine = {k: str(v).strip() for k in OWNER_TRAITS if (v := (traits or {}).get(k))}
            for row in by_person.get(pid, []):
                found[row.id] = {k: v for k, v in mine.items() if v}
    chosen: dict[int, dict[str, str]] = {}
    for ids in chunks({r.id for r in group}):
        for eid, detail in run.session.execute(
            select(StepLog.enrollment_id, StepLog.detail)
            .where(StepLog.enrollment_id.in_(ids), StepLog.kind == ASSIGNED)
            .order_by(StepLog.id)
        ):
            chosen[eid] = dict((detail or {}).get("owner") or {})
    for entry in run.entries:  # this run's, not written yet
        if entry["kind"] == ASSIGNED and entry["enrollment_id"] in found:
            chosen[entry["enrollment_id"]] = dict(entry["detail"].get("owner") or {})
    for eid, owner in chosen.items():
        if eid in found:
            found[eid] = {k: str(v) for k, v in owner.items() if v}
    return found


def _notify(run: StepRun, group: list[Position]) -> int:
    """A note about the person to workspace users, through the outbox: to the person's owner
    (email to ``owner_email``, WeCom to ``owner_wecom_userid``), the users of a role or one
    user (email). Each message names the enrollment, step and user in its key. The template
    must be transactional: the lead's consent, caps and quiet hours are not the colleague's.
    Nobody to note → logged ``skipped`` (``no_owner``, ``no_users``) and the journey goes on."""
    step, journey = run.step, run.journey
    assert step.channel is not None and step.template is not None
    detail: dict[str, Any] = {"channel": step.channel, "template": step.template}
    purpose = run.session.scalar(
        select(MessageTemplate.purpose).where(
            owned(MessageTemplate, run.workspace_id), MessageTemplate.key == step.template
        )
    )
    if purpose == Purpose.MARKETING.value:
        for row in group:
            run.log(row, "notify", {**detail, "skipped": "marketing_template"})
            run.go(row, step.next)
        return 0
    # Enrollment id → [(key suffix, user name, variables)].
    targets: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    if step.to == "owner":
        owners = owners_of(run, group)
        field = "owner_email" if step.channel == "email" else "owner_wecom_userid"
        address = "notify_email" if step.channel == "email" else "wecom_userid"
        for row in group:
            owner = owners.get(row.id, {})
            if owner.get(field):
                variables = {address: owner[field], "to_name": owner.get("owner")}
                targets[row.id] = [("", variables)]
    else:
        users = _users(run.session, run, step.notify_role, step.notify_user)
        for row in group:
            targets[row.id] = [
                (f":u{uid}", {"notify_email": email, "to_name": name}) for uid, email, name in users
            ]
    sends: list[QueuedSend] = []
    keys: dict[int, list[str]] = {}
    for row in group:
        for suffix, variables in targets.get(row.id, []):
            key = message_key(journey, step, row) + suffix
            keys.setdefault(row.id, []).append(key)
            sends.append(
                QueuedSend(
                    row.person_id,
                    step.channel,
                    step.template,
                    key,
                    f"journey:{journey.key}:{row.version}:{step.id}",
                    {"journey": journey.key, "step": step.id, **variables},
                )
            )
    try:
        message_ids = enqueue_many(run.session, run.workspace_id, sends)
    except LeadpondError as exc:
        message_ids = {}
        detail |= {"skipped": "no_template", "error": exc.message}
        keys = {}
    nobody = "no_owner" if step.to == "owner" else "no_users"
    for row in group:
        mine = keys.get(row.id, [])
        if not mine:
            run.log(row, "notify", {"skipped": nobody, **detail})
        for key in mine:
            run.log(row, "notify", detail, message_id=message_ids.get(key))
        run.go(row, step.next)
    return len(message_ids)


def _users(
    session: Session, run: StepRun, role: str | None, email: str | None
) -> list[tuple[int, str, str]]:
    """The workspace's users (not disabled) of a role, or the one with this email:
    (user id, email, name), by id."""
    stmt = (
        select(ConsoleUser.id, ConsoleUser.email, ConsoleUser.name)
        .join(Membership, Membership.user_id == ConsoleUser.id)
        .where(owned(Membership, run.workspace_id), ConsoleUser.disabled_at.is_(None))
        .order_by(ConsoleUser.id)
    )
    if role is not None:
        stmt = stmt.where(Membership.role == role)
    else:
        stmt = stmt.where(ConsoleUser.email == email)
    return [(uid, mail, name) for uid, mail, name in session.execute(stmt)]


def _assign_owner(run: StepRun, group: list[Position]) -> int:
    """Give each person an owner — the round robin's next user, or their primary account's
    owner (the account's ``owner`` traits) — written as traits (``owner``, ``owner_email``,
    ``owner_wecom_userid``) by an ``identify`` in the event log, as ``set_trait`` does, and in
    the step log (a note later in the journey reads it there). The round robin goes on from
    how many the step assigned before (its step log), in enrollment order. People who have an
    owner keep theirs (``keep_existing``)."""
    step = run.step
    current = owners_of(run, group) if step.keep_existing else {}
    kept = [r for r in group if current.get(r.id, {}).get("owner")]
    for row in kept:
        run.log(row, "owner_kept", {"owner": current[row.id]})
        run.go(row, step.next)
    rest = sorted((r for r in group if r not in kept), key=lambda r: r.id)
    if not rest:
        return 0
    chosen: dict[int, dict[str, str]] = {}
    why = "no_users"
    if step.from_account:
        why = "no_account_owner"
        by_person = _account_owners(run, {r.person_id for r in rest})
        chosen = {r.id: by_person[r.person_id] for r in rest if r.person_id in by_person}
    else:
        users = _round_robin(run)
        if users:
            start = _assigned_before(run)
            for n, row in enumerate(rest):
                chosen[row.id] = users[(start + n) % len(users)]
    events = []
    for row in rest:
        owner = chosen.get(row.id)
        if owner is None:
            run.log(row, ASSIGNED, {"skipped": why})
        else:
            run.log(row, ASSIGNED, {"owner": owner})
            events.append(action_event(run, row, {"set_trait": owner}))
        run.go(row, step.next)
    write_action_events(run, events)
    return 0


def _round_robin(run: StepRun) -> list[dict[str, str]]:
    """The round robin's users who are users of the workspace, in the listed order."""
    emails = [email for email, _ in run.step.owners]
    found = {
        mail.lower(): name
        for mail, name in run.session.execute(
            select(ConsoleUser.email, ConsoleUser.name)
            .join(Membership, Membership.user_id == ConsoleUser.id)
            .where(
                owned(Membership, run.workspace_id),
                ConsoleUser.disabled_at.is_(None),
                ConsoleUser.email.in_(emails),
            )
        )
    }
    users = []
    for email, wecom in run.step.owners:
        if email in found:
            owner = {"owner": found[email], "owner_email": email}
            users.append(owner | ({"owner_wecom_userid": wecom} if wecom else {}))
    return users


def _assigned_before(run: StepRun) -> int:
    """How many owners this step of this journey assigned so far (where the round robin is)."""
    done = len([e for e in run.entries if e["kind"] == ASSIGNED and e["step"] == run.step.id])
    stored = run.session.scalar(
        select(func.count())
        .select_from(StepLog)
        .join(Enrollment, Enrollment.id == StepLog.enrollment_id)
        .where(
            owned(Enrollment, run.workspace_id),
            Enrollment.journey_key == run.journey.key,
            StepLog.step == run.step.id,
            StepLog.kind == ASSIGNED,
        )
    )
    return done + (stored or 0)


def _account_owners(run: StepRun, people: set[int]) -> dict[int, dict[str, str]]:
    """Each person's primary account's owner (its traits ``owner``, ``owner_email``,
    ``owner_wecom_userid``), for people whose account has one."""
    found: dict[int, dict[str, str]] = {}
    for ids in chunks(people):
        for pid, traits in run.session.execute(
            select(PersonAccount.person_id, Account.traits)
            .join(Account, Account.id == PersonAccount.account_id)
            .where(
                owned(PersonAccount, run.workspace_id),
                PersonAccount.person_id.in_(ids),
                PersonAccount.is_primary.is_(True),
            )
        ):
            owner = {k: str(v).strip() for k in OWNER_TRAITS if (v := (traits or {}).get(k))}
            if owner.get("owner"):
                found[pid] = owner
    return found


def _enroll(run: StepRun, group: list[Position]) -> int:
    """Enroll the people in another journey of the current playbook, as its trigger would
    (its re-entry rule, entry condition and limits apply); the engine runs their first steps
    in this same run."""
    step = run.step
    assert step.target is not None
    found = journeys_of(run.session, run.workspace_id)
    target = found[1].get(step.target) if found is not None else None
    if found is None or target is None:
        for row in group:
            run.log(row, "enroll", {"journey": step.target, "skipped": "no_journey"})
            run.go(row, step.next)
        return 0
    reason = f"journey {run.journey.key} step {step.id}"
    candidates = [Candidate(r.person_id, reason, run.now) for r in group]
    report = enroll(run.session, run.workspace_id, found[0], target, candidates, run.now)
    entered: dict[int, int] = {}
    for ids in chunks(set(report.enrolled)):
        entered.update(
            (pid, eid)
            for eid, pid in run.session.execute(
                select(Enrollment.id, Enrollment.person_id).where(Enrollment.id.in_(ids))
            )
        )
    for row in group:
        eid = entered.get(row.person_id)
        detail: dict[str, Any] = {"journey": step.target, "enrolled": eid is not None}
        if eid is not None:
            detail["enrollment_id"] = eid
        run.log(row, "enroll", detail)
        run.go(row, step.next)
    run.spawned.extend(report.enrolled)
    return 0


ACTION_KINDS: dict[str, StepKind] = {
    "notify": _notify,
    "assign_owner": _assign_owner,
    "enroll": _enroll,
}
