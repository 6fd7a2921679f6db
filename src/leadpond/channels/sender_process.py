"""A sender in a process of its own, so composing and sending email does not share one
interpreter (one GIL) with claiming, deciding, rendering and recording.

The deliverer hands a sub-batch over (committed) and then calls :meth:`ProcessSender.send`,
which passes the messages down one pipe per lane and waits for the outcomes; in the child, one
thread per lane calls the real sender (:data:`~leadpond.channels.registry.SENDERS`) with the
same settings. Nothing else changes hands: the child never touches the database.

Failure keeps the deliverer's rules (docs/channels.md, "Kill -9"): if the child dies during a
send, :meth:`send` raises and the deliverer puts that sub-batch in doubt, as for a sender that
raised; the next send starts a new child. If the deliverer dies, every pipe closes, the child's
lanes read end-of-file and the child exits after the message it is on.
"""

import logging
import multiprocessing
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from queue import Queue
from typing import Any

from leadpond.channels.registry import SENDERS
from leadpond.channels.senders.base import Outcome, Outgoing
from leadpond.kit.runtime import tune_for_batches

log = logging.getLogger(__name__)

# The providers worth a process: the CPU of a send is ours (MIME, CSS, link signing, the
# SMTP dialogue), not a remote API's latency.
OUT_OF_PROCESS = frozenset({("email", "smtp")})

# A fork server forks each child from a clean process that imported the senders once: cheap to
# start, and no copy of the deliverer's threads, locks or database connections.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["leadpond.channels.registry"])


class SenderGone(RuntimeError):
    """The sender's process ended during a send: some of the messages may have left."""


class ProcessSender:
    """A :class:`~leadpond.channels.senders.base.Sender` whose work runs in a child process,
    with ``lanes`` sends at once (the SMTP pool's size)."""

    def __init__(self, channel: str, provider: str, settings: dict[str, Any], lanes: int) -> None:
        self.channel, self.provider, self.settings = channel, provider, dict(settings)
        self.lanes = max(1, lanes)
        self._lock = threading.Lock()
        self._process: Any = None
        # The lanes nobody is sending on, each with the generation of the child it leads to.
        self._free: Queue[tuple[int, Connection]] = Queue()
        self._generation = 0

    def send(self, messages: Sequence[Outgoing]) -> list[Outcome]:
        """The outcomes of ``messages``, sent by the child over one of its lanes."""
        generation, pipe = self._take()
        try:
            pipe.send(list(messages))
            outcomes: list[Outcome] = pipe.recv()
        except (EOFError, OSError) as exc:
            self._lost(generation)
            raise SenderGone(f"the {self.channel} sender's process ended: {exc}") from exc
        self._give_back(generation, pipe)
        return outcomes

    def close(self) -> None:
        """End the child: each lane reads end-of-file, closes its connections and exits."""
        with self._lock:
            process, self._process = self._process, None
            self._generation += 1
            pipes = self._drain()
        for pipe in pipes:
            pipe.close()
        if process is not None:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()

    def _take(self) -> tuple[int, Connection]:
        while True:
            with self._lock:
                if self._process is None or not self._process.is_alive():
                    self._start()
            generation, pipe = self._free.get()
            if generation == self._generation:
                return generation, pipe
            pipe.close()  # a lane of a child that was replaced meanwhile

    def _give_back(self, generation: int, pipe: Connection) -> None:
        with self._lock:
            if generation == self._generation:
                self._free.put((generation, pipe))
                return
        pipe.close()

    def _lost(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            process, self._process = self._process, None
            self._generation += 1
            pipes = self._drain()
        for pipe in pipes:
            pipe.close()
        if process is not None:
            process.kill()
            process.join()

    def _drain(self) -> list[Connection]:
        pipes = []
        while not self._free.empty():
            pipes.append(self._free.get_nowait()[1])
        return pipes

    def _start(self) -> None:
        ends = [_CONTEXT.Pipe() for _ in range(self.lanes)]
        self._process = _CONTEXT.Process(
            target=serve,
            args=(self.channel, self.provider, self.settings, [child for _, child in ends]),
            name=f"leadpond-sender-{self.channel}",
            daemon=True,
        )
        self._process.start()
        self._generation += 1
        for parent, child in ends:
            child.close()
            self._free.put((self._generation, parent))


def serve(channel: str, provider: str, settings: dict[str, Any], pipes: list[Connection]) -> None:
    """The child: one thread per lane, each sending what its pipe brings, until the pipe ends."""
    sender = SENDERS[(channel, provider)](settings)
    tune_for_batches()

    def lane(pipe: Connection) -> None:
        with pipe:  # closed on the way out: the parent's lane reads end-of-file, not silence
            _lane(pipe)

    def _lane(pipe: Connection) -> None:
        while True:
            try:
                messages = pipe.recv()
            except (EOFError, OSError):
                return
            try:
                outcomes = sender.send(messages)
            except Exception:  # answered as a sender that raised: the parent decides
                log.exception("sender %s/%s raised", channel, provider)
                return
            try:
                pipe.send(outcomes)
            except OSError:
                return

    threads = [threading.Thread(target=lane, args=(pipe,), daemon=True) for pipe in pipes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sender.close()
