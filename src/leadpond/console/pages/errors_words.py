"""How the console says a service's refusal: in the viewer's language, never the developer text
of the REST API's ``message`` (which stays English and unchanged for API clients).

A refusal made with a ``RefusedValue`` (``words``, a message id, and ``params``, its values;
``SourceError`` too) is said by its words; a constant message raised by a service is a message id
of the console catalogs; any other message (one built with the request's values) is said by its
error ``code``, with the label of the input it names (``details["field"]``) when there is one.
A condition's refusal (``ConditionError`` or ``UnknownReference``, its ``words`` a message id
with ``{named}`` fields) adds its reason; a channel without a sender is named by its and its
provider's names.
``tests/console/test_error_words.py`` scans ``src/leadpond`` and fails when a constant message
(or a ``RefusedValue``'s words), a code or a field lacks its Chinese;
``tests/console/test_condition_words.py`` checks the conditions' words."""

import re
from typing import Any

from leadpond.channels.registry import NO_SENDER
from leadpond.conditions.evaluate import UnknownReference
from leadpond.conditions.parse import ConditionError
from leadpond.console.i18n import Translate, catalog
from leadpond.console.pages.channel_names import no_sender_words
from leadpond.console.pages.words import (
    USER_ROLES,
    place_words,
    refusal_words,
    schema_error_words,
)
from leadpond.kit.errors import LeadpondError

# Every error code defined under src/leadpond, as a marketer reads it.
CODE_WORDS = {
    "bad_request": "This could not be done.",
    "invalid_input": "Some of what was entered is not valid.",
    "unauthorized": "You are not logged in, or your session has ended.",
    "forbidden": "You may not do this.",
    "not_found": "This no longer exists.",
    "conflict": "This clashes with something that already exists.",
    "payload_too_large": "The file or request is too large.",
    "rate_limited": "Too many requests at once; try again shortly.",
    "role_too_low": "Your role may not do this.",
    "user_not_found": "This user does not exist.",
    "user_exists": "A user with this email already exists.",
    "last_admin": "The workspace's last admin keeps the role.",
    "bad_credentials": "Wrong email or password.",
    "not_a_member": "This user is not a member of this workspace.",
    "too_many_logins": "Too many login attempts; try again later.",
    "login_busy": "Too many logins at once; try again in a second.",
    "person_not_found": "This person does not exist.",
    "identifier_not_found": "This person has no such identifier.",
    "nothing_to_unmerge": "Nothing was merged into this person by that identifier.",
    "suggestion_not_found": "This suggestion does not exist.",
    "suggestion_decided": "This suggestion has already been decided.",
    "merge_not_allowed": "These people cannot be merged: the identity rules forbid it.",
    "bad_cursor": "This page of the list is out of date; reload it.",
    "job_not_found": "This job does not exist.",
    "job_state_conflict": "The job cannot do this in its current state.",
    "invalid_condition": "The condition is not valid.",
    "invalid_yaml": "The YAML cannot be read.",
    "unknown_reference": "The condition names something that does not exist.",
    "wechat_not_configured": "Set up the WeChat channel first.",
    "permanent_qr_budget_exhausted": "WeChat's limit of permanent QR codes is reached.",
    "qr_code_not_found": "This QR code does not exist.",
    "link_not_found": "This link does not exist.",
    "wecom_not_configured": "Set up the WeCom channel first.",
    "state_taken": "Another contact way already uses this state.",
    "provider_refused": "The provider refused the request.",
    "journey_not_found": "This journey does not exist.",
    "playbook_version_not_found": "This playbook version does not exist.",
    "winner_decided": "This split's winner has already been chosen.",
    "key_not_found": "This key does not exist.",
    "key_in_use": "This key is in use.",
    "invalid_xml": "The message is not valid XML.",
    "template_not_found": "This template does not exist.",
    "message_not_found": "This message does not exist.",
    "template_in_use": "Messages were written with this template: it stays.",
    "bad_signature": "The signature does not match.",
    "undecryptable": "The message cannot be decrypted.",
    "wechat_callback_not_configured": "Set up the WeChat callback first.",
    "stale_callback": "The callback is too old.",
    "segment_not_found": "This segment does not exist.",
    "segment_exists": "A segment with this key already exists.",
    "invalid_segment": "The segment is not valid.",
    "preview_over_budget": "The preview would take too long; narrow the condition.",
    "content_file_missing": "The content's file is missing.",
    "content_not_found": "This content item does not exist.",
    "content_key_taken": "Another content item already has this key.",
    "tag_not_found": "This person has no such tag.",
    "invalid_playbook": "The playbook is not valid.",
    "playbook_not_found": "This workspace has no playbook yet.",
    "registration_not_found": "This registration does not exist.",
    "registration_not_approved": "This registration was not approved.",
    "badge_font_missing": "The font for badges is not installed on the server.",
    "form_not_found": "This form does not exist.",
    "invalid_form": "The form is not valid.",
    "form_exists": "A form with this key already exists.",
    "event_not_found": "This event does not exist.",
    "event_key_taken": "Another event already has this key.",
    "demo_load_failed": "The demo data could not be loaded.",
    "account_suggestion_not_found": "This suggestion does not exist.",
    "account_suggestion_decided": "This suggestion has already been decided.",
    "account_merge_not_found": "This merge does not exist.",
    "account_merge_undone": "This merge has already been undone.",
    "accounts_conflict": "These accounts cannot be merged.",
    "account_not_found": "This account does not exist.",
    "alias_taken": "Another account already has this alias.",
}

