"""Which sender speaks for each (channel, provider).

A factory takes the channel's validated settings and returns a
:class:`~leadpond.channels.senders.base.Sender`. Sender modules are imported when first used,
so a deliverer that never sends SMS never loads the SMS clients.
"""

import importlib
from collections.abc import Callable
from typing import Any, cast

from leadpond.channels.senders.base import Sender

SenderFactory = Callable[[dict[str, Any]], Sender]


def _lazy(module: str, name: str) -> SenderFactory:
    def factory(settings: dict[str, Any]) -> Sender:
        sender_class = getattr(importlib.import_module(f"leadpond.channels.senders.{module}"), name)
        return cast(Sender, sender_class(settings))

    factory.__qualname__ = f"{module}.{name}"
    return factory


SENDERS: dict[tuple[str, str], SenderFactory] = {
    ("email", "smtp"): _lazy("email", "SmtpSender"),
    ("sms", "aliyun"): _lazy("sms_aliyun", "AliyunSmsSender"),
    ("sms", "tencent"): _lazy("sms_tencent", "TencentSmsSender"),
    ("wecom", "app"): _lazy("wecom", "WeComAppSender"),
    ("wecom", "robot"): _lazy("wecom", "WeComRobotSender"),
    ("wechat", "template"): _lazy("wechat", "WeChatTemplateSender"),
    ("webhook", "http"): _lazy("webhook", "WebhookSender"),
}

# Providers that drop a second message with the same key (WeChat's client_msg_id, WeCom's
# duplicate check, our webhooks' Idempotency-Key header): a message whose deliverer died after
# handing it over is sent again with the same key rather than left in doubt.
DEDUPLICATING = frozenset({("wechat", "template"), ("wecom", "app"), ("webhook", "http")})
