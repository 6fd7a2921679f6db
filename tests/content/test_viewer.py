"""The H5 viewer: a tracking link per group leads to the item's page, which records
``Content Viewed`` with the group as channel and the link, the beacon's ``Content Read``
once per view, the gated download through the form, and — inside WeChat with an official
account configured — the reader's openid by silent web authorisation against a local server
speaking WeChat's API; on both databases."""

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from leadpond.channels.settings import set_channel
from leadpond.db.engine import read_only, unit_of_work
from leadpond.identity.models import Identifier
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.channels.fakes.server import serving
from tests.content.conftest import Store
from tests.content.test_content_api import PDF, make
from tests.engage.forms_helpers import PERSON, make_form, open_page, post

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36"}
WECHAT = {"User-Agent": "Mozilla/5.0 (iPhone) AppleWebKit/605 MicroMessenger/8.0.50 NetType/WIFI"}


def events(workspace: NewWorkspace, *names: str) -> list[Any]:
    with read_only() as session:
        return list(
            session.execute(
                select(Event.event, Event.person_id, Event.payload)
                .where(owned(Event, workspace.workspace_id), Event.event.in_(names))
                .order_by(Event.id)
            )
        )


def open_link(api: TestClient, short_url: str, headers: dict[str, str]) -> tuple[str, str]:
    """Follow a short link to the viewer; the page's HTML and its view token."""
    hop = api.get(
        urlsplit(short_url).path, params={"s": "qr"}, headers=headers, follow_redirects=False
    )
    assert hop.status_code == 302, hop.text
    target = urlsplit(hop.headers["location"])
    page = api.get(f"{target.path}?{target.query}", headers=headers, follow_redirects=False)
    assert page.status_code == 200, page.text
    token = re.search(r'\{t: "([^"]+)"', page.text)
    assert token is not None
    return page.text, token.group(1)


def test_a_group_link_opens_the_page_and_records_the_view_with_its_channel(
    api: TestClient, workspace: NewWorkspace
) -> None:
    item = make(
        api,
        type="product_tech",
        topics=["graph_database"],
        stages=["visit"],
        author="产品部 陈立",
        summary="三分钟看懂图数据库",
        body="## 图数据库\n\n<script>alert(1)</script>[点此](javascript:alert(2)) **快**",
    )
    links = api.post(
        f"/api/v1/content/{item['id']}/links:bulk",
        json={"channels": ["wechat-group:finance-01", "wechat-group:retail-02"], "campaign": "s2"},
    )
    assert links.status_code == 201, links.text
    first, second = links.json()["items"]
    assert first["target"].startswith(str(item["viewer_url"]))
    html, token = open_link(api, first["url"], PHONE)
    assert "图数据库选型指南" in html and "三分钟看懂图数据库" in html and "产品技术" in html
    assert "<script>alert" not in html and 'href="javascript' not in html
    assert "<strong>快</strong>" in html
    for _ in range(2):  # the beacon may fire twice (visibilitychange, then pagehide)
        read = api.post(
            f"{urlsplit(str(item['viewer_url'])).path}/read",
            data={"t": token, "s": "42.5", "d": "0.8"},
        )
        assert read.status_code == 204, read.text
    forged = api.post(
        f"{urlsplit(str(item['viewer_url'])).path}/read",
        data={"t": token + "x", "s": "1", "d": "1"},
    )
    assert forged.status_code == 404
    worker.drain()
    [(_, person_id, viewed)] = events(workspace, "Content Viewed")
    props = viewed["properties"]
    assert (props["content_id"], props["channel"], props["link"], props["campaign"]) == (
        item["key"],
        "wechat-group:finance-01",
        first["code"],
        "s2",
    )
    assert (props["content_type"], props["content_category"], props["topic"]) == (
        "product_tech",
        "product",
        "graph_database",
    )
    assert props["author"] == "产品部 陈立" and props["stage"] == "visit"
    [(_, reader, read_event)] = events(workspace, "Content Read")
    assert reader == person_id and read_event["properties"]["read_seconds"] == 42.5
    [(_, clicker, _)] = events(workspace, "QR Scanned")
    assert clicker == person_id  # the scan and the view are one visitor
    tags = api.get(f"/api/v1/people/{person_id}/tags").json()
    assert "product_pref:graph_database" in [t["tag"] for t in tags["items"]]
    person = api.get(f"/api/v1/people/{person_id}").json()
    assert person["first_channel"] == "wechat"  # the channel group
    assert person["first_touch"]["channel"] == "wechat-group:finance-01"

    stats = api.get(f"/api/v1/content/{item['id']}/stats").json()
    assert (stats["views"], stats["readers"], stats["read_seconds_avg"]) == (1, 1, 42.5)
    assert stats["by_channel"] == [{"key": "wechat-group:finance-01", "views": 1, "readers": 1}]
    assert stats["by_link"][0]["key"] == first["code"]
    assert (stats["new_interest"], stats["known_interest"]) == (1, 0)
    assert stats["readers_list"][0]["interest"] == "new"
    # The same reader through the other group: the topic is a known interest by now.
    open_link(api, second["url"], PHONE)
    worker.drain()
    stats = api.get(f"/api/v1/content/{item['id']}/stats").json()
    assert (stats["views"], stats["readers"]) == (2, 1)
    assert {c["key"] for c in stats["by_channel"]} == {
        "wechat-group:finance-01",
        "wechat-group:retail-02",
    }


