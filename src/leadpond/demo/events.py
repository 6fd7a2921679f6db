"""The demo workspace's events, made through the events service like a marketer's: a
conference with a booth per product line (held two days ago: registrations, badge check-ins,
booth visits, no-shows) and a webinar (last week: its platform's viewer report imported).

The booths' ids follow the generated world's (``<event>-b<n>`` with the product lines of
``catalog.LINE_LABELS``), so its history and these events read alike in the reports.
"""

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.channels.schemas import TemplateCreate
from leadpond.channels.service import create_template, get_template
from leadpond.db.engine import unit_of_work
from leadpond.demo.catalog import LINE_LABELS
from leadpond.engage import events as ev
from leadpond.engage import events_attendance, events_checkin, forms
from leadpond.engage import events_registration as registrations
from leadpond.engage.events_models import MarketingEvent
from leadpond.engage.events_schemas import EventBody
from leadpond.engage.forms_schemas import FormCreate
from leadpond.kit.errors import InvalidInput, LeadpondError
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live

CONFERENCE, WEBINAR = "demo-summit", "demo-webinar"
# The conference registers through a form of the form builder; its key is the form_id of the
# demo world's conference registrations (docs/events.md).
REGISTRATION_FORM = {
    "key": "register_conference",
    "name_zh": "大会报名",
    "name_en": "Conference registration",
    "status": "published",
    "fields": [
        {
            "key": "name",
            "type": "text",
            "label_zh": "姓名",
            "label_en": "Name",
            "maps_to": "name",
            "required": True,
        },
        {
            "key": "mobile",
            "type": "mobile",
            "label_zh": "手机号",
            "label_en": "Mobile",
            "required": True,
        },
        {"key": "email", "type": "email", "label_zh": "邮箱", "label_en": "Email"},
        {
            "key": "company",
            "type": "company",
            "label_zh": "公司",
            "label_en": "Company",
            "required": True,
        },
        {"key": "title", "type": "title", "label_zh": "职位", "label_en": "Job title"},
    ],
}
# The conference's on-site survey (its microsite's survey button).
SURVEY_FORM = {
    "key": "conference_survey",
    "name_zh": "大会现场调研",
    "name_en": "Conference survey",
    "status": "published",
    "submit_zh": "提交",
    "submit_en": "Submit",
    "success_zh": "感谢您的反馈！",
    "success_en": "Thank you for your feedback!",
    "fields": [
        {
            "key": "satisfaction",
            "type": "select",
            "label_zh": "您对本次大会的满意度",
            "label_en": "How satisfied are you with the conference?",
            "required": True,
            "options": [
                {"value": "5", "label_zh": "非常满意", "label_en": "Very satisfied"},
                {"value": "4", "label_zh": "满意", "label_en": "Satisfied"},
                {"value": "3", "label_zh": "一般", "label_en": "Neutral"},
                {"value": "2", "label_zh": "不满意", "label_en": "Dissatisfied"},
            ],
        },
        {
            "key": "next_topic",
            "type": "textarea",
            "label_zh": "下次希望听到的主题",
            "label_en": "What should the next one cover?",
        },
    ],
}
# The accounts report's note to each account's owner: by WeCom to owners with a WeCom user
# id, by email to the others (POST /api/v1/events/{id}/accounts-report:notify).
REPORT_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "key": "event-report-wecom",
        "name": {"zh": "会后报告（企业微信）", "en": "Event report (WeCom)"},
        "channel": "wecom",
        "purpose": "transactional",
        "body": json.dumps(
            {
                "msgtype": "markdown",
                "content": "**{{ event.name }}** · {{ report.account }}\n"
                "> 报名 {{ report.registered }} 人，到场 {{ report.came }} 人\n"
                "> 下一步: {{ report.next_step_text.zh }}",
            },
            ensure_ascii=False,
        ),
    },
    {
        "key": "event-report-email",
        "name": {"zh": "会后报告邮件", "en": "Event report email"},
        "channel": "email",
        "purpose": "transactional",
        "subject": "{{ event.name }}：{{ report.account }} 的会后报告",
        "body": (
            "<p>{{ to_name | default('您好') }}，</p>"
            "<p>{{ report.account }} 报名 {{ report.registered }} 人，"
            "到场 {{ report.came }} 人。</p>"
            "<ul>{% for a in report.attendees %}<li>{{ a.name }} {{ a.title }}"
            "{% if a.came %}（到场）{% endif %}</li>{% endfor %}</ul>"
            "<p>建议下一步：{{ report.next_step_text.zh }}</p>"
            '<p><a href="{{ event.url }}">{{ event.url }}</a></p>'
        ),
    },
)
ATTENDEES = 24


def _key(session: Session, workspace_id: uuid.UUID, key: str) -> str | None:
    """The event key to use, or None when this workspace has the event already. A key taken by
    another workspace gets the workspace's prefix (and its whole id past a clash of prefixes);
    each candidate is looked up, so a second run finds the event it made under a prefix."""
    for candidate in (key, f"{key}-{workspace_id.hex[:6]}", f"{key}-{workspace_id.hex}"):
        found = session.scalar(select(MarketingEvent).where(MarketingEvent.key == candidate))
        if found is None:
            return candidate
        if found.workspace_id == workspace_id:
            return None
    raise RuntimeError(f"no free key for the demo event {key!r}")


