"""The post-event report for sales, per account: who registered and who came, their roles in
the buying committee, booths and sessions, content taken, the engagement change, a next step;
as JSON, an XLSX workbook, and a note to each account's owner through the outbox."""

import io
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import openpyxl
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.accounts.service import role_table
from leadpond.channels import outbox
from leadpond.channels.service import get_template
from leadpond.engage import events as ev
from leadpond.engage.events_attendance import registrations_of
from leadpond.engage.events_checkin import ENTRANCE, points_of
from leadpond.engage.events_models import Attendance, MarketingEvent
from leadpond.engage.events_registration import people_of
from leadpond.engage.forms_submit import SUBMITTED
from leadpond.ingest.models import Event
from leadpond.kit.errors import InvalidInput
from leadpond.kit.scope import owned
from leadpond.normalise.roles import infer_role
from leadpond.rules.models import ScoreLedger
from leadpond.users.models import ConsoleUser, Membership

CONTENT_EVENTS = ("Content Viewed", "Whitepaper Downloaded")
FOLLOW_UP_DAYS = 7  # content taken within a week of the end counts as the event's
SCORE_MODEL = "engagement"
DECIDERS = ("executive", "department_head")
# An account's owner, as its traits (the name, the email notes go to, the WeCom user id).
OWNER_TRAITS = ("owner", "owner_email", "owner_wecom_userid")


@dataclass
class AttendeeLine:
    registration_id: int
    person_id: int | None
    name: str
    title: str
    role: str | None
    status: str
    attendance: str
    came: bool
    booths: list[str] = field(default_factory=list)
    product_lines: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    watch_minutes: int | None = None
    surveys: list[str] = field(default_factory=list)


@dataclass
class AccountLine:
    account_id: int | None
    account: str
    owner: str | None
    registered: int = 0
    came: int = 0
    score_before: float = 0.0
    score_after: float = 0.0
    interests: list[str] = field(default_factory=list)
    next_step: str = ""
    attendees: list[AttendeeLine] = field(default_factory=list)

    @property
    def score_change(self) -> float:
        return round(self.score_after - self.score_before, 2)


def _scores(
    session: Session, workspace_id: uuid.UUID, since: dict[int, datetime]
) -> tuple[dict[int, float], dict[int, float]]:
    """Each person's engagement before they registered (``since``) and now."""
    if not since:
        return {}, {}
    rows = session.execute(
        select(ScoreLedger.person_id, ScoreLedger.points, ScoreLedger.at).where(
            owned(ScoreLedger, workspace_id),
            ScoreLedger.model == SCORE_MODEL,
            ScoreLedger.person_id.in_(since),
        )
    )
    earlier: dict[int, float] = {}
    now: dict[int, float] = {}
    for person_id, points, at in rows.tuples():
        now[person_id] = now.get(person_id, 0.0) + points
        if at < since[person_id]:
            earlier[person_id] = earlier.get(person_id, 0.0) + points
    return earlier, now


def _content(session: Session, event: MarketingEvent, people: set[int]) -> dict[int, list[str]]:
    taken: dict[int, list[str]] = {}
    if not people:
        return taken
    rows = session.execute(
        select(Event.person_id, Event.payload)
        .where(
            owned(Event, event.workspace_id),
            Event.person_id.in_(people),
            Event.event.in_(CONTENT_EVENTS),
            Event.timestamp >= event.starts_at,
            Event.timestamp <= event.ends_at + timedelta(days=FOLLOW_UP_DAYS),
        )
        .order_by(Event.timestamp)
    )
    for person_id, payload in rows:
        title = str((payload.get("properties") or {}).get("title") or "")
        titles = taken.setdefault(person_id, [])
        if title and title not in titles:
            titles.append(title)
    return taken


def _surveys(session: Session, event: MarketingEvent, people: set[int]) -> dict[int, list[str]]:
    """The event's surveys (form keys) each person answered: their ``Form Submitted`` with
    the event's id and one of its survey forms."""
    answered: dict[int, list[str]] = {}
    if not people or not event.surveys:
        return answered
    rows = session.execute(
        select(Event.person_id, Event.payload)
        .where(
            owned(Event, event.workspace_id),
            Event.person_id.in_(people),
            Event.event == SUBMITTED,
        )
        .order_by(Event.timestamp)
    )
    for person_id, payload in rows:
        properties = payload.get("properties") or {}
        form_key = properties.get("form_id")
        if properties.get("event_id") != event.key or form_key not in event.surveys:
            continue
        keys = answered.setdefault(person_id, [])
        if form_key not in keys:
            keys.append(str(form_key))
    return answered


