"""Send the six Segment calls through a real SDK, unchanged, and print what was sent as JSON.

Run as a separate process (``python sdk_client.py segment|rudder HOST WRITE_KEY RUN_ID [--gzip]``,
without ``--gzip`` the SDK's own default applies)
so that each SDK version is imported on its own ``PYTHONPATH``: the test puts an older
segment-analytics-python ahead of the installed one to drive both. Imports nothing of leadpond.
"""

import argparse
import json
import sys
from typing import Any


def _client(sdk: str, host: str, write_key: str, gzip: bool, errors: list[str]) -> tuple[Any, str]:
    def on_error(error: Exception, batch: list[dict[str, Any]]) -> None:
        errors.append(f"{type(error).__name__}: {error} ({len(batch)} messages)")

    options: dict[str, Any] = {
        "host": host,
        "on_error": on_error,
        "max_retries": 1,
        "upload_interval": 0.05,
    }
    if gzip:
        options["gzip"] = True
    if sdk == "segment":
        from segment.analytics.client import Client as SegmentClient
        from segment.analytics.version import VERSION as SEGMENT_VERSION

        return SegmentClient(write_key, **options), SEGMENT_VERSION
    from rudderstack.analytics.client import Client as RudderClient
    from rudderstack.analytics.version import VERSION as RUDDER_VERSION

    return RudderClient(write_key, **options), RUDDER_VERSION


def send_all(client: Any, run_id: str) -> list[dict[str, Any]]:
    """identify, track, page, screen, group, alias: all about one person, in Chinese."""
    user_id, anonymous_id, group_id = f"u-{run_id}", f"anon-{run_id}", f"org-{run_id}"
    context = {
        "locale": "zh-CN",
        "ip": "203.0.113.7",
        "campaign": {"name": "春季新品发布会", "source": "微信公众号"},
    }
    calls: list[tuple[bool, dict[str, Any]]] = [
        client.identify(
            user_id=user_id,
            anonymous_id=anonymous_id,
            traits={
                "name": "王小明",
                "email": f"wang.{run_id}@yunchi.cn",
                "company": "上海云池科技有限公司",
                "title": "市场总监",
            },
            context=dict(context),
        ),
        client.track(
            user_id=user_id,
            event="下载白皮书",
            properties={"title": "2026 中国 B2B 营销白皮书", "pages": 42, "free": True},
            context=dict(context),
        ),
        client.page(
            anonymous_id=anonymous_id,
            category="产品",
            name="定价",
            properties={"url": "https://yunchi.cn/pricing?活动=春季", "path": "/pricing"},
            context=dict(context),
        ),
        client.screen(
            user_id=user_id, name="首页", properties={"tab": "推荐"}, context=dict(context)
        ),
        client.group(
            user_id=user_id,
            group_id=group_id,
            traits={"name": "上海云池科技有限公司", "employees": 250, "industry": "软件"},
            context=dict(context),
        ),
        client.alias(previous_id=anonymous_id, user_id=user_id, context=dict(context)),
    ]
    return [message for _queued, message in calls]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sdk", choices=["segment", "rudder"])
    parser.add_argument("host")
    parser.add_argument("write_key")
    parser.add_argument("run_id")
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    errors: list[str] = []
    client, version = _client(args.sdk, args.host, args.write_key, args.gzip, errors)
    sent = send_all(client, args.run_id)
    client.flush()
    client.join()
    json.dump({"version": version, "sent": sent, "errors": errors}, sys.stdout, default=str)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
