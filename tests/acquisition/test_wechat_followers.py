"""The official account as an acquisition channel, on both databases: a parameterised QR code
made through WeChat's ``qrcode/create`` (a local fake speaking the documented API), then what
the callback reports — a follow through the code (safe mode, real signatures and AES), a scan by
a follower, an unfollow, a menu click, a message — each a standard event of the follower, their
openid in the identity graph, the code's channel as their first touch, and WeChat's retries
changing nothing. The test plays WeChat with its own code (tests/channels/test_wechat_callback)."""

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from leadpond.acquisition import wechat_codes
from leadpond.channels.wechat_callback import wechat_callback_url
from leadpond.db.engine import unit_of_work
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import set_channel
from tests.channels.fakes import wechat
from tests.channels.fakes.server import serving
from tests.channels.fakes.wechat import FakeWeChat
from tests.channels.test_wechat_callback import AES_KEY, SERVER_TOKEN, WeChat

GH = "gh_7f083739789a"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    provider = FakeWeChat()
    with serving(provider.app) as url:
        provider.url = url  # type: ignore[attr-defined]
        yield provider


@pytest.fixture
def account(api: TestClient, workspace: NewWorkspace, fake: FakeWeChat) -> WeChat:
    settings = {
        "app_id": wechat.APP_ID,
        "app_secret": wechat.APP_SECRET,
        "endpoint": fake.url,  # type: ignore[attr-defined]
        "server_token": SERVER_TOKEN,
        "encoding_aes_key": AES_KEY,
    }
    set_channel(api, "wechat", "template", settings)
    with unit_of_work() as session:
        url = wechat_callback_url(session, workspace.workspace_id)
    return WeChat(api, urlsplit(url).path)


def event_xml(openid: str, event: str, key: str | None = None, at: int | None = None) -> str:
    created = at if at is not None else int(time.time())
    extra = f"<EventKey><![CDATA[{key}]]></EventKey><Ticket><![CDATA[T]]></Ticket>" if key else ""
    return (
        f"<xml><ToUserName><![CDATA[{GH}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{created}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{extra}</xml>"
    )


