"""How the channel screens say things: channel, provider, status and event names, skip reasons
in words (never a raw key), the settings' labels, and times in the marketer's time zone.

Every text here is an English message id translated by the console catalogs;
``tests/console/test_catalogs.py`` fails when one lacks its Chinese.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from leadpond.console.i18n import Translate

# The channels' and providers' names live apart, for the refusals to say them too.
from leadpond.console.pages.channel_names import CHANNEL_NAMES as CHANNEL_NAMES
from leadpond.console.pages.channel_names import PROVIDER_NAMES as PROVIDER_NAMES
from leadpond.console.pages.channel_names import delivery_error_words
from leadpond.console.pages.frame import when

PURPOSE_NAMES = {"marketing": "Marketing", "transactional": "Transactional"}

STATUS_NAMES = {
    "queued": "Queued",
    "sending": "Sending",
    "sent": "Sent",
    "delivered": "Delivered",
    "bounced": "Bounced",
    "failed": "Failed",
    "skipped": "Skipped",
    "in_doubt": "In doubt",
}

# What a message's history may hold besides its statuses.
EVENT_NAMES = {
    **STATUS_NAMES,
    "opened": "Opened",
    "clicked": "Clicked",
    "unsubscribed": "Unsubscribed",
    "complained": "Complained",
    "deferred": "Delivery deferred",
    "receipt:delivered": "Receipt after the fact: delivered",
    "receipt:bounced": "Receipt after the fact: bounced",
}

SKIP_REASONS = {
    "not_configured": "Not sent: the channel is not configured or is switched off.",
    "person_gone": "Not sent: the person no longer exists.",
    "unsubscribed": "Not sent: the person unsubscribed from this channel.",
    "no_consent": (
        "Not sent: this channel needs consent the person never gave "
        "(WeChat template messages are service notices only)."
    ),
    "no_address": "Not sent: the person has no address on this channel.",
    "suppressed": "Not sent: the address bounced hard or its owner complained.",
    "capped": "Not sent: a frequency cap held, and this channel drops capped messages.",
    "quiet_hours": "Not sent: it fell in quiet hours, and this channel drops messages then.",
    "invalid_template": "Not sent: the template failed to render for this person.",
}

# Why a message went back to the queue (``held`` in a history entry).
HELD_REASONS = {
    "capped": "Waiting: a frequency cap holds until {until}.",
    "quiet_hours": "Waiting: quiet hours last until {until}.",
}

TEST_RESULTS = {
    "sent": "The provider accepted it.",
    "temporary": "Temporary failure: the provider asked to try again later.",
    "permanent": "Permanent failure: the provider refused it.",
}

# The keys a history entry's detail carries (the provider's answer, an open's visitor…).
DETAIL_LABELS = {
    "origin": "Written by",
    "attempt": "Attempt",
    "result": "Result",
    "provider_id": "Provider id",
    "answer": "Provider answer",
    "retry_after_s": "Retry after (seconds)",
    "why": "Why",
    "detail": "Detail",
    "source": "Source",
    "url": "Link",
    "user_agent": "Browser",
    "ip": "IP address",
    "bot": "Looks automated",
    "bot_reason": "Why automated",
    "type": "Type",
}

RESULT_NAMES = {
    "sent": "Sent",
    "temporary": "Temporary failure",
    "permanent": "Permanent failure",
}

SETTING_LABELS = {
    "smtp_url": "SMTP URL (smtp://user:password@host:port)",
    "from": "Sender (From)",
    "reply_to": "Reply-To",
    "return_path_domain": "Bounce domain (VERP)",
    "dkim_selector": "DKIM selector",
    "dkim_domain": "DKIM domain",
    "dkim_private_key": "DKIM private key (PEM)",
    "pool_size": "SMTP connections",
    "ad_prefix": "Advertising subject prefix",
    "list_unsubscribe_mailto": "Unsubscribe mailbox (List-Unsubscribe)",
    "access_key_id": "AccessKey ID",
    "access_key_secret": "AccessKey secret",
    "sign_name": "Signature (签名)",
    "endpoint": "API endpoint",
    "region_id": "Region",
    "region": "Region",
    "daily_limit_per_number": "Messages per number per day",
    "secret_id": "SecretId",
    "secret_key": "SecretKey",
    "sdk_app_id": "SDK AppID",
    "corp_id": "Corp ID",
    "corp_secret": "Application secret",
    "agent_id": "Agent ID",
    "webhook_url": "Robot webhook URL",
    "app_id": "AppID",
    "app_secret": "AppSecret",
    "server_token": "Server Token (令牌)",
    "encoding_aes_key": "EncodingAESKey (消息加解密密钥)",
    "contact_secret": "Customer contact Secret (客户联系 Secret)",
    "callback_token": "Callback Token",
    "callback_aes_key": "Callback EncodingAESKey",
    "previous_encoding_aes_key": "Previous EncodingAESKey (while WeChat switches over)",
    "url": "Target URL",
    "secret": "Signing secret (HMAC-SHA256)",
    "timeout_s": "Timeout (seconds)",
    "allow_private": "Allow private and loopback targets",
}


def local_when(value: datetime | None, zone: ZoneInfo) -> str:
    """A stored (naive UTC) time in the workspace's time zone, to the second."""
    return when(value, zone, seconds=True)


def word(_: Translate, names: dict[str, str], key: str | None) -> str:
    """The translated name of a key, or the key itself when it has none (a newer status)."""
    if not key:
        return "–"
    return _(names[key]) if key in names else key


def reason_words(_: Translate, reason: str | None) -> str:
    """Why a message was not sent, in words."""
    return word(_, SKIP_REASONS, reason) if reason else ""


def history_words(_: Translate, detail: dict[str, Any], zone: ZoneInfo) -> str:
    """One history entry's detail in words: the skip reason or hold explained, then the rest
    as the provider or receipt gave it (an answer leadpond wrote itself in words)."""
    said = []
    if detail.get("reason"):
        said.append(reason_words(_, str(detail["reason"])))
    held = detail.get("held")
    if held in HELD_REASONS:
        until = detail.get("until")
        shown = local_when(datetime.fromisoformat(until), zone) if isinstance(until, str) else "–"
        said.append(_(HELD_REASONS[held]).format(until=shown))
    for key, value in detail.items():
        if key in ("reason", "held", "until"):
            continue
        if key == "result":
            shown = word(_, RESULT_NAMES, str(value))
        elif key == "answer":
            shown = delivery_error_words(_, str(value))
        else:
            shown = _plain(_, value)
        said.append(_("{label}: {value}").format(label=word(_, DETAIL_LABELS, key), value=shown))
    return " · ".join(said)


def _plain(_: Translate, value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)
