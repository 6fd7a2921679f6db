"""``leadpond channel``: set and show each channel's settings, drain the outbox."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from leadpond.channels.bounces_cli import bounces_command
from leadpond.channels.deliverer import Deliverer
from leadpond.channels.models import Channel
from leadpond.channels.settings import get_channel, masked, set_channel
from leadpond.channels.wechat_callback import wechat_callback_url
from leadpond.db import migrate
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import InvalidInput
from leadpond.kit.runtime import tune_for_batches
from leadpond.workspaces.service import find_workspace

channel_app = typer.Typer(
    help="Channels: email, SMS, WeCom, WeChat and webhooks.", no_args_is_help=True
)
set_app = typer.Typer(help="Set a channel's provider and settings.", no_args_is_help=True)
channel_app.add_typer(set_app, name="set")
channel_app.command("bounces")(bounces_command)
console = Console()

WorkspaceOption = Annotated[str, typer.Option(help="Workspace name or id")]
CapOption = Annotated[
    list[str] | None, typer.Option("--cap", help="marketing cap MAX/DAYS, e.g. 2/7 (repeatable)")
]
OnCapOption = Annotated[str, typer.Option(help="wait | drop, when a cap holds")]
QuietOption = Annotated[str | None, typer.Option(help="quiet hours START-END, e.g. 21:00-08:00")]
ZoneOption = Annotated[str, typer.Option(help="time zone of the quiet hours")]
OnQuietOption = Annotated[str, typer.Option(help="wait | drop, inside quiet hours")]


def _limits(
    caps: list[str] | None, on_cap: str, quiet: str | None, zone: str, on_quiet: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    rules = []
    for cap in caps or []:
        most, _, days = cap.partition("/")
        if not (most.strip().isdigit() and days.strip().isdigit()):
            raise InvalidInput(f"--cap {cap!r}: write MAX/DAYS, e.g. 2/7", field="caps")
        rules.append({"max": int(most), "days": int(days)})
    quiet_hours = None
    if quiet:
        start, _, end = quiet.partition("-")
        quiet_hours = {"start": start, "end": end, "time_zone": zone, "on_quiet": on_quiet}
    return {"marketing": rules, "on_cap": on_cap}, quiet_hours


def _store(
    workspace: str,
    channel: Channel,
    provider: str,
    settings: dict[str, Any],
    limits: tuple[dict[str, Any], dict[str, Any] | None],
) -> None:
    migrate.upgrade()
    given = {k: v for k, v in settings.items() if v is not None}
    with unit_of_work() as session:
        found = find_workspace(session, workspace)
        row = set_channel(session, found.id, channel, provider, given, limits[0], limits[1])
        shown = masked(row)
    console.print(f"{channel.value} ({provider}) set for {found.name}")
    typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))


@set_app.command("email")
def set_email(
    workspace: WorkspaceOption,
    smtp_url: Annotated[str, typer.Option(help="smtp://user:pass@host:port or smtps://…")],
    from_: Annotated[str, typer.Option("--from", help='sender, e.g. "名字 <a@b.cn>"')],
    reply_to: Annotated[str | None, typer.Option()] = None,
    return_path_domain: Annotated[str | None, typer.Option(help="VERP bounce domain")] = None,
    dkim_selector: Annotated[str | None, typer.Option()] = None,
    dkim_domain: Annotated[str | None, typer.Option()] = None,
    dkim_key_file: Annotated[Path | None, typer.Option(help="PEM private key")] = None,
    pool_size: Annotated[int, typer.Option(min=1, max=64)] = 4,
    ad_prefix: Annotated[str, typer.Option(help='"", "AD" or "广告"')] = "",
    list_unsubscribe_mailto: Annotated[str | None, typer.Option()] = None,
    cap: CapOption = None,
    on_cap: OnCapOption = "wait",
    quiet: QuietOption = None,
    time_zone: ZoneOption = "Asia/Shanghai",
    on_quiet: OnQuietOption = "wait",
) -> None:
    """Email through an SMTP relay."""
    settings = {
        "smtp_url": smtp_url,
        "from": from_,
        "reply_to": reply_to,
        "return_path_domain": return_path_domain,
        "dkim_selector": dkim_selector,
        "dkim_domain": dkim_domain,
        "dkim_private_key": dkim_key_file.read_text() if dkim_key_file else None,
        "pool_size": pool_size,
        "ad_prefix": ad_prefix,
        "list_unsubscribe_mailto": list_unsubscribe_mailto,
    }
    limits = _limits(cap, on_cap, quiet, time_zone, on_quiet)
    _store(workspace, Channel.EMAIL, "smtp", settings, limits)


@set_app.command("sms")
def set_sms(
    workspace: WorkspaceOption,
    provider: Annotated[str, typer.Option(help="aliyun | tencent")],
    sign_name: Annotated[str, typer.Option(help="the approved signature (签名)")],
    access_key_id: Annotated[str | None, typer.Option(help="aliyun")] = None,
    access_key_secret: Annotated[str | None, typer.Option(help="aliyun")] = None,
    secret_id: Annotated[str | None, typer.Option(help="tencent")] = None,
    secret_key: Annotated[str | None, typer.Option(help="tencent")] = None,
    sdk_app_id: Annotated[str | None, typer.Option(help="tencent")] = None,
    endpoint: Annotated[str | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option(help="region id")] = None,
    daily_limit_per_number: Annotated[int | None, typer.Option(min=1)] = None,
    cap: CapOption = None,
    on_cap: OnCapOption = "wait",
    quiet: QuietOption = None,
    time_zone: ZoneOption = "Asia/Shanghai",
    on_quiet: OnQuietOption = "wait",
) -> None:
    """SMS through Aliyun or Tencent Cloud."""
    settings: dict[str, Any] = {
        "sign_name": sign_name,
        "endpoint": endpoint,
        "daily_limit_per_number": daily_limit_per_number,
    }
    if provider == "aliyun":
        settings.update(
            access_key_id=access_key_id, access_key_secret=access_key_secret, region_id=region
        )
    else:
        settings.update(
            secret_id=secret_id, secret_key=secret_key, sdk_app_id=sdk_app_id, region=region
        )
    limits = _limits(cap, on_cap, quiet, time_zone, on_quiet)
    _store(workspace, Channel.SMS, provider, settings, limits)


@set_app.command("wecom")
def set_wecom(
    workspace: WorkspaceOption,
    provider: Annotated[str, typer.Option(help="app (messages to staff) | robot (a group)")],
    corp_id: Annotated[str | None, typer.Option()] = None,
    corp_secret: Annotated[str | None, typer.Option()] = None,
    agent_id: Annotated[str | None, typer.Option()] = None,
    webhook_url: Annotated[str | None, typer.Option(help="robot: …/webhook/send?key=KEY")] = None,
    endpoint: Annotated[str | None, typer.Option()] = None,
) -> None:
    """WeCom (企业微信): application messages or a group robot."""
    settings: dict[str, Any] = {"webhook_url": webhook_url}
    if provider != "robot":
        settings = {
            "corp_id": corp_id,
            "corp_secret": corp_secret,
            "agent_id": agent_id,
            "endpoint": endpoint,
        }
    _store(workspace, Channel.WECOM, provider, settings, ({}, None))


@set_app.command("wechat")
def set_wechat(
    workspace: WorkspaceOption,
    app_id: Annotated[str, typer.Option()],
    app_secret: Annotated[str, typer.Option()],
    endpoint: Annotated[str | None, typer.Option()] = None,
    server_token: Annotated[
        str | None, typer.Option(help="the Token of the account's server settings (令牌)")
    ] = None,
    encoding_aes_key: Annotated[
        str | None, typer.Option(help="the EncodingAESKey, for safe-mode callbacks")
    ] = None,
    previous_encoding_aes_key: Annotated[
        str | None, typer.Option(help="the key before the last change, still accepted")
    ] = None,
) -> None:
    """WeChat Official Account template messages (service notices) and its server callback."""
    settings = {
        "app_id": app_id,
        "app_secret": app_secret,
        "endpoint": endpoint,
        "server_token": server_token,
        "encoding_aes_key": encoding_aes_key,
        "previous_encoding_aes_key": previous_encoding_aes_key,
    }
    _store(workspace, Channel.WECHAT, "template", settings, ({}, None))
    if server_token:
        with unit_of_work() as session:
            url = wechat_callback_url(session, find_workspace(session, workspace).id)
        typer.echo(f"server address (服务器地址 URL): {url}")


@set_app.command("webhook")
def set_webhook(
    workspace: WorkspaceOption,
    url: Annotated[str, typer.Option()],
    secret: Annotated[str, typer.Option(help="HMAC-SHA256 key, at least 16 characters")],
    timeout_s: Annotated[float | None, typer.Option()] = None,
    allow_private: Annotated[
        bool, typer.Option("--allow-private", help="allow loopback and private targets")
    ] = False,
) -> None:
    """Signed JSON to an HTTP endpoint."""
    settings = {
        "url": url,
        "secret": secret,
        "timeout_s": timeout_s,
        "allow_private": allow_private,
    }
    _store(workspace, Channel.WEBHOOK, "http", settings, ({}, None))


@channel_app.command("show")
def show(workspace: WorkspaceOption) -> None:
    """Every channel's provider and settings (secrets as ••••)."""
    migrate.upgrade()
    shown: dict[str, Any] = {}
    with read_only() as session:
        found = find_workspace(session, workspace)
        for channel in Channel:
            row = get_channel(session, found.id, channel)
            shown[channel.value] = (
                "not configured"
                if row is None
                else {
                    "provider": row.provider,
                    "enabled": row.enabled,
                    "settings": masked(row),
                    "caps": row.caps,
                    "quiet_hours": row.quiet_hours,
                }
            )
    typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))


@channel_app.command("deliver")
def deliver(
    workspace: Annotated[str | None, typer.Option(help="Only this workspace (name or id)")] = None,
) -> None:
    """Deliver every message due now, then exit (the worker does this continuously)."""
    migrate.upgrade()
    workspace_id = None
    if workspace is not None:
        with read_only() as session:
            workspace_id = find_workspace(session, workspace).id
    deliverer = Deliverer(workspace_id=workspace_id)
    tune_for_batches()
    try:
        handled = deliverer.run_pending()
    finally:
        deliverer.close()
    console.print(f"{handled} message(s) handled")