def text_xml(openid: str, content: str, msg_id: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{GH}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def follower(api: TestClient, openid: str) -> dict[str, Any]:
    items = api.get("/api/v1/people", params={"anonymous_id": openid}).json()["items"]
    assert len(items) == 1, items
    return items[0]  # type: ignore[no-any-return]


def timeline(api: TestClient, person_id: int) -> list[dict[str, Any]]:
    found = api.get(f"/api/v1/people/{person_id}/timeline")
    assert found.status_code == 200, found.text
    return found.json()["items"]  # type: ignore[no-any-return]


def codes(api: TestClient) -> dict[str, Any]:
    listed = api.get("/api/v1/wechat/qrcodes")
    assert listed.status_code == 200, listed.text
    return listed.json()  # type: ignore[no-any-return]


def test_a_follow_through_a_qr_code_credits_its_channel_and_retries_change_nothing(
    api: TestClient, account: WeChat, fake: FakeWeChat
) -> None:
    made = api.post(
        "/api/v1/wechat/qrcodes", json={"channel": "conf-2026-booth", "campaign": "graph-launch"}
    )
    assert made.status_code == 201, made.text
    code = made.json()
    # A temporary string-scene code for 30 days, the scene ours.
    [asked] = fake.qrcodes
    assert asked["action_name"] == "QR_STR_SCENE" and asked["expire_seconds"] == 2592000
    assert asked["action_info"]["scene"]["scene_str"] == code["scene"]
    assert code["url"].startswith("http://weixin.qq.com/q/")
    assert code["image_url"].startswith("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=")
    png = api.get(code["qr_png_url"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")

    # A new follower scans it (safe mode); WeChat posts it again, as it does when slow.
    follow = event_xml("o-new-1", "subscribe", f"qrscene_{code['scene']}")
    for _ in range(2):
        answer = account.post_safe(follow)
        assert (answer.status_code, answer.text) == (200, "success")
    worker.drain()
    person = follower(api, "o-new-1")
    names = [e["event"] for e in timeline(api, person["id"])]
    assert sorted(names) == ["QR Scanned", "WeChat Followed"]
    first = person["first_touch"]
    assert (first["group"], first["channel"], first["campaign"]) == (
        "wechat",
        "conf-2026-booth",
        "graph-launch",
    )
    assert person["first_channel"] == "wechat"
    openids = [i["value"] for i in person["identifiers"] if i["type"] == "wechat_openid"]
    assert openids == [f"{wechat.APP_ID}:o-new-1"]
    [listed] = codes(api)["items"]
    assert (listed["scans"], listed["follows"]) == (1, 1)

    # Later they scan it again as a follower (SCAN: the scene without prefix, plaintext),
    # click the menu, write, and leave.
    later = int(time.time()) + 1
    assert account.post_plain(event_xml("o-new-1", "SCAN", code["scene"], later)).text == "success"
    account.post_plain(event_xml("o-new-1", "CLICK", "MENU_TRIAL", later + 1))
    message = text_xml("o-new-1", "想了解图数据库", "6054768590064713728")
    account.post_safe(message)
    account.post_safe(message)
    account.post_plain(event_xml("o-new-1", "unsubscribe", None, later + 2))
    worker.drain()
    events = {e["event"]: e for e in timeline(api, person["id"])}
    assert len(timeline(api, person["id"])) == 6
    assert events["WeChat Menu Clicked"]["properties"]["menu_key"] == "MENU_TRIAL"
    assert events["WeChat Message Received"]["properties"]["content"] == "想了解图数据库"
    assert "WeChat Unfollowed" in events
    [listed] = codes(api)["items"]
    assert (listed["scans"], listed["follows"]) == (2, 1)
    last = follower(api, "o-new-1")["last_touch"]
    assert (last["channel"], last["medium"]) == ("conf-2026-booth", "qrcode")


def test_a_plain_follow_is_the_wechat_channel_and_an_unknown_scene_is_kept(
    api: TestClient, account: WeChat
) -> None:
    account.post_plain(event_xml("o-plain", "subscribe"))
    account.post_plain(event_xml("o-other", "subscribe", "qrscene_made-elsewhere"))
    worker.drain()
    plain = follower(api, "o-plain")["first_touch"]
    assert (plain["group"], plain["channel"], plain["medium"]) == ("wechat", "wechat", "follow")
    other = follower(api, "o-other")
    scanned = [e for e in timeline(api, other["id"]) if e["event"] == "QR Scanned"]
    assert scanned[0]["properties"]["scene"] == "made-elsewhere"


def test_a_forged_follow_records_nothing(api: TestClient, account: WeChat) -> None:
    forged = account.post_safe(event_xml("o-forged", "subscribe"), msg_signature="0" * 40)
    assert forged.status_code == 403
    worker.drain()
    assert api.get("/api/v1/people", params={"anonymous_id": "o-forged"}).json()["items"] == []


def test_permanent_codes_are_counted_against_wechats_budget(
    api: TestClient, account: WeChat, fake: FakeWeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wechat_codes, "PERMANENT_LIMIT", 1)
    made = api.post("/api/v1/wechat/qrcodes", json={"channel": "poster", "permanent": True})
    assert made.status_code == 201, made.text
    assert made.json()["expires_at"] is None
    assert fake.qrcodes[0]["action_name"] == "QR_LIMIT_STR_SCENE"
    assert "expire_seconds" not in fake.qrcodes[0]
    refused = api.post("/api/v1/wechat/qrcodes", json={"channel": "poster-2", "permanent": True})
    assert refused.status_code == 409
    assert refused.json()["code"] == "permanent_qr_budget_exhausted"
    assert len(fake.qrcodes) == 1
    listed = codes(api)
    assert (listed["permanent_used"], listed["permanent_limit"], len(listed["items"])) == (1, 1, 1)
    # Temporary codes are not counted; they live at most 30 days.
    week = api.post("/api/v1/wechat/qrcodes", json={"channel": "flyer", "expire_seconds": 604800})
    assert week.status_code == 201 and fake.qrcodes[-1]["expire_seconds"] == 604800
    too_long = api.post(
        "/api/v1/wechat/qrcodes", json={"channel": "flyer", "expire_seconds": 2592001}
    )
    assert too_long.status_code == 422


def test_a_stale_token_is_fetched_again_once_and_refusals_keep_nothing(
    api: TestClient, account: WeChat, fake: FakeWeChat
) -> None:
    assert api.post("/api/v1/wechat/qrcodes", json={"channel": "a"}).status_code == 201
    assert fake.token_fetches == 1
    fake.valid_tokens.clear()  # another fetcher got a newer token: ours answers 40001
    again = api.post("/api/v1/wechat/qrcodes", json={"channel": "b"})
    assert again.status_code == 201, again.text
    assert fake.token_fetches == 2
    fake.answers.append(45009)
    refused = api.post("/api/v1/wechat/qrcodes", json={"channel": "c"})
    assert refused.status_code == 502
    assert refused.json()["code"] == "provider_refused" and "45009" in refused.json()["message"]
    assert [c["channel"] for c in codes(api)["items"]] == ["b", "a"]


def test_without_the_account_no_code_is_made(api: TestClient) -> None:
    answer = api.post("/api/v1/wechat/qrcodes", json={"channel": "a"})
    assert answer.status_code == 400 and answer.json()["code"] == "wechat_not_configured"
