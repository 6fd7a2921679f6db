"""WeCom "contact me" codes (联系我 / 渠道活码) per channel, and the customers they bring.

A contact way is made through ``externalcontact/add_contact_way`` with a ``state`` (at most 30
characters, unique in the workspace) that stands for a channel and campaign. When a customer
adds a member through it, WeCom's callback (``change_external_contact`` /
``add_external_contact``) carries the State back: that credits the channel, and the customer's
``external_userid`` joins the identity graph (type ``wecom_external_userid``) as a ``WeCom
Contact Added`` event through the ingest path. ``del_external_contact`` / ``del_follow_user``
are ``WeCom Contact Deleted``. Retries are the same event (the messageId is derived from what
WeCom sent), which the event log skips.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadpond.acquisition import weixin
from leadpond.acquisition.models import WeComContactWay
from leadpond.channels.models import Channel
from leadpond.channels.settings import get_channel
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.errors import Conflict, InvalidInput
from leadpond.kit.pagination import PageQuery
from leadpond.kit.scope import owned

WECOM_SOURCE = "wecom"
STATE_MAX = 30
ADDED, DELETED = "WeCom Contact Added", "WeCom Contact Deleted"
ADD_CHANGES = frozenset({"add_external_contact", "add_half_external_contact"})
DELETE_CHANGES = frozenset({"del_external_contact", "del_follow_user"})


class WeComNotConfigured(InvalidInput):
    code = "wecom_not_configured"


class StateTaken(Conflict):
    code = "state_taken"


@dataclass(frozen=True)
class NewContactWay:
    channel: str
    user_ids: list[str]
    state: str | None
    campaign: str | None
    remark: str | None


def wecom_settings(session: Session, workspace_id: uuid.UUID) -> dict[str, Any]:
    """The WeCom app's settings (the contact ways and the callback need the app provider)."""
    row = get_channel(session, workspace_id, Channel.WECOM)
    if row is None or row.provider != "app" or not row.settings.get("corp_id"):
        raise WeComNotConfigured("set the wecom channel (provider app, with corp_id) first")
    return dict(row.settings)


def _state_taken(session: Session, workspace_id: uuid.UUID, state: str) -> bool:
    stmt = select(WeComContactWay.id).where(
        owned(WeComContactWay, workspace_id), WeComContactWay.state == state
    )
    return session.scalar(stmt) is not None


def prepare_contact_way(
    session: Session, workspace_id: uuid.UUID, new: NewContactWay
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The app's settings and the ``add_contact_way`` body; a state in use is refused."""
    settings = wecom_settings(session, workspace_id)
    state = new.state or f"lp{secrets.token_urlsafe(6)}"
    if len(state) > STATE_MAX:
        raise InvalidInput(f"a state is at most {STATE_MAX} characters", field="state")
    if _state_taken(session, workspace_id, state):
        raise StateTaken(f"the state {state!r} is already used by another contact way")
    body: dict[str, Any] = {
        "type": 1 if len(new.user_ids) == 1 else 2,
        "scene": 2,
        "state": state,
        "user": list(new.user_ids),
        "skip_verify": True,
        **({"remark": new.remark} if new.remark else {}),
    }
    return settings, body


def call_add_contact_way(settings: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Ask WeCom for the code (a 502 ``provider_refused`` names WeCom's errcode)."""
    answer = weixin.add_contact_way(settings, body)
    if not isinstance(answer.get("config_id"), str):
        raise weixin.WeixinRefused("add_contact_way answered without a config_id")
    return answer


def store_contact_way(
    session: Session,
    workspace_id: uuid.UUID,
    new: NewContactWay,
    body: dict[str, Any],
    answer: dict[str, Any],
    actor: str,
    now: datetime,
) -> WeComContactWay:
    """Keep the contact way WeCom made."""
    if _state_taken(session, workspace_id, body["state"]):
        raise StateTaken(f"the state {body['state']!r} is already used by another contact way")
    way = WeComContactWay(
        workspace_id=workspace_id,
        state=body["state"],
        channel=new.channel,
        campaign=new.campaign,
        user_ids=list(new.user_ids),
        config_id=str(answer["config_id"])[:128],
        qr_code=str(answer.get("qr_code") or "")[:1024],
        created_by=actor[:128],
        created_at=now,
    )
    session.add(way)
    session.flush()
    return way


def list_contact_ways(
    session: Session, workspace_id: uuid.UUID, page: PageQuery
) -> list[WeComContactWay]:
    """The workspace's contact ways, newest first."""
    stmt = (
        select(WeComContactWay)
        .where(owned(WeComContactWay, workspace_id))
        .order_by(WeComContactWay.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    )
    return list(session.scalars(stmt))


def contact_changed(
    session: Session, workspace_id: uuid.UUID, corp_id: str, fields: dict[str, Any]
) -> None:
    """A ``change_external_contact`` event: an add credits its State's channel, a delete is
    recorded; other changes are not acquisition's."""

    def text(name: str) -> str:
        value = fields.get(name)
        return value.strip() if isinstance(value, str) else ""

    change, external = text("ChangeType"), text("ExternalUserID")
    if not external or change not in ADD_CHANGES | DELETE_CHANGES:
        return
    created = text("CreateTime")
    at = (
        datetime.fromtimestamp(int(created), UTC).replace(tzinfo=None)
        if created.isdigit()
        else utcnow()
    )
    properties: dict[str, Any] = {
        "external_userid": external,
        "user_id": text("UserID"),
        "change_type": change,
    }
    campaign: dict[str, Any] | None = None
    way: WeComContactWay | None = None
    state = text("State")
    if change in ADD_CHANGES:
        way = (
            session.scalar(
                select(WeComContactWay).where(
                    owned(WeComContactWay, workspace_id), WeComContactWay.state == state
                )
            )
            if state
            else None
        )
        channel = way.channel if way else (state or WECOM_SOURCE)
        properties.update(
            state=state or None, channel=channel, campaign=way.campaign if way else None
        )
        campaign = {
            "source": WECOM_SOURCE,
            "medium": "contact_way",
            **({"name": way.campaign} if way and way.campaign else {}),
            **({"content": state} if state else {}),
        }
    now = utcnow()
    raw: dict[str, Any] = {
        "type": "track",
        "event": ADDED if change in ADD_CHANGES else DELETED,
        "anonymousId": f"wecom:{external}",
        "messageId": f"wecom-{corp_id}-{external}-{text('UserID')}-{created}-{change}"[:200],
        "timestamp": isoformat(at),
        "properties": properties,
        "context": {
            "externalIds": [
                {
                    "id": external,
                    "type": "wecom_external_userid",
                    "collection": "users",
                    "encoding": "none",
                }
            ],
            **({"campaign": campaign} if campaign else {}),
        },
    }
    new = append_events(
        session, workspace_id, [normalise(raw, received_at=now)], now, source=WECOM_SOURCE
    )
    if new and way is not None:
        session.execute(
            update(WeComContactWay)
            .where(WeComContactWay.id == way.id)
            .values(adds=WeComContactWay.adds + 1)
        )
