"""Email: personalised, tracked emails per second to a loopback SMTP sink (aiosmtpd, its own
process), through the whole outbox path: queued rows of real people (traits, a primary account)
are claimed by the deliverer, checked (consent, suppression, caps), rendered (sandboxed Jinja2),
composed (CSS inlined, links signed, pixel, one-click headers), handed over through the SMTP pool,
and their outcomes, histories and ``Email Sent`` events recorded.

Baseline: a bare aiosmtplib send loop of the same messages, prebuilt, over as many connections
as the pool, in the same run. The render + MIME + pool stage alone is reported too, as detail.
"""

import asyncio
import time
import uuid
from typing import Any

import aiosmtplib
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from tests.channels.smtp_sink import sink_process

from benchmarks.common import Context, Result, new_workspace, scratch_database
from leadpond.accounts.models import Account, PersonAccount
from leadpond.channels.deliverer import Deliverer
from leadpond.channels.email_mime import Composed, EmailComposer
from leadpond.channels.models import Message
from leadpond.channels.schemas import TemplateCreate
from leadpond.channels.senders.base import Outgoing
from leadpond.channels.senders.email import SmtpSender
from leadpond.channels.service import create_template, send
from leadpond.channels.settings import set_channel
from leadpond.db.engine import unit_of_work
from leadpond.identity.models import Identifier
from leadpond.kit.clock import utcnow
from leadpond.profiles.models import Person
from leadpond.workspaces.signing import signer

NAME = "channels_email"
TARGET_PER_S = 1_000
TARGET_RATIO = 0.5
POOL_SIZE = 4
SUB_BATCH = 20  # messages per connection per hand-over (contract: ≤ 20)
PUBLIC = "https://lp.example.cn"

SUBJECT = "{{ person.traits.name | default('您好') }}，{{ account.name }} 的新品发布会邀请"
BODY = """<html><head><style>
body { font-family: -apple-system, "PingFang SC", sans-serif; color: #1f2328; }
p { line-height: 1.6; margin: 0 0 12px; }
.cta { background: #0969da; color: #fff; padding: 10px 16px; }
.foot { color: #57606a; font-size: 12px; }
</style></head><body>
<p>{{ person.traits.name | default('您好') }}，</p>
<p>感谢 {{ account.name }} 一直以来的支持。我们将于下周举办新品发布会，诚邀您参加。</p>
<p><a class="cta" href="https://acme.cn/events/launch?c={{ person.id }}">立即报名</a></p>
<p>了解更多：<a href="https://acme.cn/blog/launch">产品博客</a> ·
<a href="https://acme.cn/cases">客户案例</a> · <a href="mailto:sales@acme.cn">联系销售</a></p>
<p class="foot">不想再收到此类邮件？<a href="{{ unsubscribe_url }}">退订</a></p>
</body></html>"""
SETTINGS = {
    "from": "艾克米科技 <news@acme.cn>",
    "pool_size": POOL_SIZE,
    "ad_prefix": "AD",
    "return_path_domain": "bounce.acme.cn",
    "list_unsubscribe_mailto": "unsubscribe@acme.cn",
}


def _people(count: int) -> list[dict[str, Any]]:
    surnames, companies = "王李张刘陈杨赵黄周吴", ("云帆科技", "星河数据", "远山制造", "青禾软件")
    return [
        {
            "id": 1_000 + i,
            "traits": {"name": f"{surnames[i % 10]}经理{i}", "email": f"buyer{i}@example.cn"},
            "account": {"name": companies[i % 4]},
        }
        for i in range(count)
    ]


def render_stage(
    people: list[dict[str, Any]], workspace_id: uuid.UUID, signers: dict[str, Any]
) -> list[Outgoing]:
    """What core's render step does per message: Jinja2 (sandboxed), signed links."""
    env = SandboxedEnvironment(autoescape=True)
    subject, body = env.from_string(SUBJECT), env.from_string(BODY)
    rendered = []
    for message_id, person in enumerate(people, start=1):
        unsubscribe = f"{PUBLIC}/u/" + signers["unsubscribe"](
            {"m": message_id, "p": person["id"], "c": "email"}
        )
        variables = {"person": person, "account": person["account"], "unsubscribe_url": unsubscribe}
        rendered.append(
            Outgoing(
                message_id=message_id,
                workspace_id=workspace_id,
                idempotency_key=f"bench:{message_id}",
                address=person["traits"]["email"],
                subject=subject.render(variables),
                body=body.render(variables),
                extra={
                    "marketing": True,
                    "unsubscribe_url": unsubscribe,
                    "open_pixel_url": f"{PUBLIC}/t/o/{signers['open']({'m': message_id})}.gif",
                    "click_base_url": f"{PUBLIC}/t/c/",
                    "click_signer": signers["click"],
                },
            )
        )
    return rendered


def _populate(workspace_id: uuid.UUID, people: list[dict[str, Any]], port: int) -> list[int]:
    """The people (traits, their email identifier and a primary account each, as identity
    resolution leaves them), the email channel and the template."""
    now = utcnow()
    with unit_of_work() as session:
        accounts = {}
        for name in sorted({p["account"]["name"] for p in people}):
            accounts[name] = Account(workspace_id=workspace_id, name=name)
            session.add(accounts[name])
        rows = [Person(workspace_id=workspace_id, traits=p["traits"]) for p in people]
        session.add_all(rows)
        session.flush()
        session.add_all(
            Identifier(
                workspace_id=workspace_id,
                type="email",
                value=p["traits"]["email"],
                person_id=row.id,
                first_seen_at=now,
            )
            for row, p in zip(rows, people, strict=True)
        )
        session.add_all(
            PersonAccount(
                workspace_id=workspace_id,
                person_id=row.id,
                account_id=accounts[p["account"]["name"]].id,
                is_primary=True,
                source="bench",
                first_seen_at=now,
                last_seen_at=now,
            )
            for row, p in zip(rows, people, strict=True)
        )
        set_channel(
            session,
            workspace_id,
            "email",
            "smtp",
            {**SETTINGS, "smtp_url": f"smtp://127.0.0.1:{port}"},
        )
        create_template(
            session,
            workspace_id,
            TemplateCreate(key="launch", channel="email", subject=SUBJECT, body=BODY),
        )
        return [row.id for row in rows]