def test_drafts_are_not_shown_and_downloads_pass_through_the_gate(
    api: TestClient, workspace: NewWorkspace, content_store: Store
) -> None:
    draft = make(api, status="draft")
    assert api.get(urlsplit(str(draft["viewer_url"])).path).status_code == 404
    paper = make(api, gate_form="whitepaper_gate", format="file")
    assert (
        api.post(
            f"/api/v1/content/{paper['id']}/file", files={"file": ("p.pdf", PDF, "application/pdf")}
        ).status_code
        == 200
    )
    path = urlsplit(str(paper["viewer_url"])).path
    page = api.get(path, headers=PHONE)
    assert f'href="{path}/download"' in page.text
    gate = api.get(f"{path}/download", follow_redirects=False)
    assert gate.status_code == 302
    went = urlsplit(gate.headers["location"])
    assert went.path == "/f/whitepaper_gate"
    after = parse_qs(went.query)["next"][0]
    assert events(workspace, "Whitepaper Downloaded") == []
    tampered = api.get(f"{path}/download", params={"t": "x.y"}, follow_redirects=False)
    assert tampered.status_code == 302  # a bad permission is asked the form again
    # The permission alone is not enough: this browser has not posted the form yet.
    assert api.get(after, follow_redirects=False).status_code == 302
    make_form(api, key="whitepaper_gate", conversion_event=None)
    form_url = f"/f/whitepaper_gate?{urlencode({'ws': workspace.workspace_id.hex, 'next': after})}"
    posted = post(api, form_url, open_page(api, form_url), **PERSON)
    assert (posted.status_code, posted.headers["location"]) == (303, after)
    elsewhere = "/f/whitepaper_gate?" + urlencode(
        {"ws": workspace.workspace_id.hex, "next": "//evil.example/x"}
    )
    again = post(api, elsewhere, open_page(api, elsewhere), **PERSON)
    assert again.status_code == 200  # another site is never where a post leads
    got = api.get(after)
    assert got.status_code == 200 and got.content == PDF
    assert (
        got.headers["content-disposition"]
        == "attachment; filename=\"p.pdf\"; filename*=utf-8''p.pdf"
    )
    assert list(content_store.files().values()) == [PDF]
    with TestClient(api.app) as stranger:  # the link copied into another browser
        assert stranger.get(after, follow_redirects=False).status_code == 302
    [(_, _, downloaded)] = events(workspace, "Whitepaper Downloaded")
    assert (
        downloaded["properties"]["content_id"] == paper["key"] and downloaded["properties"]["gated"]
    )