NEXT_STEPS: dict[str, tuple[str, str]] = {
    "send_replay": (
        "未到场：发送会议回放与资料，电话确认需求",
        "Nobody came: send the replay and materials, call to confirm the need",
    ),
    "book_demo": (
        "决策人到场并关注{lines}：一周内预约方案演示",
        "A decision-maker came, interested in {lines}: book a solution demo within a week",
    ),
    "send_cases": (
        "关注{lines}：发送相关案例，约技术交流",
        "Interested in {lines}: send matching cases, set up a technical session",
    ),
    "send_materials": (
        "已到场：发送会议资料，邀请参加下次活动",
        "They came: send the materials, invite them to the next event",
    ),
}


def next_step(line: AccountLine) -> str:
    """What sales should do next, from who came and what they looked at (a NEXT_STEPS code)."""
    deciders = [a for a in line.attendees if a.came and a.role in DECIDERS]
    if line.came == 0:
        return "send_replay"
    if deciders and line.interests:
        return "book_demo"
    if line.interests:
        return "send_cases"
    return "send_materials"


def next_step_text(line: AccountLine, lang: str, name_of: Callable[[str], str] = str) -> str:
    """The next step in words (``zh`` or ``en``), the product lines named by ``name_of``."""
    zh, en = NEXT_STEPS[line.next_step]
    return (zh if lang == "zh" else en).format(lines=", ".join(map(name_of, line.interests)))


def accounts_report(session: Session, event: MarketingEvent) -> list[AccountLine]:
    """One line per account that registered (registrations with no known account are grouped
    by the company they typed), the accounts with most attendees first."""
    ws = event.workspace_id
    registrations = registrations_of(session, event)
    people = people_of(session, ws, registrations)
    checkins = points_of(session, [r.id for r in registrations])
    person_ids = set(people.values())
    links = {
        pa.person_id: (pa, account)
        for pa, account in session.execute(
            select(PersonAccount, Account)
            .join(Account, PersonAccount.account_id == Account.id)
            .where(owned(PersonAccount, ws), PersonAccount.person_id.in_(person_ids))
            .order_by(PersonAccount.is_primary, PersonAccount.id)
        ).tuples()
    }
    since: dict[int, datetime] = {}
    for registration in registrations:
        person = people.get(registration.id)
        if person is not None:
            # The registration's events carry its time to the millisecond.
            at = registration.created_at.replace(
                microsecond=registration.created_at.microsecond // 1000 * 1000
            )
            since[person] = min(since.get(person, at), at)
    before, after = _scores(session, ws, since)
    content = _content(session, event, person_ids)
    surveys = _surveys(session, event, person_ids)
    booths = {b["key"]: b for b in event.booths}
    sessions = {s["key"]: s for s in event.sessions}
    table = role_table(session, ws)
    lines: dict[tuple[int | None, str], AccountLine] = {}
    for registration in registrations:
        person = people.get(registration.id)
        link = links.get(person) if person is not None else None
        if link is not None:
            pa, account = link
            key: tuple[int | None, str] = (account.id, account.name)
            owner = account.traits.get("owner") or account.traits.get("owner_wecom_userid")
            role = pa.role or infer_role(registration.title or pa.title, table)
            title = registration.title or pa.title or ""
        else:
            key, owner = (None, registration.company or "—"), None
            role, title = infer_role(registration.title, table), registration.title or ""
        line = lines.setdefault(key, AccountLine(key[0], key[1], str(owner) if owner else None))
        seen = checkins.get(registration.id, [])
        came = registration.attendance in (Attendance.CHECKED_IN, Attendance.ATTENDED)
        attendee = AttendeeLine(
            registration.id,
            person,
            registration.name or "",
            title,
            role,
            registration.status,
            registration.attendance,
            came,
            watch_minutes=registration.watch_minutes,
        )
        for checkin in seen:
            kind, _, point_key = checkin.point.partition(":")
            if kind == "booth" and point_key in booths:
                attendee.booths.append(str(booths[point_key].get("name", point_key)))
                attendee.product_lines.append(str(booths[point_key].get("product_line", "")))
            elif kind == "session" and point_key in sessions:
                attendee.sessions.append(str(sessions[point_key].get("title", point_key)))
        attendee.content = content.get(person, []) if person is not None else []
        attendee.surveys = surveys.get(person, []) if person is not None else []
        line.attendees.append(attendee)
        line.registered += 1
        line.came += int(came or any(c.point != ENTRANCE for c in seen))
        if person is not None and all(a.person_id != person for a in line.attendees[:-1]):
            line.score_before += before.get(person, 0.0)
            line.score_after += after.get(person, 0.0)
        for product_line in attendee.product_lines:
            if product_line and product_line not in line.interests:
                line.interests.append(product_line)
    for line in lines.values():
        line.next_step = next_step(line)
    return sorted(lines.values(), key=lambda x: (-x.came, -x.registered, x.account))


def as_dict(line: AccountLine) -> dict[str, Any]:
    words = {"zh": next_step_text(line, "zh"), "en": next_step_text(line, "en")}
    return asdict(line) | {"score_change": line.score_change, "next_step_text": words}


