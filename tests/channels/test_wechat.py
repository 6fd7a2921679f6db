"""WeChat template messages: cached token, client_msg_id de-duplication, errcodes mapped."""

from collections.abc import Iterator
from typing import Any

import pytest

from leadpond.channels.senders.base import Outgoing, Result
from leadpond.channels.senders.wechat import WeChatTemplateSender
from leadpond.channels.tokens_cache import access_tokens
from tests.channels.fakes import wechat
from tests.channels.fakes.messages import outgoing
from tests.channels.fakes.server import serving
from tests.channels.fakes.wechat import FakeWeChat


@pytest.fixture
def fake() -> Iterator[tuple[FakeWeChat, str]]:
    provider = FakeWeChat()
    access_tokens.clear()  # each test starts with no cached token
    with serving(provider.app) as url:
        yield provider, url
    access_tokens.clear()


def sender_for(url: str, **settings: Any) -> WeChatTemplateSender:
    return WeChatTemplateSender(
        {"app_id": wechat.APP_ID, "app_secret": wechat.APP_SECRET, "endpoint": url, **settings}
    )


def notice(message_id: int, openid: str = "o-follower-1", **fields: Any) -> Outgoing:
    values: dict[str, Any] = {
        "provider_template": wechat.TEMPLATE_ID,
        "extra": {"data": {"thing1": {"value": "巧克力"}}, "url": "https://ex.cn/o/1"},
        **fields,
    }
    return outgoing(message_id, openid, **values)


def test_template_messages_share_one_token_and_carry_the_idempotency_key(fake) -> None:
    provider, url = fake
    outcomes = sender_for(url).send([notice(1), notice(2, openid="o-follower-2")])
    assert [o.result for o in outcomes] == [Result.SENT, Result.SENT]
    assert provider.token_fetches == 1
    first = provider.delivered[0]
    assert first["touser"] == "o-follower-1" and first["template_id"] == wechat.TEMPLATE_ID
    assert first["data"] == {"thing1": {"value": "巧克力"}}
    assert first["url"] == "https://ex.cn/o/1"
    assert first["client_msg_id"] == "test:1"
    assert outcomes[0].provider_id == str(provider.by_client_msg_id["test:1"])


def test_handing_a_message_over_again_delivers_it_once(fake) -> None:
    provider, url = fake
    sender = sender_for(url)
    [first] = sender.send([notice(1)])
    [again] = sender.send([notice(1)])
    assert first.provider_id == again.provider_id
    assert len(provider.delivered) == 1


def test_an_expired_token_is_refreshed_once(fake) -> None:
    provider, url = fake
    sender = sender_for(url)
    sender.send([notice(1)])
    provider.expire_tokens()
    [outcome] = sender.send([notice(2)])
    assert outcome.result is Result.SENT
    assert provider.token_fetches == 2


@pytest.mark.parametrize(
    ("message", "result", "code"),
    [
        (notice(1, openid="o-gone"), Result.PERMANENT, "43004"),
        (notice(1, openid="o-unknown"), Result.PERMANENT, "40003"),
        (notice(1, provider_template="tmpl-nope"), Result.PERMANENT, "40037"),
        (notice(1, extra={"data": {"thing1": "bare"}}), Result.PERMANENT, "47003"),
    ],
)
def test_refusals_are_permanent(fake, message: Outgoing, result: Result, code: str) -> None:
    _, url = fake
    [outcome] = sender_for(url).send([message])
    assert outcome.result is result and outcome.detail.startswith(code)


@pytest.mark.parametrize("errcode", [45009, -1])
def test_quota_and_busy_are_temporary(fake, errcode: int) -> None:
    provider, url = fake
    provider.answers.append(errcode)
    outcomes = sender_for(url).send([notice(1), notice(2)])
    assert [o.result for o in outcomes] == [Result.TEMPORARY, Result.SENT]


def test_a_wrong_secret_is_permanent(fake) -> None:
    _, url = fake
    [outcome] = sender_for(url, app_secret="wrong").send([notice(1)])
    assert outcome.result is Result.PERMANENT and "40001" in outcome.detail
