"""Followers' unionid: the official account's callback carries only the openid, so on a follow
(and on a scan by a follower whose person has no unionid yet) a job asks WeChat's
``cgi-bin/user/info`` for the follower's ``unionid`` and joins it to the person through the
ingest path — an identify of the openid with both ids as ``context.externalIds``, as the
callback's own events carry the openid.

The job is queued in the callback's transaction and runs after it commits, so no write lock is
held while WeChat is asked. The unionid exists only when the account is bound to an Open
Platform account; WeChat's refusals (an unverified account has no ``user/info``: 48001) end the
job with the refusal recorded, while a busy or unreachable WeChat fails it to be tried again.
"""

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from leadpond.acquisition import weixin
from leadpond.channels.models import Channel
from leadpond.channels.settings import get_channel
from leadpond.channels.wechat_callback import Account
from leadpond.db.engine import read_only, unit_of_work
from leadpond.identity.models import Identifier
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import normalise
from leadpond.jobs.registry import JobContext
from leadpond.jobs.service import enqueue
from leadpond.kit.clock import isoformat, utcnow
from leadpond.kit.scope import owned

FETCH_UNIONID = "acquisition.wechat_unionid"
SOURCE = "wechat"


def queue_fetch(session: Session, account: Account, openid: str, at: str) -> None:
    """Queue the follower's ``user/info`` in the caller's transaction (a WeChat retry of the
    same event, ``at`` its CreateTime, queues nothing more)."""
    enqueue(
        session,
        FETCH_UNIONID,
        f"unionid:{account.app_id}:{openid}:{at}"[:200],
        {"app_id": account.app_id, "openid": openid},
        workspace_id=account.workspace_id,
        max_attempts=5,
    )


def has_unionid(session: Session, account: Account, openid: str) -> bool:
    """Whether the person holding this openid already holds a unionid."""
    unionid = aliased(Identifier)
    return bool(
        session.scalar(
            select(
                exists().where(
                    owned(Identifier, account.workspace_id),
                    Identifier.type == "wechat_openid",
                    Identifier.value == f"{account.app_id}:{openid}",
                    exists().where(
                        unionid.workspace_id == Identifier.workspace_id,
                        unionid.person_id == Identifier.person_id,
                        unionid.type == "wechat_unionid",
                    ),
                )
            )
        )
    )


def fetch_unionid_task(ctx: JobContext) -> dict[str, Any]:
    """Ask WeChat for one follower's unionid and join it to them."""
    app_id, openid = str(ctx.payload["app_id"]), str(ctx.payload["openid"])
    with read_only(ctx.url) as session:
        row = get_channel(session, ctx.workspace_id, Channel.WECHAT)
        settings = dict(row.settings) if row is not None else {}
    if settings.get("app_id") != app_id or not settings.get("app_secret"):
        return {"skipped": "the workspace's official account is no longer this one"}
    try:
        info = weixin.user_info(settings, openid)
    except weixin.WeixinBusy:
        raise
    except weixin.WeixinRefused as exc:
        return {"refused": exc.message}
    unionid = info.get("unionid")
    if not isinstance(unionid, str) or not unionid:
        return {"unionid": None, "subscribed": info.get("subscribe") == 1}
    now = utcnow()
    raw = {
        "type": "identify",
        "anonymousId": openid,
        # One message per follower and unionid: fetching again adds nothing to the log.
        "messageId": f"wechat-{app_id}-unionid-{openid}-{unionid}"[:200],
        "timestamp": isoformat(now),
        "traits": {},
        "context": {
            "wechat": {"appId": app_id},
            "externalIds": [
                {"id": openid, "type": "wechat_openid", "collection": "users", "encoding": "none"},
                {
                    "id": unionid,
                    "type": "wechat_unionid",
                    "collection": "users",
                    "encoding": "none",
                },
            ],
        },
    }
    with unit_of_work(ctx.url) as session:
        added = append_events(
            session, ctx.workspace_id, [normalise(raw, received_at=now)], now, source=SOURCE
        )
    return {"unionid": unionid, "recorded": added > 0}