class FakeWeChatOAuth:
    """``/sns/oauth2/access_token``: one openid per code, each code good once."""

    def __init__(self) -> None:
        self.codes = {"code-1": {"openid": "o-reader-1", "unionid": "u-reader-1"}}
        self.asked: list[dict[str, str]] = []
        self.app = Starlette(routes=[Route("/sns/oauth2/access_token", self.exchange)])

    async def exchange(self, request: Request) -> JSONResponse:
        query = dict(request.query_params)
        self.asked.append(query)
        if query.get("appid") != "wx-content" or query.get("secret") != "s3cret":
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("grant_type") != "authorization_code":
            return JSONResponse({"errcode": 40002, "errmsg": "invalid grant_type"})
        found = self.codes.pop(query.get("code", ""), None)
        if found is None:
            return JSONResponse({"errcode": 40029, "errmsg": "invalid code"})
        return JSONResponse(
            {
                "access_token": "at",
                "expires_in": 7200,
                "refresh_token": "rt",
                "scope": "snsapi_base",
                **found,
            }
        )


@pytest.fixture
def oauth(workspace: NewWorkspace) -> Iterator[FakeWeChatOAuth]:
    fake = FakeWeChatOAuth()
    with serving(fake.app) as url:
        with unit_of_work() as session:
            set_channel(
                session,
                workspace.workspace_id,
                "wechat",
                "template",
                {"app_id": "wx-content", "app_secret": "s3cret", "endpoint": url},
            )
        yield fake


def test_inside_wechat_the_reader_is_known_by_their_openid(
    api: TestClient, workspace: NewWorkspace, oauth: FakeWeChatOAuth
) -> None:
    item = make(api, topics=["graph_database"])
    path = urlsplit(str(item["viewer_url"])).path
    outside = api.get(path, headers=PHONE, follow_redirects=False)
    assert outside.status_code == 200  # no WeChat browser: no authorisation
    asked = api.get(path, params={"ch": "wechat-menu"}, headers=WECHAT, follow_redirects=False)
    assert asked.status_code == 302
    authorize = urlsplit(asked.headers["location"])
    assert authorize.netloc == "open.weixin.qq.com" and authorize.fragment == "wechat_redirect"
    query = parse_qs(authorize.query)
    assert query["scope"] == ["snsapi_base"] and query["appid"] == ["wx-content"]
    back = urlsplit(query["redirect_uri"][0])
    assert back.path == path and parse_qs(back.query) == {"ch": ["wechat-menu"]}
    state = query["state"][0]
    forged = api.get(path, params={"code": "code-1", "state": "other"}, headers=WECHAT)
    assert forged.status_code == 200 and oauth.asked == []  # a foreign state is not exchanged
    came = api.get(
        path, params={"ch": "wechat-menu", "code": "code-1", "state": state}, headers=WECHAT
    )
    assert came.status_code == 200 and oauth.asked[0]["code"] == "code-1"
    again = api.get(path, headers=WECHAT, follow_redirects=False)
    assert again.status_code == 200  # remembered: no second round trip to WeChat
    worker.drain()
    viewed = events(workspace, "Content Viewed")
    assert len(viewed) == 4
    wechat_people = {
        person for _, person, payload in viewed if payload.get("context", {}).get("externalIds")
    }
    assert len(wechat_people) == 1
    with read_only() as session:
        kinds = set(
            session.execute(
                select(Identifier.type, Identifier.value).where(
                    owned(Identifier, workspace.workspace_id),
                    Identifier.person_id.in_(wechat_people),
                )
            )
        )
    assert ("wechat_openid", "o-reader-1") in kinds and ("wechat_unionid", "u-reader-1") in kinds
