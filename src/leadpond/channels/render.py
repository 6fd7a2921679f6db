"""Templates in a sandboxed Jinja2: ``person``, ``account``, ``content``, the caller's
variables and ``unsubscribe_url``; a missing value renders empty and ``| default(...)`` works.

Syntax errors are caught when a template is saved (400 naming the field and the line); a template
that fails for one person (a sandbox violation, a filter given nonsense) skips that person's
message as ``invalid_template``, never the batch.

Channels whose providers take parameters (SMS, WeChat, WeCom, webhooks) keep a JSON object in
``body``: every string in it is a template of its own, so a value with quotes or newlines can
never break the JSON.
"""

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.accounts.models import Account, PersonAccount
from leadpond.channels.models import Channel, MessageTemplate
from leadpond.kit.errors import InvalidInput, NotFound, RefusedValue
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import people

_TEXT = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)
_HTML = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=True)


class RenderFailed(Exception):
    """A template that could not be rendered for one person: which part failed, and on which
    line of it when Jinja2 knows (its tracebacks carry the template's line numbers)."""

    def __init__(self, message: str, part: str = "body", line: int | None = None) -> None:
        super().__init__(message)
        self.part, self.line = part, line


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    text_body: str | None
    # The parameters of a provider template (JSON-bodied channels); None for email.
    document: dict[str, Any] | None = None


def is_json_bodied(channel: str) -> bool:
    """Channels whose body is a JSON object of parameters rather than a text."""
    return channel != Channel.EMAIL


@lru_cache(maxsize=1024)
def _compiled(source: str, html: bool) -> Template:
    return (_HTML if html else _TEXT).from_string(source)


def check_template(
    channel: str, subject: str | None, body: str, text_body: str | None = None
) -> None:
    """Raise a 400 naming the field (and line) of the first part that does not compile."""
    parts: list[tuple[str, str | None, bool]] = [
        ("subject", subject, False),
        ("text_body", text_body, False),
    ]
    if is_json_bodied(channel):
        try:
            document = json.loads(body)
        except ValueError as exc:
            refused = RefusedValue("body: not a JSON object ({problem})", problem=str(exc))
            raise InvalidInput(refused, field="body") from exc
        if not isinstance(document, dict):
            raise InvalidInput("body: must be a JSON object of parameters", field="body")
        parts += [("body", text, False) for text in _strings(document)]
    else:
        parts.append(("body", body, True))
    for name, source, html in parts:
        if source is None:
            continue
        try:
            _compiled(source, html)
        except TemplateSyntaxError as exc:
            # The reason is Jinja's own account, said as the engine says it.
            refused = RefusedValue(
                "{part}: line {line}: {problem}", part=name, line=exc.lineno, problem=exc.message
            )
            raise InvalidInput(refused, field=name, line=exc.lineno) from exc


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _render(source: str, context: dict[str, Any], html: bool = False, part: str = "body") -> str:
    try:
        return _compiled(source, html).render(context)
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        line = exc.lineno if isinstance(exc, TemplateSyntaxError) else _template_line(exc)
        raise RenderFailed(f"{type(exc).__name__}: {exc}", part, line) from exc


def _template_line(exc: BaseException) -> int | None:
    """The template line a render error happened on: Jinja2 rewrites the traceback so that the
    template's own frames are named ``<template>`` and carry its line numbers."""
    line, frame = None, exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename == "<template>":
            line = frame.tb_lineno
        frame = frame.tb_next
    return line


def _render_document(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _render(value, context)
    if isinstance(value, dict):
        return {k: _render_document(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_document(v, context) for v in value]
    return value


def render_template(template: MessageTemplate, context: dict[str, Any]) -> Rendered:
    """Every part of a template for one person, or :class:`RenderFailed`."""
    subject = _render(template.subject, context, part="subject") if template.subject else None
    text_body = (
        _render(template.text_body, context, part="text_body") if template.text_body else None
    )
    if is_json_bodied(template.channel):
        try:
            document = json.loads(template.body)
        except ValueError as exc:
            raise RenderFailed(f"body is not a JSON object: {exc}") from exc
        rendered = _render_document(document, context)
        body = json.dumps(rendered, ensure_ascii=False)
        return Rendered(subject, body, text_body, rendered)
    return Rendered(subject, _render(template.body, context, html=True), text_body)


def person_context(
    session: Session, workspace_id: uuid.UUID, person_id: int
) -> dict[str, Any] | None:
    """``person`` and ``account`` (the person's primary account) for templates; None when the
    person is not (or no longer) in the workspace."""
    person = session.scalar(people(workspace_id).where(Person.id == person_id))
    if person is None:
        return None
    return person_contexts(session, workspace_id, {person.id: person.traits or {}})[person.id]


def person_contexts(
    session: Session, workspace_id: uuid.UUID, persons: Mapping[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """:func:`person_context` for many people of the workspace (id → traits), their accounts
    read at once."""
    accounts: dict[int, dict[str, Any]] = {}
    if persons:
        found = session.execute(
            select(PersonAccount.person_id, Account.name, Account.domain, Account.traits)
            .join(Account, PersonAccount.account_id == Account.id)
            .where(
                owned(PersonAccount, workspace_id),
                PersonAccount.person_id.in_(persons),
            )
            # The first row per person wins: primary first, then the oldest link.
            .order_by(PersonAccount.person_id, PersonAccount.is_primary.desc(), PersonAccount.id)
        )
        for person_id, name, domain, traits in found:
            if person_id not in accounts:
                accounts[person_id] = {"name": name, "domain": domain, "traits": dict(traits or {})}
    return {
        pid: {"person": {"id": pid, "traits": dict(traits)}, "account": accounts.get(pid, {})}
        for pid, traits in persons.items()
    }


def message_context(
    base: dict[str, Any], variables: dict[str, Any], unsubscribe_url: str | None
) -> dict[str, Any]:
    """What a template sees: the caller's variables, under the person, account and links."""
    return {
        **variables,
        **base,
        "content": variables.get("content", {}),
        "variables": variables,
        "unsubscribe_url": unsubscribe_url or "",
    }


def render_preview(
    session: Session,
    workspace_id: uuid.UUID,
    template: MessageTemplate,
    person_id: int,
    variables: dict[str, Any] | None = None,
) -> Rendered:
    """The template as this person would get it. A preview belongs to no message, so no
    unsubscribe token can be signed for it: its link points at ``#unsubscribe-preview``."""
    base = person_context(session, workspace_id, person_id)
    if base is None:
        raise NotFound(f"no person {person_id}", field="person_id")
    context = message_context(base, variables or {}, "#unsubscribe-preview")
    try:
        return render_template(template, context)
    except RenderFailed as exc:
        if exc.line:
            refused = RefusedValue(
                "{part}: line {line}: the template fails for this person: {problem}",
                part=exc.part,
                line=exc.line,
                problem=str(exc),
            )
            raise InvalidInput(refused, field=exc.part, line=exc.line) from exc
        refused = RefusedValue(
            "{part}: the template fails for this person: {problem}", part=exc.part, problem=str(exc)
        )
        raise InvalidInput(refused, field=exc.part) from exc
