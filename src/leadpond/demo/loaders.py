"""Putting demo messages into leadpond: bulk through the event-log writer, or over HTTP.

The bulk path runs every message through the tracking API's own validation (``normalise``) and
writer (``append_events``), one transaction per chunk; the HTTP path posts ``/v1/batch``
requests within the API's limits, exactly as an SDK would.
"""

import base64
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson

from leadpond.db.engine import unit_of_work
from leadpond.ingest.service import append_events
from leadpond.ingest.spec import (
    MAX_BATCH_EVENTS,
    MAX_REQUEST_BYTES,
    AcceptedMessage,
    MessageRejected,
    normalise,
)
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import LeadpondError

BULK_CHUNK = 5_000
Progress = Callable[[int], None]


class DemoLoadFailed(LeadpondError):
    """The server or the writer refused generated messages."""

    status_code, code = 502, "demo_load_failed"


def accepted(messages: Iterable[dict[str, Any]]) -> list[AcceptedMessage]:
    """The tracking API's normal form of each message (the demo only makes valid ones)."""
    received_at = utcnow()
    out = []
    for message in messages:
        try:
            out.append(normalise(message, received_at=received_at))
        except MessageRejected as exc:
            raise DemoLoadFailed(f"generated message rejected: {exc.message}") from exc
    return out


class BulkLoader:
    """Writes messages straight through ``append_events``, a chunk per transaction."""

    def __init__(self, workspace_id: uuid.UUID, url: str | None = None) -> None:
        self.workspace_id = workspace_id
        self.url = url
        self.inserted = 0

    def load(self, messages: list[dict[str, Any]], progress: Progress | None = None) -> None:
        """Append ``messages`` in chunks; messageIds already stored are skipped."""
        for start in range(0, len(messages), BULK_CHUNK):
            chunk = accepted(messages[start : start + BULK_CHUNK])
            with unit_of_work(self.url) as session:
                self.inserted += append_events(
                    session, self.workspace_id, chunk, utcnow(), source="demo"
                )
            if progress:
                progress(len(chunk))


def batch_bodies(
    messages: Iterable[dict[str, Any]],
    max_events: int = MAX_BATCH_EVENTS,
    max_bytes: int = MAX_REQUEST_BYTES,
) -> Iterator[tuple[bytes, int]]:
    """``/v1/batch`` bodies holding as many messages as the API's limits allow, and their count."""
    envelope = len(b'{"batch":[]}')
    parts: list[bytes] = []
    size = envelope
    for message in messages:
        encoded = orjson.dumps(message)
        if parts and (len(parts) == max_events or size + len(encoded) + 1 > max_bytes):
            yield b'{"batch":[' + b",".join(parts) + b"]}", len(parts)
            parts, size = [], envelope
        parts.append(encoded)
        size += len(encoded) + 1
    if parts:
        yield b'{"batch":[' + b",".join(parts) + b"]}", len(parts)


class HttpLoader:
    """Posts ``/v1/batch`` requests with a write key, a few in flight, keep-alive connections."""

    def __init__(
        self,
        base_url: str,
        write_key: str,
        concurrency: int = 2,
        client: httpx.Client | None = None,
    ) -> None:
        token = base64.b64encode(f"{write_key}:".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self.client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=120.0)
        self.concurrency = concurrency
        self.inserted = 0

    def _post(self, body: bytes, count: int, attempts: int = 5) -> int:
        for attempt in range(attempts):
            try:
                response = self.client.post("/v1/batch", content=body, headers=self.headers)
            except httpx.TransportError as exc:
                if attempt == attempts - 1:
                    raise DemoLoadFailed(f"POST /v1/batch failed: {exc}") from exc
                time.sleep(0.5 * (attempt + 1))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                time.sleep(float(response.headers.get("Retry-After", 0.5 * (attempt + 1))))
                continue
            if response.status_code != 200:
                raise DemoLoadFailed(
                    f"POST /v1/batch answered {response.status_code}: {response.text[:300]}"
                )
            answer = response.json()
            return int(answer.get("accepted", count)) - int(answer.get("duplicates", 0))
        raise DemoLoadFailed(f"POST /v1/batch kept failing after {attempts} attempts")

    def load(self, messages: list[dict[str, Any]], progress: Progress | None = None) -> None:
        """Post every message; retried on 429/5xx (messageIds make a retry harmless)."""
        bodies = list(batch_bodies(messages))
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for (_body, count), inserted in zip(
                bodies, pool.map(lambda item: self._post(*item), bodies), strict=True
            ):
                self.inserted += inserted
                if progress:
                    progress(count)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()
