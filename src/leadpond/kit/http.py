"""HTTP plumbing shared by every router: error bodies and the unit-of-work dependencies."""

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.errors import LeadpondError


def write_session() -> Iterator[Session]:
    """One request, one transaction: committed on success, rolled back on error."""
    with unit_of_work() as session:
        yield session


def read_session() -> Iterator[Session]:
    """A read transaction that does not take the SQLite write lock."""
    with read_only() as session:
        yield session


# "function": the commit happens before the answer leaves. FastAPI's default for a dependency
# with yield ends it after the response is sent, so a client could read before the commit (and
# get a 2xx for a write whose commit then failed).
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
# Row ids in paths: 64-bit on both databases, so larger numbers are refused as input (422).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ReadSession = Annotated[Session, Depends(read_session)]


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as ``{"code", "message"}`` with its own status."""

    @app.exception_handler(LeadpondError)
    async def _leadpond_error(_request: Request, exc: LeadpondError) -> JSONResponse:
        headers = {}
        retry_after = exc.details.get("retry_after_s")
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        if _json_body_sent_as_other_type(request, first):
            return JSONResponse(
                {
                    "code": "unsupported_media_type",
                    "message": "send the body as application/json",
                },
                status_code=415,
            )
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return JSONResponse(
            {"code": "invalid_request", "message": message, "errors": _plain(errors)},
            status_code=422,
        )

    @app.exception_handler(DataError)
    async def _unstorable_value(_request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the schema let through (a NUL character in PostgreSQL
        # text or JSON, a number out of its column's range): bad input, and nothing was written.
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        return JSONResponse(
            {"code": "invalid_input", "message": f"a value cannot be stored: {reason}"},
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=exc.status_code)


def _json_body_sent_as_other_type(request: Request, first: dict[str, Any]) -> bool:
    """FastAPI reads a JSON body only under a JSON content type; any other arrives as bytes."""
    loc = tuple(first.get("loc", ()))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return (
        bool(loc)
        and loc[0] == "body"
        and isinstance(first.get("input"), bytes)
        and content_type != "application/json"
        and not content_type.endswith("+json")
    )


def _plain(errors: object) -> object:
    """Validation errors with only JSON-safe values."""
    if isinstance(errors, dict):
        return {str(k): _plain(v) for k, v in errors.items() if k != "ctx"}
    if isinstance(errors, list | tuple):
        return [_plain(item) for item in errors]
    if isinstance(errors, str | int | float | bool) or errors is None:
        return errors
    return str(errors)
