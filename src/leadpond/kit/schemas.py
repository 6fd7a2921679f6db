"""Shapes every API module shares: timestamps and the documented errors (paging:
``kit.pagination``)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _with_offset(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# In answers: a stored naive-UTC time leaves with its offset (``2026-12-06T12:10:00Z``), as the
# OpenAPI ``date-time`` format requires.
UtcDatetime = Annotated[datetime, AfterValidator(_with_offset)]


class ErrorBody(BaseModel):
    """Every error answer: a stable machine-readable code and a message for people."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="stable, machine-readable, e.g. segment_not_found")
    message: str = Field(description="what went wrong, for people")


_ERRORS = {
    400: "Invalid input (the message names the field)",
    401: "No valid API key or session",
    403: "The role is too low, or a cross-origin request used the console session",
    404: "Not found in this workspace",
    409: "Conflicts with what exists",
    413: "Body too large",
    415: "The body is not in a content type this endpoint reads",
    422: "The request does not match its schema (``errors`` lists each problem)",
    429: "Too many requests; ``Retry-After`` says when to retry",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in _ERRORS.items()
}
