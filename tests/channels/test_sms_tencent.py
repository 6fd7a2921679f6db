"""Tencent SMS: SendSms signed with TC3-HMAC-SHA256, verified by a fake that implements the
documented algorithm on its own; per-number codes mapped to outcomes."""

from collections.abc import Iterator
from typing import Any

import pytest

from leadpond.channels.senders.base import Outgoing, Result
from leadpond.channels.senders.sms_tencent import TencentSmsSender
from tests.channels.fakes import tencent
from tests.channels.fakes.messages import outgoing
from tests.channels.fakes.server import closed_port, serving, too_slow
from tests.channels.fakes.tencent import FakeTencent


@pytest.fixture
def fake() -> Iterator[tuple[FakeTencent, str]]:
    provider = FakeTencent()
    with serving(provider.app) as url:
        yield provider, url


def sender_for(url: str, **settings: Any) -> TencentSmsSender:
    return TencentSmsSender(
        {
            "secret_id": tencent.SECRET_ID,
            "secret_key": tencent.SECRET_KEY,
            "sdk_app_id": "1400006666",
            "sign_name": "腾讯云",
            "endpoint": url,
            **settings,
        }
    )


def sms(message_id: int, params: Any = None, key: str | None = None) -> Outgoing:
    return outgoing(
        message_id,
        "+8618501234444",
        provider_template="1234567",
        idempotency_key=key or f"journey:1:2:{message_id}",
        extra={"params": {"code": 4321, "minutes": 5} if params is None else params},
    )


def test_a_message_reaches_the_fake_signed_with_params_in_order(fake) -> None:
    provider, url = fake
    sender = sender_for(url)
    [outcome] = sender.send([sms(3)])
    sender.close()
    assert outcome.result is Result.SENT, outcome.detail
    assert outcome.provider_id == "2433:1"
    [sent] = provider.sent
    assert sent["PhoneNumberSet"] == ["+8618501234444"]
    assert sent["TemplateParamSet"] == ["4321", "5"]
    assert sent["SessionContext"] == "journey:1:2:3"
    assert (sent["SmsSdkAppId"], sent["SignName"], sent["TemplateId"]) == (
        "1400006666",
        "腾讯云",
        "1234567",
    )


def test_list_params_keep_their_positions_and_long_keys_are_cut_to_512_bytes(fake) -> None:
    provider, url = fake
    [outcome] = sender_for(url).send([sms(1, params=["a", 2], key="键" * 200)])
    assert outcome.result is Result.SENT
    assert provider.sent[0]["TemplateParamSet"] == ["a", "2"]
    assert len(provider.sent[0]["SessionContext"].encode()) <= 512


def test_a_wrong_key_fails_the_signature_check(fake) -> None:
    provider, url = fake
    [outcome] = sender_for(url, secret_key="wrong").send([sms(1)])
    assert outcome.result is Result.PERMANENT
    assert outcome.detail.startswith("AuthFailure.SignatureFailure")
    assert provider.sent == []


@pytest.mark.parametrize(
    ("answer", "result"),
    [
        ("LimitExceeded.PhoneNumberDailyLimit", Result.TEMPORARY),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", Result.TEMPORARY),
        ("InternalError.Timeout", Result.TEMPORARY),
        ("InvalidParameterValue.IncorrectPhoneNumber", Result.PERMANENT),
        ("FailedOperation.TemplateIncorrectOrUnapproved", Result.PERMANENT),
        ("FailedOperation.InsufficientBalanceInSmsPackage", Result.PERMANENT),
        (502, Result.TEMPORARY),
    ],
)
def test_each_answer_class_maps_to_its_outcome(fake, answer: str | int, result: Result) -> None:
    provider, url = fake
    provider.answers.append(answer)
    outcomes = sender_for(url).send([sms(1), sms(2)])
    assert outcomes[0].result is result, outcomes[0].detail
    assert outcomes[1].result is Result.SENT
    if answer == "LimitExceeded.PhoneNumberThirtySecondLimit":
        assert outcomes[0].retry_after_s == 30.0


def test_a_timeout_or_a_refused_connection_is_temporary() -> None:
    with serving(too_slow) as url:
        [slow] = sender_for(url, timeout_s=0.3).send([sms(1)])
    [refused] = sender_for(closed_port()).send([sms(2)])
    assert (slow.result, refused.result) == (Result.TEMPORARY, Result.TEMPORARY)
