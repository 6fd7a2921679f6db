"""A fake WeChat Official Account API: cgi-bin/token, message/template/send, qrcode/create and
user/info (a follower's unionid when ``unionids`` knows one).

Followers, openids and templates are known to it: 43004 for an openid that does not follow,
40003 for an unknown openid, 40037 for an unknown template. ``client_msg_id`` de-duplicates (the
same id answers the first msgid and delivers nothing more). Tokens expire on demand (42001).
"""

import itertools
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

APP_ID = "wx-test-app"
APP_SECRET = "wechat-secret"
TEMPLATE_ID = "tmpl-order-shipped"


class FakeWeChat:
    """State of the fake: tokens issued, messages delivered, answers to give."""

    def __init__(self) -> None:
        self.followers = {"o-follower-1", "o-follower-2"}
        self.unfollowed = {"o-gone"}
        self.token_fetches = 0
        self.valid_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.delivered: list[dict[str, Any]] = []
        self.by_client_msg_id: dict[str, int] = {}
        self.answers: deque[int] = deque()
        self._ids = itertools.count(200228332)
        self.qrcodes: list[dict[str, Any]] = []
        self.unionids: dict[str, str] = {}
        self.info_asked: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/token", self.token),
                Route("/cgi-bin/message/template/send", self.template_send, methods=["POST"]),
                Route("/cgi-bin/qrcode/create", self.qrcode_create, methods=["POST"]),
                Route("/cgi-bin/user/info", self.user_info),
            ]
        )

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001."""
        self.expired_tokens |= self.valid_tokens
        self.valid_tokens.clear()

    async def token(self, request: Request) -> JSONResponse:
        self.token_fetches += 1
        query = request.query_params
        if query.get("grant_type") != "client_credential":
            return _answer(40002, "invalid grant_type")
        if query.get("appid") != APP_ID:
            return _answer(40013, "invalid appid")
        if query.get("secret") != APP_SECRET:
            return _answer(40001, "invalid credential")
        token = f"wechat-token-{next(self._ids)}"
        self.valid_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 7200})

    async def template_send(self, request: Request) -> JSONResponse:
        token = request.query_params.get("access_token", "")
        if token in self.expired_tokens:
            return _answer(42001, "access_token expired")
        if token not in self.valid_tokens:
            return _answer(40014, "invalid access_token")
        if self.answers:
            return _answer(self.answers.popleft(), "queued answer")
        body = await request.json()
        problem = self.problem(body)
        if problem is not None:
            return _answer(*problem)
        key = body.get("client_msg_id")
        if key and key in self.by_client_msg_id:
            return _answer(0, "ok", msgid=self.by_client_msg_id[key])
        msgid = next(self._ids)
        if key:
            self.by_client_msg_id[key] = msgid
        self.delivered.append(body)
        return _answer(0, "ok", msgid=msgid)

    async def qrcode_create(self, request: Request) -> JSONResponse:
        """As documented: QR_STR_SCENE (1-64 character scene, expire_seconds ≤ 2592000, 60 s
        when left out) or QR_LIMIT_STR_SCENE (no expiry); a ticket and the url it encodes."""
        token = request.query_params.get("access_token", "")
        if token in self.expired_tokens:
            return _answer(42001, "access_token expired")
        if token not in self.valid_tokens:
            return _answer(40001, "invalid credential, access_token is invalid or not latest")
        if self.answers:
            return _answer(self.answers.popleft(), "queued answer")
        body = await request.json()
        action = body.get("action_name")
        scene = (body.get("action_info") or {}).get("scene", {}).get("scene_str")
        if action not in ("QR_STR_SCENE", "QR_LIMIT_STR_SCENE"):
            return _answer(40097, "invalid args: action_name")
        if not isinstance(scene, str) or not 1 <= len(scene) <= 64:
            return _answer(40097, "invalid args: scene_str")
        n = next(self._ids)
        answer: dict[str, Any] = {
            "ticket": f"gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL{n}==",
            "url": f"http://weixin.qq.com/q/kZgfwMTm72WWPkov{n}",
        }
        if action == "QR_STR_SCENE":
            expire = body.get("expire_seconds", 60)
            if not isinstance(expire, int) or not 1 <= expire <= 2592000:
                return _answer(40097, "invalid args: expire_seconds")
            answer["expire_seconds"] = expire
        self.qrcodes.append(body)
        return JSONResponse(answer)

    async def user_info(self, request: Request) -> JSONResponse:
        """As documented: a follower's ``subscribe: 1``, openid, language, subscribe time and
        scene, and ``unionid`` only when the account is bound to an Open Platform account; an
        openid that left answers ``subscribe: 0`` and nothing more; 40003 for a stranger."""
        query = request.query_params
        token = query.get("access_token", "")
        if token in self.expired_tokens:
            return _answer(42001, "access_token expired")
        if token not in self.valid_tokens:
            return _answer(40001, "invalid credential, access_token is invalid or not latest")
        if self.answers:
            return _answer(self.answers.popleft(), "queued answer")
        openid = query.get("openid", "")
        self.info_asked.append(openid)
        if openid in self.unfollowed:
            return JSONResponse({"subscribe": 0, "openid": openid})
        if openid not in self.followers:
            return _answer(40003, "invalid openid")
        info: dict[str, Any] = {
            "subscribe": 1,
            "openid": openid,
            "language": query.get("lang", "zh_CN"),
            "subscribe_time": 1765000000,
            "remark": "",
            "groupid": 0,
            "tagid_list": [],
            "subscribe_scene": "ADD_SCENE_QR_CODE",
            "qr_scene": 0,
            "qr_scene_str": "",
        }
        if openid in self.unionids:
            info["unionid"] = self.unionids[openid]
        return JSONResponse(info)

    def problem(self, body: dict[str, Any]) -> tuple[int, str] | None:
        openid = body.get("touser")
        if openid in self.unfollowed:
            return 43004, "require subscribe"
        if openid not in self.followers:
            return 40003, "invalid openid"
        if body.get("template_id") != TEMPLATE_ID:
            return 40037, "invalid template_id"
        data = body.get("data")
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and "value" in v for v in data.values()
        ):
            return 47003, "argument invalid! data.value invalid"
        return None


def _answer(errcode: int, errmsg: str, **fields: Any) -> JSONResponse:
    return JSONResponse({"errcode": errcode, "errmsg": errmsg, **fields})
