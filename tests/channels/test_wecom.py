"""WeCom: application messages with a cached access token (one gettoken for many sends, one
refresh on an expired token), errcodes mapped; the group robot's size and rate limits."""

from collections.abc import Iterator
from typing import Any

import pytest

from leadpond.channels.senders.base import Outgoing, Result
from leadpond.channels.senders.wecom import WeComAppSender, WeComRobotSender
from leadpond.channels.tokens_cache import access_tokens
from tests.channels.fakes import wecom
from tests.channels.fakes.messages import outgoing
from tests.channels.fakes.server import serving
from tests.channels.fakes.wecom import FakeWeCom


@pytest.fixture
def fake() -> Iterator[tuple[FakeWeCom, str]]:
    provider = FakeWeCom()
    access_tokens.clear()  # each test starts with no cached token
    with serving(provider.app) as url:
        yield provider, url
    access_tokens.clear()


def app_sender(url: str, **settings: Any) -> WeComAppSender:
    return WeComAppSender(
        {
            "corp_id": wecom.CORP_ID,
            "corp_secret": wecom.CORP_SECRET,
            "agent_id": wecom.AGENT_ID,
            "endpoint": url,
            **settings,
        }
    )


def note(message_id: int, userid: str = "zhangsan", **extra: Any) -> Outgoing:
    return outgoing(message_id, userid, extra=extra or {"msgtype": "text", "content": "新线索"})


def test_many_sends_fetch_one_token_across_senders(fake) -> None:
    provider, url = fake
    first, second = app_sender(url), app_sender(url)
    outcomes = first.send([note(1), note(2)]) + second.send([note(3)])
    assert [o.result for o in outcomes] == [Result.SENT] * 3
    assert provider.token_fetches == 1
    assert all(o.provider_id and o.provider_id.startswith("msg-") for o in outcomes)
    body = provider.delivered[0]
    assert body["touser"] == "zhangsan" and body["agentid"] == wecom.AGENT_ID
    assert body["text"] == {"content": "新线索"}
    assert body["enable_duplicate_check"] == 1 and body["duplicate_check_interval"] == 1800


def test_an_expired_token_is_refreshed_once_and_the_send_retried(fake) -> None:
    provider, url = fake
    sender = app_sender(url)
    sender.send([note(1)])
    provider.expire_tokens()
    [outcome] = sender.send([note(2)])
    assert outcome.result is Result.SENT
    assert provider.token_fetches == 2
    assert len(provider.delivered) == 2


def test_markdown_and_textcard_messages(fake) -> None:
    provider, url = fake
    markdown = note(1, msgtype="markdown", content="**新线索** <@zhangsan>")
    card = note(2, msgtype="textcard", title="新线索", content="上海某公司", url="https://x.cn/p/1")
    outcomes = app_sender(url).send([markdown, card])
    assert [o.result for o in outcomes] == [Result.SENT, Result.SENT]
    assert provider.delivered[1]["textcard"] == {
        "title": "新线索",
        "description": "上海某公司",
        "url": "https://x.cn/p/1",
    }


@pytest.mark.parametrize(
    ("errcode", "result"),
    [(45009, Result.TEMPORARY), (-1, Result.TEMPORARY), (40056, Result.PERMANENT)],
)
def test_errcodes_map_to_outcomes(fake, errcode: int, result: Result) -> None:
    provider, url = fake
    provider.answers.append(errcode)
    outcomes = app_sender(url).send([note(1), note(2)])
    assert outcomes[0].result is result
    assert outcomes[1].result is Result.SENT


def test_an_unknown_member_is_permanent(fake) -> None:
    _, url = fake
    [outcome] = app_sender(url).send([note(1, userid="nobody")])
    assert outcome.result is Result.PERMANENT and outcome.detail.startswith("81013")


def test_a_wrong_secret_fails_every_message_permanently(fake) -> None:
    _, url = fake
    outcomes = app_sender(url, corp_secret="wrong").send([note(1), note(2)])
    assert [o.result for o in outcomes] == [Result.PERMANENT] * 2
    assert "40001" in outcomes[0].detail


def test_an_oversized_or_incomplete_message_is_permanent_before_any_call(fake) -> None:
    provider, url = fake
    too_long = note(1, msgtype="text", content="字" * 700)  # 2100 bytes
    no_url = note(2, msgtype="textcard", title="t", content="d")
    outcomes = app_sender(url).send([too_long, no_url])
    assert [o.result for o in outcomes] == [Result.PERMANENT] * 2
    assert "2100 bytes" in outcomes[0].detail
    assert provider.delivered == []


def robot(url: str) -> WeComRobotSender:
    return WeComRobotSender({"webhook_url": f"{url}/cgi-bin/webhook/send?key={wecom.ROBOT_KEY}"})


def test_the_robot_posts_text_and_markdown(fake) -> None:
    provider, url = fake
    outcomes = robot(url).send(
        [note(1, msgtype="text", content="hi"), note(2, msgtype="markdown", content="**hi**")]
    )
    assert [o.result for o in outcomes] == [Result.SENT, Result.SENT]
    assert provider.robot_posts[1] == {"msgtype": "markdown", "markdown": {"content": "**hi**"}}


def test_the_robot_refuses_too_long_content_with_a_clear_reason(fake) -> None:
    provider, url = fake
    assert provider.robot_posts == []
    text = note(1, msgtype="text", content="a" * 2049)
    markdown = note(2, msgtype="markdown", content="a" * 4096)
    outcomes = robot(url).send([text, markdown])
    assert outcomes[0].result is Result.PERMANENT
    assert outcomes[0].detail == "text content is 2049 bytes, the provider takes at most 2048"
    assert outcomes[1].result is Result.SENT
    assert len(provider.robot_posts) == 1


def test_the_robot_rate_limit_makes_the_rest_of_the_batch_wait(fake) -> None:
    provider, url = fake
    outcomes = robot(url).send([note(n, msgtype="text", content=f"#{n}") for n in range(25)])
    assert [o.result for o in outcomes[:20]] == [Result.SENT] * 20
    assert [o.result for o in outcomes[20:]] == [Result.TEMPORARY] * 5
    assert all(o.retry_after_s == 60.0 for o in outcomes[20:])
    assert [o.message_id for o in outcomes] == list(range(25))
    assert len(provider.robot_posts) == 20
