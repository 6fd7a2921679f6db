"""WeCom contact-me codes per channel, on both databases: made through
``externalcontact/add_contact_way`` with the 客户联系 secret (a local fake speaking the documented
API), and WeCom's encrypted callback (real msg_signature and AES, the corp id as receiver):
``add_external_contact`` with the code's State credits its channel and puts the customer's
external_userid in the identity graph; retries and forgeries change nothing."""

import base64
import hashlib
import os
import struct
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from fastapi.testclient import TestClient

from leadpond.acquisition.wecom_callback import wecom_callback_url
from leadpond.db.engine import unit_of_work
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import set_channel
from tests.channels.fakes import wecom
from tests.channels.fakes.server import serving
from tests.channels.fakes.wecom import FakeWeCom

CALLBACK_TOKEN = "wecomCallback42"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
EXTERNAL = "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"


# WeCom's side, written from reference/channels.md §1 and §4.
def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def encrypt(text: str, corp_id: str = wecom.CORP_ID, key: str = AES_KEY) -> str:
    secret = base64.b64decode(key + "=")
    message = text.encode()
    plain = os.urandom(16) + struct.pack(">I", len(message)) + message + corp_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(secret[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def change_xml(change: str, state: str | None, user: str = "zhangsan", at: int = 0) -> str:
    state_field = f"<State><![CDATA[{state}]]></State>" if state is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[{wecom.CORP_ID}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event>"
        f"<ChangeType><![CDATA[{change}]]></ChangeType>"
        f"<UserID><![CDATA[{user}]]></UserID>"
        f"<ExternalUserID><![CDATA[{EXTERNAL}]]></ExternalUserID>{state_field}"
        "<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>"
    )


class WeComPoster:
    def __init__(self, client: TestClient, path: str) -> None:
        self.client, self.path = client, path

    def post(
        self, xml: str, corp_id: str = wecom.CORP_ID, at: int | None = None, **override: str
    ) -> Any:
        encrypted = encrypt(xml, corp_id)
        timestamp, nonce = str(at or int(time.time())), "1372623149"
        query = {
            "msg_signature": signature(CALLBACK_TOKEN, timestamp, nonce, encrypted),
            "timestamp": timestamp,
            "nonce": nonce,
            **override,
        }
        body = (
            f"<xml><ToUserName><![CDATA[{wecom.CORP_ID}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
        )
        return self.client.post(
            self.path, params=query, content=body.encode(), headers={"Content-Type": "text/xml"}
        )


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    provider = FakeWeCom()
    with serving(provider.app) as url:
        provider.url = url  # type: ignore[attr-defined]
        yield provider


@pytest.fixture
def corp(api: TestClient, workspace: NewWorkspace, fake: FakeWeCom) -> WeComPoster:
    settings = {
        "corp_id": wecom.CORP_ID,
        "corp_secret": wecom.CORP_SECRET,
        "agent_id": str(wecom.AGENT_ID),
        "endpoint": fake.url,  # type: ignore[attr-defined]
        "contact_secret": wecom.CONTACT_SECRET,
        "callback_token": CALLBACK_TOKEN,
        "callback_aes_key": AES_KEY,
    }
    set_channel(api, "wecom", "app", settings)
    with unit_of_work() as session:
        url = wecom_callback_url(session, workspace.workspace_id)
    return WeComPoster(api, urlsplit(url).path)


def ways(api: TestClient) -> list[dict[str, Any]]:
    listed = api.get("/api/v1/wecom/contact-ways")
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]  # type: ignore[no-any-return]


def test_wecom_checks_the_callback_address_with_an_encrypted_echostr(corp: WeComPoster) -> None:
    echo = encrypt("5927782489442352469")
    timestamp, nonce = str(int(time.time())), "1372623149"
    query = {
        "msg_signature": signature(CALLBACK_TOKEN, timestamp, nonce, echo),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echo,
    }
    answer = corp.client.get(corp.path, params=query)
    assert (answer.status_code, answer.text) == (200, "5927782489442352469")
    forged = corp.client.get(corp.path, params={**query, "msg_signature": "0" * 40})
    assert forged.status_code == 403 and forged.json()["code"] == "bad_signature"


def test_a_customer_added_through_a_contact_way_is_credited_to_its_channel(
    api: TestClient, corp: WeComPoster, fake: FakeWeCom
) -> None:
    made = api.post(
        "/api/v1/wecom/contact-ways",
        json={
            "channel": "sales-card-zhangsan",
            "user_ids": ["zhangsan"],
            "state": "card-zs",
            "campaign": "q4-expo",
        },
    )
    assert made.status_code == 201, made.text
    way = made.json()
    [asked] = fake.contact_ways
    assert (asked["type"], asked["scene"], asked["state"], asked["user"]) == (
        1,
        2,
        "card-zs",
        ["zhangsan"],
    )
    assert way["qr_code"].startswith("http://p.qpic.cn/") and way["config_id"]

    added = change_xml("add_external_contact", "card-zs")
    for _ in range(2):  # WeCom posts again when it hears nothing in time
        assert corp.post(added).status_code == 200
    worker.drain()
    items = api.get("/api/v1/people", params={"anonymous_id": f"wecom:{EXTERNAL}"}).json()["items"]
    [person] = items
    first = person["first_touch"]
    assert (first["group"], first["channel"], first["campaign"], first["medium"]) == (
        "wechat",
        "sales-card-zhangsan",
        "q4-expo",
        "contact_way",
    )
    kinds = {(i["type"], i["value"]) for i in person["identifiers"]}
    assert ("wecom_external_userid", EXTERNAL) in kinds
    timeline = api.get(f"/api/v1/people/{person['id']}/timeline").json()["items"]
    assert [e["event"] for e in timeline] == ["WeCom Contact Added"]
    assert timeline[0]["properties"]["user_id"] == "zhangsan"
    assert [w["adds"] for w in ways(api)] == [1]

    # The member deletes them later: recorded, not credited.
    corp.post(change_xml("del_external_contact", None, at=int(time.time()) + 5))
    worker.drain()
    timeline = api.get(f"/api/v1/people/{person['id']}/timeline").json()["items"]
    assert sorted(e["event"] for e in timeline) == ["WeCom Contact Added", "WeCom Contact Deleted"]
    assert [w["adds"] for w in ways(api)] == [1]


def test_forged_or_foreign_callbacks_record_nothing(api: TestClient, corp: WeComPoster) -> None:
    added = change_xml("add_external_contact", "card-zs")
    assert corp.post(added, msg_signature="0" * 40).status_code == 403
    assert corp.post(added, corp_id="ww-another-corp").status_code == 403
    stale = corp.post(added, at=int(time.time()) - 3600)  # signed, but an hour old: a replay
    assert stale.status_code == 403 and stale.json()["code"] == "stale_callback"
    worker.drain()
    found = api.get("/api/v1/people", params={"anonymous_id": f"wecom:{EXTERNAL}"}).json()
    assert found["items"] == []


def test_states_are_checked_before_wecom_is_asked(
    api: TestClient, corp: WeComPoster, fake: FakeWeCom
) -> None:
    body = {"channel": "booth", "user_ids": ["zhangsan", "lisi"], "state": "booth-a"}
    assert api.post("/api/v1/wecom/contact-ways", json=body).status_code == 201
    assert fake.contact_ways[0]["type"] == 2
    taken = api.post("/api/v1/wecom/contact-ways", json=body)
    assert taken.status_code == 409 and taken.json()["code"] == "state_taken"
    long = api.post("/api/v1/wecom/contact-ways", json={**body, "state": "s" * 31})
    assert long.status_code == 422
    unknown = api.post(
        "/api/v1/wecom/contact-ways", json={"channel": "x", "user_ids": ["nobody"], "state": "x1"}
    )
    assert unknown.status_code == 502 and "40098" in unknown.json()["message"]
    generated = api.post("/api/v1/wecom/contact-ways", json={"channel": "y", "user_ids": ["lisi"]})
    assert generated.status_code == 201 and 1 <= len(generated.json()["state"]) <= 30
    assert len(fake.contact_ways) == 2
    assert [w["channel"] for w in ways(api)] == ["y", "booth"]
