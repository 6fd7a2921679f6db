"""The templates the default playbook's journeys use (S1's trial flow, S4's hand-off note),
made in the demo workspace so its journeys have something to queue. The demo configures no
channel: the deliverer skips these messages as ``not_configured`` and they stay in the outbox
with that reason — nothing leaves the machine."""

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from leadpond.channels.models import MessageTemplate
from leadpond.channels.schemas import TemplateCreate
from leadpond.channels.service import create_template, templates

_LEAD = (
    "**{{ person.traits.name | default('(未留姓名)') }}**"
    " · {{ person.traits.company | default(account.name) | default('') }}"
    " · {{ person.traits.title | default('') }}\n"
    "> 手机: {{ person.traits.phone | default('') }}\n"
    "> 邮箱: {{ person.traits.email | default('') }}\n"
    "{% if read %}> 最近阅读: {{ read | join('、') }}\n{% endif %}"
)

JOURNEY_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "key": "trial-owner-note",
        "name": {"zh": "试用申请：通知负责人", "en": "Trial request: note to the owner"},
        "channel": "wecom",
        "purpose": "transactional",
        "body": json.dumps(
            {"msgtype": "markdown", "content": "新的试用申请,请尽快跟进\n" + _LEAD},
            ensure_ascii=False,
        ),
    },
    {
        "key": "trial-received-sms",
        "name": {"zh": "试用申请确认短信", "en": "Trial request received (SMS)"},
        "channel": "sms",
        "purpose": "transactional",
        "provider_template": "SMS_TRIAL_RECEIVED",
        "body": json.dumps(
            {"name": "{{ person.traits.name | default('您好') }}"}, ensure_ascii=False
        ),
    },
    {
        "key": "trial-welcome-email",
        "name": {"zh": "试用欢迎邮件", "en": "Trial welcome email"},
        "channel": "email",
        "purpose": "marketing",
        "subject": "欢迎试用,{{ person.traits.name | default('') }}",
        "body": (
            "<p>{{ person.traits.name | default('您好') }},欢迎试用我们的产品。</p>"
            "<p>试用期间如有问题,您的专属顾问会联系您。</p>"
            '<p style="font-size:12px"><a href="{{ unsubscribe_url }}">退订</a></p>'
        ),
    },
    {
        # The weekly nurture's next best content (send_content): ``content`` is the item.
        "key": "nurture-content-email",
        "name": {"zh": "内容推荐邮件", "en": "Recommended content email"},
        "channel": "email",
        "purpose": "marketing",
        "subject": "为您推荐: {{ content.title }}",
        "body": (
            "<p>{{ person.traits.name | default('您好') }},这篇内容也许对您有用:</p>"
            '<p><a href="{{ content.url }}">{{ content.title }}</a></p>'
            "<p>{{ content.summary }}</p>"
            '<p style="font-size:12px"><a href="{{ unsubscribe_url }}">退订</a></p>'
        ),
    },
    {
        "key": "mql-owner-note",
        "name": {"zh": "MQL 跟进提醒", "en": "MQL: note to the owner"},
        "channel": "wecom",
        "purpose": "transactional",
        "body": json.dumps(
            {"msgtype": "markdown", "content": "线索达到MQL,请跟进\n" + _LEAD},
            ensure_ascii=False,
        ),
    },
)


def ensure_journey_templates(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """Make whichever of the journey templates the workspace lacks (its own edits stay);
    returns the keys made."""
    have = set(
        session.scalars(
            templates(workspace_id)
            .with_only_columns(MessageTemplate.key)
            .where(MessageTemplate.key.in_([t["key"] for t in JOURNEY_TEMPLATES]))
        )
    )
    made = []
    for template in JOURNEY_TEMPLATES:
        if template["key"] not in have:
            create_template(session, workspace_id, TemplateCreate.model_validate(template))
            made.append(template["key"])
    return made
