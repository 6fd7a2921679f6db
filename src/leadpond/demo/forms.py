"""The demo workspace's forms: the trial and demo requests (S1) and the white-paper gate.

Their keys are the ``form_id`` the demo world's Form Submitted events carry (``trial``,
``demo``, ``whitepaper_gate``: see ``demo/journey.py`` and ``demo/conversion.py``), and their
fields fill the same traits the world's form posts do. The trial and demo forms send the
``Trial Requested`` / ``Demo Requested`` events the default playbook's journey and key events
react to, with the ``product`` (and ``edition``) the world's own requests carry.
"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.demo.catalog import LINE_LABELS
from leadpond.engage.forms import create_form
from leadpond.engage.forms_schemas import FormCreate
from leadpond.engage.models import Form
from leadpond.kit.scope import owned

_EN_LINES = {
    "graph_database": "Graph database",
    "realtime_warehouse": "Real-time warehouse",
    "data_platform": "Data platform",
    "ai_assistant": "AI knowledge assistant",
}
_PRODUCT = {
    "key": "product",
    "type": "select",
    "label_zh": "感兴趣的产品",
    "label_en": "Product",
    "required": True,
    "options": [
        {"value": line, "label_zh": label, "label_en": _EN_LINES[line]}
        for line, label in LINE_LABELS.items()
    ],
}
_HIDDEN = [
    {"key": name, "type": "hidden"}
    for name in ("utm_source", "utm_medium", "utm_campaign", "channel", "content")
]


def _field(key: str, kind: str, zh: str, en: str, required: bool = False) -> dict[str, Any]:
    return {"key": key, "type": kind, "label_zh": zh, "label_en": en, "required": required}


_CONTACT = [
    _field("name", "text", "姓名", "Name", True) | {"maps_to": "name"},
    _field("phone", "mobile", "手机号码", "Mobile", True),
    _field("email", "email", "工作邮箱", "Work email", True),
    _field("company", "company", "公司名称", "Company", True),
    _field("title", "title", "职位", "Job title"),
    _field("industry", "industry", "所属行业", "Industry"),
]
_EMAIL_CONSENT = {
    "key": "email_news",
    "channel": "email",
    "wording_zh": "我同意接收图灵数智的产品资讯与活动邀请邮件，可随时退订。",
    "wording_en": "Send me product news and event invitations by email; I can unsubscribe "
    "at any time.",
}
_SMS_CONSENT = {
    "key": "sms_notice",
    "channel": "sms",
    "wording_zh": "我同意通过短信接收试用进度通知。",
    "wording_en": "Text me about my trial.",
}

DEMO_FORMS: tuple[dict[str, Any], ...] = (
    {
        "key": "trial",
        "name_zh": "申请免费试用",
        "name_en": "Start a free trial",
        "intro_zh": "填写信息，顾问将在一个工作日内为您开通试用环境。",
        "intro_en": "Tell us who you are and an advisor opens your trial within a working day.",
        "fields": [
            *_CONTACT,
            _PRODUCT,
            {
                "key": "edition",
                "type": "select",
                "label_zh": "版本",
                "label_en": "Edition",
                "options": [
                    {"value": "community", "label_zh": "社区版", "label_en": "Community"},
                    {"value": "enterprise", "label_zh": "企业版", "label_en": "Enterprise"},
                ],
            },
            *_HIDDEN,
        ],
        "consents": [_EMAIL_CONSENT, _SMS_CONSENT],
        "success_zh": "试用申请已收到！我们已通过短信通知您，顾问会尽快联系您。",
        "success_en": "Your trial request is in. An advisor will be in touch shortly.",
        "conversion_event": "Trial Requested",
    },
    {
        "key": "demo",
        "name_zh": "预约产品演示",
        "name_en": "Book a demo",
        "fields": [*_CONTACT, _PRODUCT, *_HIDDEN],
        "consents": [_EMAIL_CONSENT],
        "success_zh": "演示预约已收到，我们会与您确认时间。",
        "success_en": "Thanks! We will confirm a time with you.",
        "conversion_event": "Demo Requested",
    },
    {
        "key": "whitepaper_gate",
        "name_zh": "下载白皮书",
        "name_en": "Download the white paper",
        "fields": [
            _CONTACT[0],
            _CONTACT[2],
            _CONTACT[3],
            _CONTACT[4],
            _CONTACT[1] | {"required": False},
            _CONTACT[5],
            *_HIDDEN,
        ],
        "consents": [_EMAIL_CONSENT],
        # Known readers are asked three things they have not told yet, strangers the first three.
        "progressive_max": 3,
        "success_zh": "感谢下载！白皮书链接已发送至您的邮箱。",
        "success_en": "Thanks! The white paper is on its way to your inbox.",
    },
)


def ensure_demo_forms(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """Make whichever demo forms the workspace lacks, published (its own edits stay)."""
    have = set(session.scalars(select(Form.key).where(owned(Form, workspace_id))))
    made = []
    for document in DEMO_FORMS:
        if document["key"] not in have:
            body = FormCreate.model_validate({"status": "published", **document})
            create_form(session, workspace_id, body, "demo")
            made.append(document["key"])
    return made