def outbox_run(workspace_id: uuid.UUID, person_ids: list[int]) -> dict[str, Any]:
    """Queue a send per person (one transaction), then time the deliverer draining them."""
    started = time.perf_counter()
    with unit_of_work() as session:
        for pid in person_ids:
            send(session, workspace_id, "email", "launch", pid, f"bench:{pid}")
    queued_s = time.perf_counter() - started
    deliverer = Deliverer(workspace_id=workspace_id)
    started = time.perf_counter()
    try:
        handled = deliverer.run_pending()
    finally:
        deliverer.close()
    seconds = time.perf_counter() - started
    with unit_of_work() as session:
        statuses = dict(
            session.execute(
                select(Message.status, func.count())
                .where(Message.workspace_id == workspace_id)
                .group_by(Message.status)
            ).all()
        )
    return {
        "seconds": seconds,
        "queued_s": queued_s,
        "handled": handled,
        "sent": statuses.get("sent", 0),
        "statuses": statuses,
    }


def leadpond_run(
    people: list[dict[str, Any]], workspace_id: uuid.UUID, port: int
) -> dict[str, Any]:
    """Render, compose and send every message in the deliverer's batches; seconds and counts."""
    with unit_of_work() as session:
        signers = {p: signer(session, workspace_id, p) for p in ("open", "click", "unsubscribe")}
    sender = SmtpSender({**SETTINGS, "smtp_url": f"smtp://127.0.0.1:{port}"})
    batch, sent = POOL_SIZE * SUB_BATCH, 0
    started = time.perf_counter()
    try:
        for at in range(0, len(people), batch):
            messages = render_stage(people[at : at + batch], workspace_id, signers)
            sent += sum(o.result == "sent" for o in sender.send(messages))
    finally:
        sender.close()
    return {"seconds": time.perf_counter() - started, "sent": sent}


def prebuilt(people: list[dict[str, Any]], workspace_id: uuid.UUID) -> list[Composed]:
    """The same messages, rendered and composed ahead (for the bare loop)."""
    signers = {p: (lambda data, p=p: f"{p}-{data['m']}") for p in ("open", "click", "unsubscribe")}
    composer = EmailComposer({**SETTINGS, "smtp_url": "smtp://127.0.0.1"})
    return [composer.compose(m) for m in render_stage(people, workspace_id, signers)]


def bare_run(messages: list[Composed], port: int) -> dict[str, Any]:
    """aiosmtplib ``sendmail`` in a loop per connection, as many connections as the pool."""

    async def lane(share: list[Composed]) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        for message in share:
            await client.sendmail(message.envelope_from, [message.recipient], message.data)
        await client.quit()

    async def all_lanes() -> None:
        await asyncio.gather(*(lane(messages[i::POOL_SIZE]) for i in range(POOL_SIZE)))

    started = time.perf_counter()
    asyncio.run(all_lanes())
    return {"seconds": time.perf_counter() - started, "sent": len(messages)}


def run(ctx: Context) -> list[Result]:
    """Leadpond's path and the bare loop, against the same sink, in the same run."""
    count = 20_000 if ctx.large else 5_000
    people = _people(count)
    with scratch_database(ctx, NAME) as url, sink_process(ctx.scratch) as (port, log):
        workspace_id = new_workspace(url, NAME).workspace_id
        person_ids = _populate(workspace_id, people, port)
        bare_messages = prebuilt(people, workspace_id)
        bare_run(bare_messages[:200], port)  # warm both sides up
        received_before = sum(1 for _ in log.open())
        ours = outbox_run(workspace_id, person_ids)
        time.sleep(0.2)
        received = sum(1 for _ in log.open()) - received_before
        stage = leadpond_run(people, workspace_id, port)
        bare = bare_run(bare_messages, port)
    rate = ours["sent"] / ours["seconds"]
    bare_rate = bare["sent"] / bare["seconds"]
    ratio = rate / bare_rate
    return [
        Result(
            name=NAME,
            metric="personalised tracked emails per second through the outbox",
            unit="messages/s",
            leadpond=rate,
            baseline_name="bare aiosmtplib loop, same messages prebuilt",
            baseline=bare_rate,
            ratio=round(ratio, 3),
            target=f">= {TARGET_PER_S:,}/s and >= {TARGET_RATIO} of the bare loop",
            passed=rate >= TARGET_PER_S and ratio >= TARGET_RATIO,
            details={
                "messages": count,
                "sent": ours["sent"],
                "received_by_sink": received,
                "pool_size": POOL_SIZE,
                "statuses": ours["statuses"],
                "outbox_s": round(ours["seconds"], 2),
                "queue_per_s": round(count / ours["queued_s"]),
                "render_mime_pool_per_s": round(stage["sent"] / stage["seconds"]),
                "bare_s": round(bare["seconds"], 2),
            },
        )
    ]
