"""STAND-IN for the core channels helper's modules, for this branch's tests only.

Load with ``pytest -p tests.channels.core_standin`` on the wt-ch-email branch, before the core
branch (outbox, consent, events, ChannelsWrite) is merged. Installs nothing when the real
modules exist, so it is harmless after the merge; the lead deletes it then.
"""

import importlib
import sys
import types
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session


def _missing(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return True
    return False


def _outbox() -> types.ModuleType:
    from leadpond.channels.models import Message, MessageEvent
    from leadpond.kit.clock import utcnow

    module = types.ModuleType("leadpond.channels.outbox")

    def record_event(session: Session, message: Message, kind: str, detail: dict[str, Any]) -> None:
        session.add(
            MessageEvent(
                workspace_id=message.workspace_id,
                message_id=message.id,
                kind=kind,
                at=utcnow(),
                detail=detail,
            )
        )
        session.flush()

    module.record_event = record_event  # type: ignore[attr-defined]
    return module


def _consent() -> types.ModuleType:
    from leadpond.channels.models import Subscription, SuppressedAddress
    from leadpond.kit.clock import utcnow
    from leadpond.kit.scope import in_workspace

    module = types.ModuleType("leadpond.channels.consent")

    def _set(status: str) -> Any:
        def change(
            session: Session,
            workspace_id: uuid.UUID,
            person_id: int,
            channel: str,
            source: str,
            detail: dict[str, Any],
        ) -> None:
            row = session.scalar(
                in_workspace(Subscription, workspace_id).where(
                    Subscription.person_id == person_id, Subscription.channel == channel
                )
            )
            if row is None:
                row = Subscription(workspace_id=workspace_id, person_id=person_id, channel=channel)
                session.add(row)
            row.status, row.source, row.changed_at, row.detail = status, source, utcnow(), detail
            session.flush()

        return change

    def suppress(
        session: Session,
        workspace_id: uuid.UUID,
        channel: str,
        address: str,
        reason: str,
        message_id: int | None,
        detail: dict[str, Any],
    ) -> None:
        exists = session.scalar(
            select(SuppressedAddress.id).where(
                SuppressedAddress.workspace_id == workspace_id,  # stand-in only
                SuppressedAddress.channel == channel,
                SuppressedAddress.address == address,
            )
        )
        if exists is None:
            session.add(
                SuppressedAddress(
                    workspace_id=workspace_id,
                    channel=channel,
                    address=address,
                    reason=reason,
                    message_id=message_id,
                    detail=detail,
                )
            )
            session.flush()

    module.unsubscribe = _set("unsubscribed")  # type: ignore[attr-defined]
    module.subscribe = _set("subscribed")  # type: ignore[attr-defined]
    module.suppress = suppress  # type: ignore[attr-defined]
    return module


def _events() -> types.ModuleType:
    module = types.ModuleType("leadpond.channels.events")
    recorded: list[tuple[int, str, dict[str, Any], datetime]] = []

    def record(
        session: Session, message: Any, name: str, properties: dict[str, Any], at: datetime
    ) -> None:
        recorded.append((message.id, name, properties, at))

    module.record = record  # type: ignore[attr-defined]
    module.RECORDED = recorded  # type: ignore[attr-defined]
    return module


def _install() -> None:
    import leadpond.channels as channels

    for name, build in (("outbox", _outbox), ("consent", _consent), ("events", _events)):
        full = f"leadpond.channels.{name}"
        if _missing(full):
            module = build()
            sys.modules[full] = module
            setattr(channels, name, module)
    from leadpond.users import permissions

    if not hasattr(permissions, "ChannelsWrite"):
        from leadpond.users.auth import Actor
        from leadpond.users.service import Role

        write = permissions.Permission("channels", "write", Role.MARKETER)
        permissions.ChannelsWrite = Annotated[  # type: ignore[attr-defined]
            Actor, Depends(permissions.require(write))
        ]


_install()
