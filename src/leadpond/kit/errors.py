"""Errors that carry their own HTTP status and a stable machine-readable code."""

from typing import Any, ClassVar


class LeadpondError(Exception):
    """A refusal: ``message`` is the REST API's (English) text. Made with a
    :class:`RefusedValue`, the message is it filled in and ``words``/``params`` keep its
    message id and values, for the console to say it in the viewer's language."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: "str | RefusedValue", **details: Any) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.details = details
        self.words: str | None = None
        self.params: dict[str, Any] = {}
        if isinstance(message, RefusedValue):
            self.words, self.params = message.words, message.params

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        body.update(self.details)
        return body


class RefusedValue(ValueError):
    """A value a schema refuses, its reason as a message id of the console catalogs (``words``)
    whose ``{named}`` fields ``params`` fill in; the text of the error is it filled in, in
    English (pydantic's message, the REST API's), the console says it in the viewer's language."""

    def __init__(self, words: str, **params: Any) -> None:
        super().__init__(words.format(**params))
        self.words, self.params = words, params


class InvalidInput(LeadpondError):
    status_code, code = 400, "invalid_input"


class Unauthorized(LeadpondError):
    status_code, code = 401, "unauthorized"


class Forbidden(LeadpondError):
    status_code, code = 403, "forbidden"


class NotFound(LeadpondError):
    status_code, code = 404, "not_found"


class Conflict(LeadpondError):
    status_code, code = 409, "conflict"


class PayloadTooLarge(LeadpondError):
    status_code, code = 413, "payload_too_large"


class RateLimited(LeadpondError):
    status_code, code = 429, "rate_limited"
