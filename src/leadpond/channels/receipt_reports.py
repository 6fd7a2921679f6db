"""SMS delivery receipts as the providers push them, read into one shape.

Aliyun (SmsReport HTTP push) and Tencent (status callback) both POST a JSON array, one object
per message; ``biz_id`` / ``sid`` is the provider id the send answered with (``BizId`` /
``SerialNo``). Entries that are not objects or carry no id are left out: a provider retries a
whole batch it thinks failed, so one odd entry must not make it resend the rest.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Receipt:
    """One delivery receipt: which message (by provider id), whether it arrived, and why."""

    provider_id: str
    delivered: bool
    detail: dict[str, Any]


def aliyun_receipts(reports: Iterable[Any]) -> list[Receipt]:
    """Receipts of an Aliyun SmsReport push (``success``, ``err_code``, ``biz_id``…)."""
    receipts = []
    for report in _objects(reports):
        biz_id = report.get("biz_id")
        if not biz_id:
            continue
        detail = _picked(report, "err_code", "err_msg", "report_time", "out_id", "sms_size")
        delivered = report.get("success") is True or str(report.get("success")).lower() == "true"
        receipts.append(Receipt(str(biz_id), delivered, detail))
    return receipts


def tencent_receipts(reports: Iterable[Any]) -> list[Receipt]:
    """Receipts of a Tencent status callback (``report_status``, ``errmsg``, ``sid``…)."""
    receipts = []
    for report in _objects(reports):
        sid = report.get("sid")
        if not sid:
            continue
        detail = _picked(report, "report_status", "errmsg", "description", "user_receive_time")
        delivered = str(report.get("report_status", "")).upper() == "SUCCESS"
        receipts.append(Receipt(str(sid), delivered, detail))
    return receipts


# What each provider's push is read with, and the answer it expects back.
RECEIPT_READERS: dict[str, Callable[[Iterable[Any]], list[Receipt]]] = {
    "aliyun": aliyun_receipts,
    "tencent": tencent_receipts,
}
ACKNOWLEDGEMENTS: dict[str, dict[str, Any]] = {
    # Aliyun checks only that ``code`` is a number.
    "aliyun": {"code": 0, "msg": "接收成功"},
    "tencent": {"result": 0, "errmsg": "OK"},
}


def _objects(reports: Iterable[Any]) -> Iterable[dict[str, Any]]:
    return (report for report in reports if isinstance(report, dict))


def _picked(report: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: report[name] for name in names if report.get(name) not in (None, "")}