# The inputs a refusal names (the last part of ``details["field"]``, its indices dropped).
FIELD_NAMES = {
    "key": "Key",
    "file": "File",
    "name": "The name",
    "since": "Start date",
    "until": "End date",
    "now": "Time",
    "person_id": "Person",
    "person": "Person",
    "channel": "Channel",
    "password": "Password",
    "template": "Template",
    "email_template": "Email template",
    "options": "Options",
    "cursor": "Page",
    "url": "Link",
    "redirect_url": "Link",
    "video_url": "Video link",
    "email": "Email",
    "mobile": "Mobile",
    "from_version": "Version",
    "variant": "Variant",
    "split": "Split",
    "provider": "Provider",
    "body": "Content",
    "mapping": "Column mapping",
    "registration_form": "Registration form",
    "registration": "Registration",
    "start": "Start date",
    "ends_at": "End time",
    "value": "Identifier",
    "kind": "Kind",
    "content_id": "Content",
    "state": "State",
    "logo": "Logo",
    "locale": "Language",
    "role": "Role",
    "roles": "Roles",
    "groups": "Groups",
    "time_zone": "Time zone",
    "caps": "Frequency caps",
    "purpose": "Purpose",
    "subject": "Subject",
    "type": "Type",
    "types": "Types",
    "stages": "Stages",
    "tag": "Tag",
    "batch": "Batch",
    "sentAt": "Sent at",
    "event": "Marketing event",
    "captcha": "Captcha",
    "label_zh": "Chinese label",
    "maps_to": "Maps to",
    "surveys": "Surveys",
    "booth": "Booth",
    "session": "Session",
    "persona": "Persona",
    "sort": "Sort",
    "account_id": "Account",
    "alias": "Alias",
    "domain": "Domain",
}

_INDEX = re.compile(r"\[\d+\]")


def field_of(path: str) -> str:
    """The input a ``field`` detail names: ``fields[2].maps_to`` -> ``maps_to``."""
    return _INDEX.sub("", path).rsplit(".", 1)[-1]


def error_words(exc: LeadpondError, _: Translate) -> str:
    """The refusal in the viewer's language: its words (a ``RefusedValue``'s message id and
    values), its constant message, else its code's words with the label of the field it names."""
    # A channel without a sender: named as the channels page names it, not by its keys.
    if exc.words == NO_SENDER:
        return no_sender_words(_, str(exc.params["channel"]), str(exc.params["provider"]))
    # A refusal made with a RefusedValue: its words (a condition's add them to its code's).
    if exc.words is not None and not isinstance(exc, ConditionError | UnknownReference):
        return refusal_words(_, exc.words, exc.params)
    # The Chinese catalog holds every console message id (the English one only its ids).
    if exc.message in catalog("zh_CN"):
        return _(exc.message)
    needed, role = exc.details.get("needed"), exc.details.get("role")
    if exc.code == "role_too_low" and needed in USER_ROLES and role in USER_ROLES:
        return _("This needs the {needed} role; yours is {role}.").format(
            needed=_(USER_ROLES[needed]), role=_(USER_ROLES[role])
        )
    words = _(CODE_WORDS.get(exc.code, CODE_WORDS["bad_request"]))
    field = exc.details.get("field")
    label = FIELD_NAMES.get(field_of(field)) if isinstance(field, str) else None
    line = exc.details.get("line")
    if label:
        words = _("{problem} ({field})").format(problem=words, field=_(label))
    # A condition or YAML typed in a box: the line it goes wrong on.
    elif isinstance(line, int) and not isinstance(line, bool):
        words = _("{problem} (line {line})").format(problem=words, line=line)
    if isinstance(exc, ConditionError | UnknownReference):
        reason = refusal_words(_, exc.words, exc.params)
        return _("{problem} {reason}").format(problem=words, reason=reason)
    return words


def located_problem(error: dict[str, Any], _: Translate) -> str:
    """One of a playbook's errors (said by :func:`playbook_problems`) as a line of the viewer's
    language: the line it is on, where in the playbook, what is wrong ("第 190 行：journeys[0].key
    …" / "line 190: journeys[0].key …")."""
    place = place_words(_, str(error.get("path") or ""))
    said = f"{place} {error.get('message') or ''}".strip()
    line = error.get("line")
    if isinstance(line, int) and not isinstance(line, bool) and line > 0:
        return _("line {line}: {problem}").format(line=line, problem=said)
    return said


def playbook_problems(errors: list[dict[str, Any]], _: Translate) -> list[dict[str, Any]]:
    """A playbook's errors (``PlaybookInvalid``'s ``details["errors"]``) with their messages
    in the viewer's language: a condition's or a duration's account by its ``words``, a schema
    error by its kind ("Required", "Must be one of: …"), a constant message by its translation;
    any other rule's own account (a custom check) as written."""
    said = []
    for error in errors:
        message = str(error.get("message") or "")
        kind = error.get("type")
        words, params = error.get("words"), error.get("params")
        if isinstance(words, str) and isinstance(params, dict):
            said.append({**error, "message": refusal_words(_, words, params)})
            continue
        if isinstance(kind, str) and kind != "value_error":
            message = schema_error_words(_, {**error, "msg": message})
        elif kind == "value_error":
            message = message.removeprefix("Value error, ")
        if message in catalog("zh_CN"):
            message = _(message)
        said.append({**error, "message": message})
    return said
