"""A fake WeCom API: gettoken, application message/send and group-robot webhook/send.

Tokens are issued per corp id and secret and can be expired on demand (42001 afterwards).
message/send knows its members (81013 when the one recipient is unknown) and takes queued
errcodes from ``answers``; the robot takes 20 messages a minute (45009 after) and refuses text
over 2048 bytes and markdown over 4096 bytes.
"""

import itertools
import time
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CORP_ID = "ww-test-corp"
CORP_SECRET = "wecom-app-secret"
CONTACT_SECRET = "wecom-contact-secret"
AGENT_ID = 1000002
ROBOT_KEY = "robot-key"
ROBOT_PER_MINUTE = 20
ROBOT_LIMITS = {"text": 2048, "markdown": 4096}


class FakeWeCom:
    """State of the fake: tokens issued, messages delivered, answers to give."""

    def __init__(self, members: tuple[str, ...] = ("zhangsan", "lisi")) -> None:
        self.members = set(members)
        self.token_fetches = 0
        self.valid_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.delivered: list[dict[str, Any]] = []
        self.robot_posts: list[dict[str, Any]] = []
        self.robot_times: list[float] = []
        self.answers: deque[int] = deque()
        self._ids = itertools.count(1)
        self.contact_ways: list[dict[str, Any]] = []
        self.contact_tokens: set[str] = set()
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/gettoken", self.gettoken),
                Route("/cgi-bin/message/send", self.message_send, methods=["POST"]),
                Route("/cgi-bin/webhook/send", self.webhook_send, methods=["POST"]),
                Route(
                    "/cgi-bin/externalcontact/add_contact_way",
                    self.add_contact_way,
                    methods=["POST"],
                ),
            ]
        )

    async def add_contact_way(self, request: Request) -> JSONResponse:
        """As documented: type 1 takes one member, state ≤ 30 characters, scene 2 answers a
        qr_code; an unknown member is 40098 "invalid userid"; only the 客户联系 secret's token
        may call it (48002 otherwise)."""
        token = request.query_params.get("access_token", "")
        if token in self.expired_tokens:
            return _answer(42001, "access_token expired")
        if token not in self.valid_tokens or token not in self.contact_tokens:
            return _answer(48002, "api forbidden: not the contact secret's token")
        body = await request.json()
        users = body.get("user") or []
        if body.get("type") == 1 and len(users) != 1:
            return _answer(40097, "invalid args: type 1 takes one user")
        if any(u not in self.members for u in users):
            return _answer(40098, "invalid userid")
        if len(str(body.get("state") or "")) > 30:
            return _answer(40097, "invalid args: state")
        n = next(self._ids)
        self.contact_ways.append(body)
        answer: dict[str, Any] = {"config_id": f"42b34949e138eb6e027c123cba77f{n:03d}"}
        if body.get("scene") == 2:
            answer["qr_code"] = f"http://p.qpic.cn/wwhead/contact-way-{n}"
        return _answer(0, "ok", **answer)

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001."""
        self.expired_tokens |= self.valid_tokens
        self.valid_tokens.clear()

    async def gettoken(self, request: Request) -> JSONResponse:
        self.token_fetches += 1
        query = request.query_params
        if query.get("corpid") != CORP_ID:
            return _answer(40013, "invalid corpid")
        if query.get("corpsecret") not in (CORP_SECRET, CONTACT_SECRET):
            return _answer(40001, "invalid credential")
        token = f"wecom-token-{next(self._ids)}"
        self.valid_tokens.add(token)
        if query.get("corpsecret") == CONTACT_SECRET:
            self.contact_tokens.add(token)
        return _answer(0, "ok", access_token=token, expires_in=7200)

    async def message_send(self, request: Request) -> JSONResponse:
        token = request.query_params.get("access_token", "")
        if token in self.expired_tokens:
            return _answer(42001, "access_token expired")
        if token not in self.valid_tokens:
            return _answer(40014, "invalid access_token")
        body = await request.json()
        if body.get("agentid") != AGENT_ID:
            return _answer(40056, "invalid agentid")
        if self.answers:
            return _answer(self.answers.popleft(), "queued answer")
        if body.get("touser") not in self.members:
            return _answer(81013, "user & party & tag all invalid", invaliduser=body.get("touser"))
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "markdown", "textcard") or msgtype not in body:
            return _answer(40008, "invalid message type")
        self.delivered.append(body)
        return _answer(0, "ok", msgid=f"msg-{next(self._ids)}", invaliduser="")

    async def webhook_send(self, request: Request) -> JSONResponse:
        if request.query_params.get("key") != ROBOT_KEY:
            return _answer(93000, "invalid webhook url")
        now = time.monotonic()
        self.robot_times = [at for at in self.robot_times if now - at < 60]
        if len(self.robot_times) >= ROBOT_PER_MINUTE:
            return _answer(45009, "api freq out of limit")
        self.robot_times.append(now)
        body = await request.json()
        msgtype = body.get("msgtype")
        if msgtype not in ROBOT_LIMITS:
            return _answer(40008, "invalid message type")
        if len(body[msgtype]["content"].encode()) > ROBOT_LIMITS[msgtype]:
            return _answer(40058, "content exceed max length")
        self.robot_posts.append(body)
        return _answer(0, "ok")


def _answer(errcode: int, errmsg: str, **fields: Any) -> JSONResponse:
    return JSONResponse({"errcode": errcode, "errmsg": errmsg, **fields})
