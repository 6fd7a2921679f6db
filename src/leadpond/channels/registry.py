"""Which sender speaks for each (channel, provider).

A factory takes the channel's validated settings and returns a
:class:`~leadpond.channels.senders.base.Sender`.
"""

from collections.abc import Callable
from typing import Any

from leadpond.channels.senders.base import Sender
from leadpond.channels.senders.email import SmtpSender
from leadpond.channels.senders.sms_aliyun import AliyunSmsSender
from leadpond.channels.senders.sms_tencent import TencentSmsSender
from leadpond.channels.senders.webhook import WebhookSender
from leadpond.channels.senders.wechat import WeChatTemplateSender
from leadpond.channels.senders.wecom import WeComAppSender, WeComRobotSender

SenderFactory = Callable[[dict[str, Any]], Sender]

# Why a channel whose provider has no sender here cannot send: the REST API's refusal of a test
# send and a failed message's detail (the console says it by the channel's and provider's names).
NO_SENDER = "no sender for {channel}/{provider}"


SENDERS: dict[tuple[str, str], SenderFactory] = {
    ("email", "smtp"): SmtpSender,
    ("sms", "aliyun"): AliyunSmsSender,
    ("sms", "tencent"): TencentSmsSender,
    ("wecom", "app"): WeComAppSender,
    ("wecom", "robot"): WeComRobotSender,
    ("wechat", "template"): WeChatTemplateSender,
    ("webhook", "http"): WebhookSender,
}

# Providers that drop a second message with the same key (WeChat's client_msg_id, WeCom's
# duplicate check, our webhooks' Idempotency-Key header): a message whose deliverer died after
# handing it over is sent again with the same key rather than left in doubt.
DEDUPLICATING = frozenset({("wechat", "template"), ("wecom", "app"), ("webhook", "http")})
