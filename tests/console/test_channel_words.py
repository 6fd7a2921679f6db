"""The channel screens' words and forms without a browser: every name, reason and label has its
Chinese, every setting of every provider has a label, the form's inputs follow the settings
schemas, and times are shown in Beijing time."""

from datetime import datetime
from zoneinfo import ZoneInfo

from leadpond.channels.models import SKIP_REASONS, Channel, MessageStatus
from leadpond.channels.settings import SCHEMAS, SmtpSettings
from leadpond.console.i18n import catalog, translator
from leadpond.console.pages import channels_words as words
from leadpond.console.pages.channel_names import NO_SENDER_WORDS
from leadpond.console.pages.channels_form import (
    CAP_LABELS,
    ON_HOLD,
    QUIET_LABELS,
    caps_document,
    setting_fields,
    settings_document,
)


def test_every_channel_word_is_translated_to_chinese() -> None:
    texts = [
        *words.CHANNEL_NAMES.values(),
        *words.PROVIDER_NAMES.values(),
        *words.PURPOSE_NAMES.values(),
        *words.EVENT_NAMES.values(),
        *words.SKIP_REASONS.values(),
        *words.HELD_REASONS.values(),
        *words.TEST_RESULTS.values(),
        *words.SETTING_LABELS.values(),
        *words.DETAIL_LABELS.values(),
        *words.RESULT_NAMES.values(),
        "yes",
        "no",
        *ON_HOLD.values(),
        *QUIET_LABELS.values(),
        *CAP_LABELS.values(),
        NO_SENDER_WORDS,
        # Used inside f-strings, which the extraction in test_catalogs.py does not read.
        "Caps",
        "none",
        "Provider id",
        "Provider answer",
        "Changed",
        "Quiet hours",
    ]
    chinese = catalog("zh_CN")
    assert sorted(t for t in texts if t not in chinese) == []


def test_every_channel_status_reason_and_provider_has_words() -> None:
    assert set(words.CHANNEL_NAMES) == {c.value for c in Channel}
    assert set(words.STATUS_NAMES) == {s.value for s in MessageStatus}
    assert set(words.SKIP_REASONS) == set(SKIP_REASONS)
    assert set(words.PROVIDER_NAMES) == {provider for _channel, provider in SCHEMAS}
    fields = {f.key for channel, provider in SCHEMAS for f in setting_fields(channel, provider)}
    assert sorted(fields - set(words.SETTING_LABELS)) == []


SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_skip_reason_and_a_hold_read_as_sentences() -> None:
    zh = translator("zh_CN")
    assert words.reason_words(zh, "no_consent").startswith("未发送：此渠道需要此人的同意")
    assert words.reason_words(zh, None) == ""
    held = {"held": "quiet_hours", "until": "2026-12-07T13:00:00"}
    assert (
        words.history_words(zh, held, SHANGHAI) == "等待中：免打扰时段持续到 2026-12-07 21:00:00。"
    )
    sent = {"result": "sent", "provider_id": "Q1", "bot": False, "custom": 3}
    assert words.history_words(translator("en"), sent, SHANGHAI) == (
        "Result: Sent · Provider id: Q1 · Looks automated: no · custom: 3"
    )
    assert (
        words.history_words(zh, sent, SHANGHAI)
        == "结果：已发送 · 服务商消息 ID：Q1 · 疑似自动访问：否 · custom：3"
    )
    assert words.word(zh, words.STATUS_NAMES, "a_newer_status") == "a_newer_status"


def test_times_are_shown_in_the_workspace_zone() -> None:
    assert words.local_when(datetime(2026, 12, 6, 16, 30), SHANGHAI) == "2026-12-07 00:30:00"
    assert words.local_when(datetime(2026, 12, 6, 16, 30), ZoneInfo("UTC")) == "2026-12-06 16:30:00"
    assert words.local_when(None, SHANGHAI) == "–"


def test_the_email_form_follows_the_smtp_schema() -> None:
    fields = {f.key: f for f in setting_fields("email", "smtp")}
    assert list(fields) == [f.alias or name for name, f in SmtpSettings.model_fields.items()]
    assert fields["from"].required and fields["smtp_url"].kind == "text"
    assert fields["dkim_private_key"].kind == "multiline"
    assert fields["pool_size"].kind == "integer" and fields["pool_size"].default == 4
    assert fields["ad_prefix"].choices == ("", "AD", "广告")
    secret = {f.key: f.kind for f in setting_fields("webhook", "http")}
    assert secret == {
        "url": "text",
        "secret": "secret",
        "timeout_s": "decimal",
        "allow_private": "switch",
    }


def test_typed_values_become_the_settings_document() -> None:
    fields = setting_fields("email", "smtp")
    typed = {
        "smtp_url": "smtp://h:25",
        "from": "a@b.cn",
        "reply_to": "",
        "pool_size": 8.0,
        "ad_prefix": "",
    }
    assert settings_document(fields, typed) == {
        "smtp_url": "smtp://h:25",
        "from": "a@b.cn",
        "pool_size": 8,
        "ad_prefix": "",
    }
    assert caps_document([(2.0, 7.0), (None, None), (0, "")], "drop") == {
        "marketing": [{"max": 2, "days": 7}, {"max": 0, "days": ""}],
        "on_cap": "drop",
    }
