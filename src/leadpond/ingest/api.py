"""The Segment HTTP Tracking API: /v1/identify|track|page|screen|group|alias|batch."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from leadpond.config import get_settings
from leadpond.db.engine import unit_of_work
from leadpond.ingest import service
from leadpond.ingest.spec import MAX_REQUEST_BYTES
from leadpond.kit.clock import utcnow
from leadpond.kit.errors import InvalidInput, PayloadTooLarge
from leadpond.workspaces.service import KeyKind, key_cache

router = APIRouter(prefix="/v1", tags=["tracking"])

# analytics.js (analytics-next) posts to one-letter paths.
_SHORT_PATHS = {
    "t": "track",
    "p": "page",
    "i": "identify",
    "g": "group",
    "a": "alias",
    "s": "screen",
    "b": "batch",
}
_KINDS = {"identify", "track", "page", "screen", "group", "alias", "batch", "import"}

_limiter: service.RateLimiter | None = None


def _rate_limiter() -> service.RateLimiter:
    global _limiter
    settings = get_settings()
    if _limiter is None or _limiter.rate_per_s != settings.ingest_rate_limit_per_s:
        _limiter = service.RateLimiter(settings.ingest_rate_limit_per_s, settings.ingest_rate_burst)
    return _limiter


def _accept(kind: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    received_at = utcnow()
    document = service.decode_body(body, headers.get("content-encoding"))
    parsed = service.parse_request(kind, document, headers.get("authorization"))
    with unit_of_work() as session:
        workspace_id = key_cache.resolve(session, parsed.write_key, KeyKind.WRITE)
        accepted, result = service.validate(parsed, received_at)
        _rate_limiter().take(workspace_id, len(accepted))
        if not accepted and result.rejected:
            first = result.rejected[0]
            raise InvalidInput(f"no valid message: {first['message']}", rejected=result.rejected)
        inserted = service.append_events(session, workspace_id, accepted, received_at)
    result.accepted = len(accepted)
    result.duplicates = len(accepted) - inserted
    return 200, result.to_body()


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, read chunk by chunk: 413 as soon as it passes ``limit`` bytes, so an
    oversized body is never held whole (a declared Content-Length over it is refused unread)."""
    too_large = PayloadTooLarge(f"a request may hold at most {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@router.post(
    "/{kind}", summary="Segment tracking call (identify, track, page, screen, group, alias, batch)"
)
async def track_call(kind: str, request: Request) -> JSONResponse:
    """Accept one Segment-spec call; the events are committed before this answers 200."""
    kind = _SHORT_PATHS.get(kind, kind)
    if kind not in _KINDS:
        return JSONResponse(
            {"code": "not_found", "message": f"unknown tracking call /v1/{kind}"}, status_code=404
        )
    if kind == "import":
        kind = "batch"
    body = await read_limited(request, MAX_REQUEST_BYTES)
    headers = {k.lower(): v for k, v in request.headers.items()}
    status, payload = await run_in_threadpool(_accept, kind, body, headers)
    return JSONResponse(payload, status_code=status)


@router.get("/projects/{write_key}/settings", summary="analytics.js settings for this host")
def browser_settings(write_key: str, request: Request) -> dict[str, Any]:
    """What analytics-next loads at start, pointing its events back at this server."""
    with unit_of_work() as session:
        key_cache.resolve(session, write_key, KeyKind.WRITE)
    host = request.headers.get("host", f"{request.url.hostname}:{request.url.port}")
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": f"{host}/v1",
                "protocol": request.url.scheme,
            }
        },
        "plan": {"track": {"__default": {"enabled": True}}},
        "metrics": {"sampleRate": 0},
    }