def _bodies(now: datetime) -> list[EventBody]:
    start = (now - timedelta(days=2)).replace(hour=1, minute=30, second=0, microsecond=0)
    booths = [
        {
            "key": f"b{i + 1}",
            "name": f"{label}展台",
            "product_line": line,
            "points": 5 + 5 * (i % 2),
        }
        for i, (line, label) in enumerate(LINE_LABELS.items())
    ]
    summit = {
        "key": CONFERENCE,
        "name_zh": "图灵数智年度用户大会",
        "name_en": "Turing Data Annual User Summit",
        "kind": "conference",
        "starts_at": start,
        "ends_at": start + timedelta(hours=8),
        "city": "上海",
        "venue": "上海国际会议中心 5F",
        "topic": "graph_database",
        "capacity": 300,
        "sessions": [
            {
                "key": "keynote",
                "title": "主题演讲：数据智能的下一个十年",
                "forum": "main",
                "starts_at": f"{start:%Y-%m-%d}T09:30:00",
                "speaker": "陈立",
                "speaker_title": "CEO",
            },
            {
                "key": "finance",
                "title": "金融实时风控实践",
                "forum": "金融分论坛",
                "starts_at": f"{start:%Y-%m-%d}T14:00:00",
                "speaker": "周敏",
                "speaker_title": "首席架构师",
            },
            {
                "key": "energy",
                "title": "能源物联网时序数据",
                "forum": "能源分论坛",
                "starts_at": f"{start:%Y-%m-%d}T14:00:00",
                "speaker": "赵岩",
            },
        ],
        "booths": booths,
        "registration_form": REGISTRATION_FORM["key"],
        "surveys": [SURVEY_FORM["key"]],
        "site": {
            "modules": ["agenda", "speakers", "venue", "downloads", "register"],
            "intro": "一年一度的用户大会：产品发布、行业实践与展台体验。",
            "transport": "地铁 2 号线陆家嘴站 1 号口步行 5 分钟",
            "speakers": [{"name": "陈立", "title": "CEO"}, {"name": "周敏", "title": "首席架构师"}],
        },
    }
    webinar_start = (now - timedelta(days=6)).replace(hour=6, minute=0, second=0, microsecond=0)
    webinar = {
        "key": WEBINAR,
        "name_zh": "直播：图数据库实战",
        "name_en": "Live: Graph databases in practice",
        "kind": "webinar",
        "starts_at": webinar_start,
        "ends_at": webinar_start + timedelta(hours=1, minutes=30),
        "city": "线上",
        "topic": "graph_database",
        "live_url": "https://live.example.cn/turing/graph",
        "site": {"modules": ["agenda", "live", "register"]},
    }
    return [EventBody.model_validate(summit), EventBody.model_validate(webinar)]


def _people(session: Session, workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    traits = session.scalars(
        select(Person.traits)
        .where(owned(Person, workspace_id), live(), Person.traits["phone"].as_string().is_not(None))
        .order_by(Person.id)
        .limit(ATTENDEES * 2)
    )
    return [dict(t) for t in traits if t.get("company")][:ATTENDEES]


def _ensure_form(session: Session, workspace_id: uuid.UUID) -> None:
    for form in (REGISTRATION_FORM, SURVEY_FORM):
        try:
            forms.get_form(session, workspace_id, str(form["key"]))
        except LeadpondError:
            forms.create_form(session, workspace_id, FormCreate.model_validate(form), "demo")
    for template in REPORT_TEMPLATES:
        try:
            get_template(session, workspace_id, str(template["key"]))
        except LeadpondError:
            create_template(session, workspace_id, TemplateCreate.model_validate(template))


def ensure_events(workspace_id: uuid.UUID, seed: int = 7) -> list[str]:
    """The demo events (made once per workspace); the keys made now."""
    rng, now = random.Random(seed), datetime.now(UTC).replace(tzinfo=None)
    made: list[str] = []
    with unit_of_work() as session:
        _ensure_form(session, workspace_id)
        people = _people(session, workspace_id)
        for body in _bodies(now):
            key = _key(session, workspace_id, body.key)
            if key is None:
                continue
            event = ev.create_event(
                session, workspace_id, body.model_copy(update={"key": key}), "demo"
            )
            made.append(key)
            if event.kind == "conference":
                _conference(session, event, people, rng)
            else:
                _webinar(session, event, people, rng)
    return made


def _conference(
    session: Session, event: MarketingEvent, people: list[dict[str, Any]], rng: random.Random
) -> None:
    at = event.starts_at - timedelta(days=10)
    for traits in people:
        try:
            attendee = registrations.attendee_from(traits, required=())
        except InvalidInput:
            continue  # a phone typed beyond repair: not an attendee of ours
        registration, _ = registrations.register(
            session, event, attendee, source="web", anonymous_id=None, now=at
        )
        at += timedelta(minutes=rng.randint(20, 600))
        if rng.random() < 0.25:
            continue  # a no-show
        came = event.starts_at + timedelta(minutes=rng.randint(0, 90))
        token = ev.badge_token(session, registration)
        events_checkin.check_in_badge(session, event, token, came)
        for booth in rng.sample(event.booths, rng.randint(0, 2)):
            came += timedelta(minutes=rng.randint(10, 60))
            events_checkin.check_in_point(
                session, event, registration, f"booth:{booth['key']}", came
            )
        if rng.random() < 0.5:
            forum = rng.choice(("finance", "energy"))
            events_checkin.check_in_point(session, event, registration, f"session:{forum}", came)
    events_attendance.mark_no_shows(session, event, event.ends_at + timedelta(hours=1))


def _webinar(
    session: Session, event: MarketingEvent, people: list[dict[str, Any]], rng: random.Random
) -> None:
    report = events_attendance.AttendanceReport()
    for traits in people[: len(people) // 2]:
        minutes = rng.randint(3, 85)
        try:
            events_attendance.record_viewer(
                session, event, dict(traits), minutes, "live", event.ends_at, report
            )
        except InvalidInput:
            continue