XLSX_COLUMNS = (
    "账户 Account",
    "负责人 Owner",
    "姓名 Name",
    "职位 Title",
    "角色 Role",
    "报名状态 Status",
    "到场 Came",
    "展台 Booths",
    "分论坛 Sessions",
    "内容 Content",
    "调研 Surveys",
    "观看分钟 Watch minutes",
    "活跃度变化 Engagement change",
    "下一步 Next step",
)


def as_xlsx(event: MarketingEvent, lines: list[AccountLine]) -> bytes:
    """The report as a workbook: one row per attendee, their account's figures beside them."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = event.key[:31]
    sheet.append(list(XLSX_COLUMNS))
    for line in lines:
        for a in line.attendees:
            sheet.append(
                [
                    line.account,
                    line.owner or "",
                    a.name,
                    a.title,
                    a.role or "",
                    a.status,
                    "是 yes" if a.came else "否 no",
                    "、".join(a.booths),
                    "、".join(a.sessions),
                    "、".join(a.content),
                    "、".join(a.surveys),
                    a.watch_minutes if a.watch_minutes is not None else "",
                    line.score_change,
                    f"{next_step_text(line, 'zh')} / {next_step_text(line, 'en')}",
                ]
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def owner_contacts(
    session: Session, workspace_id: uuid.UUID, account_ids: set[int]
) -> dict[int, dict[str, str]]:
    """Each account's owner as its traits say (``owner``, ``owner_email``,
    ``owner_wecom_userid``, as a CRM sync writes them); without ``owner_email``, the email of
    the workspace's user whose name or email is the ``owner``."""
    found: dict[int, dict[str, str]] = {}
    if not account_ids:
        return found
    for account_id, traits in session.execute(
        select(Account.id, Account.traits).where(
            owned(Account, workspace_id), Account.id.in_(account_ids)
        )
    ):
        found[account_id] = {
            k: str(v).strip() for k in OWNER_TRAITS if (v := (traits or {}).get(k))
        }
    names = {o["owner"] for o in found.values() if o.get("owner") and not o.get("owner_email")}
    if names:
        users: dict[str, str] = {}
        for email, name in session.execute(
            select(ConsoleUser.email, ConsoleUser.name)
            .join(Membership, Membership.user_id == ConsoleUser.id)
            .where(
                owned(Membership, workspace_id),
                ConsoleUser.disabled_at.is_(None),
                or_(ConsoleUser.name.in_(names), ConsoleUser.email.in_(names)),
            )
            .order_by(ConsoleUser.id)
        ):
            users.setdefault(name, email)
            users.setdefault(email, email)
        for owner in found.values():
            if not owner.get("owner_email") and owner.get("owner") in users:
                owner["owner_email"] = users[owner["owner"]]
    return found


def notify_owners(
    session: Session,
    event: MarketingEvent,
    template_key: str | None,
    email_template_key: str | None = None,
) -> tuple[int, list[str]]:
    """A note per account to its owner, once per event and account, ever: by WeCom (or
    webhook) with ``template_key`` to the owner's WeCom user id (``owner_wecom_userid``); an
    owner without one gets it by email with ``email_template_key`` (a transactional email
    template) at their email (``owner_email``, or the workspace user who owns the account).
    Returns how many were queued and the accounts no note could go to."""
    template = get_template(session, event.workspace_id, template_key) if template_key else None
    if template is not None and template.channel not in ("wecom", "webhook"):
        raise InvalidInput("the owner's note goes by WeCom or webhook", field="template")
    email = (
        get_template(session, event.workspace_id, email_template_key)
        if email_template_key
        else None
    )
    if email is not None and email.channel != "email":
        raise InvalidInput("the owner's email note needs an email template", field="email_template")
    if template is None and email is None:
        raise InvalidInput("name a WeCom or an email template", field="template")
    lines = [line for line in accounts_report(session, event) if line.account_id is not None]
    owners = owner_contacts(
        session, event.workspace_id, {int(line.account_id or 0) for line in lines}
    )
    queued, without = 0, []
    for line in lines:
        owner = owners.get(int(line.account_id or 0), {})
        variables: dict[str, Any] = {
            "event": {"name": event.name_zh, "url": ev.site_url(event)},
            "report": as_dict(line),
            "owner": owner.get("owner", ""),
        }
        if template is not None and owner.get("owner_wecom_userid"):
            chosen = template
            variables["wecom_userid"] = owner["owner_wecom_userid"]
        elif email is not None and owner.get("owner_email"):
            chosen = email
            variables["notify_email"] = owner["owner_email"]
            variables["to_name"] = owner.get("owner", "")
        else:
            without.append(line.account)
            continue
        outbox.enqueue(
            session,
            event.workspace_id,
            {
                "channel": chosen.channel,
                "purpose": "transactional",
                "template_id": chosen.id,
                "idempotency_key": f"event-report:{event.id}:{line.account_id}",
                "origin": f"event:{event.id}:report",
                "variables": variables,
            },
        )
        queued += 1
    return queued, without
