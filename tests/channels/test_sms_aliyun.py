"""Aliyun SMS: SendSms signed (v1) and checked by a fake that verifies the signature as Aliyun
documents it; every answer class mapped to the right outcome."""

from collections.abc import Iterator

import pytest

from leadpond.channels.senders.base import Result
from leadpond.channels.senders.sms import sms_daily_limit
from leadpond.channels.senders.sms_aliyun import AliyunSmsSender, rpc_signature
from tests.channels.fakes import aliyun
from tests.channels.fakes.aliyun import FakeAliyun
from tests.channels.fakes.messages import outgoing
from tests.channels.fakes.server import closed_port, serving, too_slow


@pytest.fixture
def fake() -> Iterator[tuple[FakeAliyun, str]]:
    provider = FakeAliyun()
    with serving(provider.app) as url:
        yield provider, url


def sender_for(url: str, **settings: str) -> AliyunSmsSender:
    return AliyunSmsSender(
        {
            "access_key_id": aliyun.ACCESS_KEY_ID,
            "access_key_secret": aliyun.ACCESS_KEY_SECRET,
            "sign_name": "阿里云短信测试",
            "endpoint": url,
            **settings,
        }
    )


def sms(message_id: int, number: str = "+8613800000001", **params: object) -> object:
    return outgoing(
        message_id,
        number,
        provider_template="SMS_15305000",
        extra={"params": params or {"code": 1234, "name": "张 三*"}, "out_id": str(message_id)},
    )


def test_the_documented_signature_example_is_reproduced() -> None:
    # The SendSms example of Aliyun's SMS signature documentation, with its published result.
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert rpc_signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_a_message_reaches_the_fake_signed_with_its_template_and_out_id(fake) -> None:
    provider, url = fake
    sender = sender_for(url)
    [outcome] = sender.send([sms(7)])
    sender.close()
    assert outcome.result is Result.SENT, outcome.detail
    assert outcome.provider_id == "900001^0"
    [sent] = provider.sent
    assert sent["PhoneNumbers"] == "8613800000001"
    assert sent["TemplateCode"] == "SMS_15305000"
    assert sent["TemplateParam"] == '{"code": "1234", "name": "张 三*"}'
    assert sent["OutId"] == "7"
    assert sent["SignName"] == "阿里云短信测试"


def test_a_wrong_secret_is_refused_by_the_signature_check(fake) -> None:
    provider, url = fake
    sender = sender_for(url, access_key_secret="not-the-secret")
    [outcome] = sender.send([sms(1)])
    assert outcome.result is Result.PERMANENT
    assert outcome.detail.startswith("SignatureDoesNotMatch")
    assert provider.sent == []


@pytest.mark.parametrize(
    ("answer", "result"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", Result.TEMPORARY),
        ("isp.SYSTEM_ERROR", Result.TEMPORARY),
        ("Throttling.User", Result.TEMPORARY),
        ("isv.MOBILE_NUMBER_ILLEGAL", Result.PERMANENT),
        ("isv.SMS_TEMPLATE_ILLEGAL", Result.PERMANENT),
        ("isv.AMOUNT_NOT_ENOUGH", Result.PERMANENT),
        (503, Result.TEMPORARY),
    ],
)
def test_each_answer_class_maps_to_its_outcome(fake, answer: str | int, result: Result) -> None:
    provider, url = fake
    provider.answers.append(answer)
    sender = sender_for(url)
    outcomes = sender.send([sms(1), sms(2)])
    assert outcomes[0].result is result, outcomes[0].detail
    assert outcomes[1].result is Result.SENT  # one message's trouble is its own
    if answer == "isv.BUSINESS_LIMIT_CONTROL":
        assert outcomes[0].retry_after_s == 60.0


def test_a_timeout_or_a_refused_connection_is_temporary() -> None:
    with serving(too_slow) as url:
        [slow] = sender_for(url, timeout_s="0.3").send([sms(1)])
    [refused] = sender_for(closed_port()).send([sms(2)])
    assert slow.result is Result.TEMPORARY and "Timeout" in slow.detail
    assert refused.result is Result.TEMPORARY


def test_a_message_without_template_code_is_permanent(fake) -> None:
    _, url = fake
    [outcome] = sender_for(url).send([outgoing(1, "+8613800000001")])
    assert outcome.result is Result.PERMANENT


def test_the_daily_limit_comes_from_the_settings() -> None:
    assert sms_daily_limit({}) == 10
    assert sms_daily_limit({"daily_limit_per_number": 3}) == 3
