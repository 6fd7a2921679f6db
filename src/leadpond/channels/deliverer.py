"""The deliverer: claims due messages, decides and renders them, hands them to their providers in
sub-batches and records the answers. A thread of ``leadpond worker`` / ``leadpond serve``, and
``leadpond channel deliver`` (drain once).

The kinds of transaction, in order (docs/channels.md, "Kill -9"):
1. claim: due rows become ``sending`` under a lease; then, in a read transaction, the batch is
   decided and rendered, and the decisions are written (skipped / held rows, addresses);
2. per sub-batch, commit ``handed_at``, then call the sender (outside any transaction);
3. record the outcomes and clear ``handed_at`` (with the next sub-batch's hand-over).
The next batch is claimed and decided while the last one is being sent.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from queue import Empty, SimpleQueue
from typing import Any, NamedTuple

from leadpond.channels import outbox
from leadpond.channels.links import Links
from leadpond.channels.models import ChannelSettings
from leadpond.channels.prepare import Preparation, decide, record
from leadpond.channels.registry import NO_SENDER, SENDERS, SenderFactory
from leadpond.channels.sender_process import OUT_OF_PROCESS, ProcessSender
from leadpond.channels.senders.base import Outcome, Outgoing, Result, Sender
from leadpond.config import get_settings
from leadpond.db.engine import read_only, unit_of_work
from leadpond.db.wakeup import OUTBOX
from leadpond.kit.clock import utcnow

log = logging.getLogger(__name__)

# Messages per hand-over: one SMTP connection's or one HTTP call's worth. A deliverer killed
# mid-way leaves at most (parallel hand-overs × this) messages in doubt.
SUB_BATCH = 20

# (workspace, channel): the settings row's provider and when it changed, and its sender.
_SenderKey = tuple[uuid.UUID, str]


class Deliverer:
    """Delivers due messages until stopped; ``run_pending`` drains what is due now."""

    def __init__(
        self,
        url: str | None = None,
        *,
        lease_s: float | None = None,
        batch_size: int | None = None,
        senders: Mapping[tuple[str, str], SenderFactory] | None = None,
        clock: Callable[[], datetime] = utcnow,
        workspace_id: uuid.UUID | None = None,
    ) -> None:
        settings = get_settings()
        self.url = url
        self.lease_s = lease_s if lease_s is not None else settings.channels_lease_s
        self.batch_size = batch_size or settings.channels_batch_size
        self.factories = dict(senders) if senders is not None else SENDERS
        # Registry senders that are worth it run in a child process (sender_process.py).
        self.out_of_process = senders is None and settings.channels_sender_process
        self.clock = clock
        # Only this workspace's messages (``leadpond channel deliver --workspace``, tests).
        self.workspace_id = workspace_id
        self.name = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._senders: dict[_SenderKey, tuple[Any, Sender]] = {}
        self._stop = threading.Event()
        self._retired: list[Sender] = []  # senders replaced after their settings changed

    def deliver_once(self) -> int:
        """Claim one batch and deliver it; returns how many messages it held (0: none due)."""
        claimed = self._claim()
        self._deliver(claimed)
        self._close_retired()
        return claimed.size

    def _claim(self) -> "_Claimed":
        """Claim a batch, decide and render it; what is left is to send.

        Three transactions, so the write lock (SQLite has one writer) is never held while the
        batch is decided and rendered: the claim; the reads and decisions, in a read
        transaction; and the decisions written. A deliverer killed in between leaves claimed
        rows that nobody handed over: their lease lapses and they are claimed again."""
        with unit_of_work(self.url) as session:
            now = self.clock()
            claimed = outbox.claim(
                session, self.name, self.lease_s, self.batch_size, now, self.workspace_id
            )
            # Each workspace's signing key, created here if it is the first message ever.
            links = {ws: Links.ready(session, ws) for ws in {m.workspace_id for m in claimed}}
        if not claimed:
            return _Claimed(0, [])
        groups: dict[_SenderKey, list[Outgoing]] = {}
        with read_only(self.url) as session:
            batch = Preparation(session, now, links=links)
            batch.load(claimed)
            decisions = [(message, decide(batch, message)) for message in claimed]
            for message, decision in decisions:
                if isinstance(decision, Outgoing):
                    key = (message.workspace_id, message.channel)
                    groups.setdefault(key, []).append(decision)
            senders = {key: self._sender(batch.settings[key]) for key in groups}
        with unit_of_work(self.url) as session:
            record(session, decisions, now)
        return _Claimed(len(claimed), [(*senders[key], out) for key, out in groups.items()])

    def _deliver(self, claimed: "_Claimed") -> None:
        for sender, parallel, outgoing in claimed.sends:
            self._hand_over(sender, parallel, outgoing)

    def _drain(self, until_idle: bool) -> int:
        """Deliver batch after batch; the next batch is claimed and rendered while the last one
        is being sent. Returns how many messages were handled.

        The batch being prepared counts the messages of the one being sent (claimed, not yet
        recorded) as in flight for frequency caps (prepare.py), as it does another deliverer's."""
        handled = 0
        idle = get_settings().channels_idle_sleep_s
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadpond-send") as sending:
            last: Future[None] | None = None
            try:
                while not self._stop.is_set():
                    # Taken before the claim: a message queued after it rings past the mark.
                    mark = OUTBOX.mark()
                    try:
                        claimed = self._claim()
                    except Exception:
                        if until_idle:
                            raise
                        log.exception("claiming messages failed; retrying after a pause")
                        self._stop.wait(1.0)
                        continue
                    was_sending = last is not None
                    self._settled(last, until_idle)
                    last = None
                    if claimed.size == 0:
                        if was_sending:
                            continue  # what it sent may have left retries due now: look again
                        if until_idle:
                            break
                        OUTBOX.wait(mark, idle)  # a queued message rings it (db/wakeup.py)
                        continue
                    handled += claimed.size
                    last = sending.submit(self._deliver, claimed)
            finally:
                self._settled(last, until_idle)
        return handled

    def _settled(self, sending: "Future[None] | None", until_idle: bool) -> None:
        """Wait for the batch being sent; its failure is raised (draining) or logged (loop)."""
        if sending is None:
            return
        try:
            sending.result()
        except Exception:
            if until_idle:
                raise
            log.exception("channels delivery failed")
        finally:
            self._close_retired()

    def _sender(self, settings: ChannelSettings | None) -> tuple[Sender | str, int]:
        """The channel's sender (kept while its settings are unchanged), or why there is none
        (``NO_SENDER``), and how many hand-overs may run at once (the SMTP pool's size)."""
        assert settings is not None  # decide() skipped every message of an unset channel
        version = (settings.provider, settings.updated_at)
        key = (settings.workspace_id, settings.channel)
        parallel = int(settings.settings.get("pool_size", 1))
        known = self._senders.get(key)
        if known is not None and known[0] == version:
            return known[1], parallel
        if known is not None:
            # Closed once the batch being sent (which may use it) is settled.
            self._retired.append(known[1])
            del self._senders[key]
        provider = (settings.channel, settings.provider)
        factory = self.factories.get(provider)
        if factory is None:
            return NO_SENDER.format(channel=settings.channel, provider=settings.provider), parallel
        sender: Sender
        if self.out_of_process and provider in OUT_OF_PROCESS:
            sender = ProcessSender(*provider, dict(settings.settings), parallel)
        else:
            sender = factory(dict(settings.settings))
        self._senders[key] = (version, sender)
        return sender, parallel

    def _hand_over(self, sender: Sender | str, parallel: int, ready: list[Outgoing]) -> None:
        chunks = [ready[i : i + SUB_BATCH] for i in range(0, len(ready), SUB_BATCH)]
        if isinstance(sender, str):  # no sender: each message fails, saying why
            for chunk in chunks:
                self._settle(
                    [Outcome(m.message_id, Result.PERMANENT, detail=sender) for m in chunk], []
                )
            return
        queue: SimpleQueue[list[Outgoing]] = SimpleQueue()
        for chunk in chunks:
            queue.put(chunk)
        lanes = min(max(parallel, 1), len(chunks))
        if lanes == 1:
            self._lane(sender, queue)
            return
        with ThreadPoolExecutor(max_workers=lanes) as pool:
            for lane in [pool.submit(self._lane, sender, queue) for _ in range(lanes)]:
                lane.result()

    def _lane(self, sender: Sender, queue: "SimpleQueue[list[Outgoing]]") -> None:
        """Send sub-batches one after the other over one of the sender's connections. Each
        transaction records the last sub-batch's outcomes and hands over the next one (one
        commit per sub-batch, not two); the hand-over is committed before the send."""
        outcomes: list[Outcome] = []
        doubts: list[Outgoing] = []
        why = ""
        while True:
            try:
                chunk = queue.get_nowait()
            except Empty:
                break
            chunk = self._settle(outcomes, doubts, why, chunk)
            outcomes, doubts = [], []
            if not chunk:
                continue
            try:
                outcomes = sender.send(chunk)
            except Exception as exc:  # a sender must not raise; if one does, some may have left
                log.exception("sender %s raised", type(sender).__name__)
                doubts, why = chunk, f"{type(exc).__name__}: {exc}"
                continue
            outcomes = _answered(chunk, outcomes)
        if outcomes or doubts:
            self._settle(outcomes, doubts, why)

    def _settle(
        self,
        outcomes: list[Outcome],
        doubts: list[Outgoing],
        why: str = "",
        chunk: list[Outgoing] | None = None,
    ) -> list[Outgoing]:
        """In one transaction: record ``outcomes``; put ``doubts`` (handed to a sender that
        raised: some may have left) in doubt; and hand over ``chunk``, returning the part this
        deliverer may send (the others were claimed again meanwhile: whoever holds them now
        sends them, once)."""
        with unit_of_work(self.url) as session:
            now = self.clock()
            if outcomes:
                outbox.record_outcomes(session, self.name, outcomes, now)
            if doubts:
                outbox.abandon(session, self.name, [m.message_id for m in doubts], why, now)
            if not chunk:
                return []
            ids = [m.message_id for m in chunk]
            mine = outbox.hand_over(session, self.name, ids, now, self.lease_s)
        return [m for m in chunk if m.message_id in mine]

    def run_pending(self) -> int:
        """Deliver everything due now; returns how many messages were handled."""
        return self._drain(until_idle=True)

    def run(self) -> None:
        """Deliver until stopped, pausing when nothing is due."""
        log.info("channels deliverer started")
        try:
            self._drain(until_idle=False)
        finally:
            self.close()

    def close(self) -> None:
        """Close every sender's connections."""
        for _, sender in self._senders.values():
            sender.close()
        self._senders.clear()
        self._close_retired()

    def _close_retired(self) -> None:
        while self._retired:
            self._retired.pop().close()

    def stop(self) -> None:
        """Ask the loop to end after its current batch."""
        self._stop.set()
        OUTBOX.ring()  # ends its wait between polls

    def start_thread(self) -> threading.Thread:
        """Run the loop in a daemon thread."""
        thread = threading.Thread(target=self.run, name="leadpond-deliverer", daemon=True)
        thread.start()
        return thread


class _Claimed(NamedTuple):
    """A claimed batch, decided and rendered: how many messages, and per channel its sender
    (or why it has none), how many hand-overs may run at once, and the messages to send."""

    size: int
    sends: list[tuple[Sender | str, int, list[Outgoing]]]


def _answered(chunk: list[Outgoing], outcomes: list[Outcome]) -> list[Outcome]:
    """The sender's outcomes, and a temporary failure for each message it did not answer."""
    answered = {o.message_id for o in outcomes}
    return outcomes + [
        Outcome(m.message_id, Result.TEMPORARY, detail="the sender gave no outcome")
        for m in chunk
        if m.message_id not in answered
    ]
