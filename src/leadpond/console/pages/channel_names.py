"""The channels and their providers by the names a marketer knows them, and a channel that
cannot send (``channels.registry.NO_SENDER``, the REST API's English) said with those names: a
test send's refusal and a failed message's error alike.

Every text here is an English message id translated by the console catalogs;
``tests/console/test_channel_words.py`` fails when one lacks its Chinese.
"""

import re

from leadpond.channels.registry import NO_SENDER
from leadpond.console.i18n import Translate
from leadpond.console.pages.words import said

CHANNEL_NAMES = {
    "email": "Emails",
    "sms": "SMS",
    "wecom": "WeCom",
    "wechat": "WeChat Official Account",
    "webhook": "Webhooks",
}

PROVIDER_NAMES = {
    "smtp": "SMTP relay",
    "aliyun": "Aliyun SMS",
    "tencent": "Tencent Cloud SMS",
    "app": "WeCom application",
    "robot": "WeCom group robot",
    "template": "WeChat template messages",
    "http": "Signed JSON over HTTP",
}

NO_SENDER_WORDS = "{channel}: there is no sender for the provider {provider}."
# A failed message's error as the deliverer writes it (``no sender for email/smtp``).
_NO_SENDER = re.compile(
    "^"
    + re.escape(NO_SENDER)
    .replace(re.escape("{channel}"), "(?P<channel>[^/]+)")
    .replace(re.escape("{provider}"), "(?P<provider>.+)")
    + "$"
)


def no_sender_words(_: Translate, channel: str, provider: str) -> str:
    """A channel that cannot send for want of a sender, by its and its provider's names."""
    return _(NO_SENDER_WORDS).format(
        channel=said(_, CHANNEL_NAMES, channel), provider=said(_, PROVIDER_NAMES, provider)
    )


def delivery_error_words(_: Translate, error: str | None) -> str:
    """A failed message's error in words when leadpond wrote it (no sender for its provider);
    a provider's own answer as it gave it."""
    found = _NO_SENDER.match(error or "")
    if found:
        return no_sender_words(_, found["channel"], found["provider"])
    return error or ""
