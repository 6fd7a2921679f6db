"""Who may do what, per domain: one table, read by the REST API and the console alike.

Every endpoint and every console action names the permission it needs (``SegmentsWrite``,
``segments_write``); the role it takes is written here, once, never inferred from the HTTP
method (``POST /segments:preview`` only reads, so it needs ``SegmentsRead``).
``tests/workspaces/test_declared_roles.py`` fails for an endpoint that names none.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from leadpond.users.auth import Actor, RoleTooLow, caller
from leadpond.users.service import Role


@dataclass(frozen=True)
class Permission:
    """Reading or changing one domain's data, and the least role that may."""

    domain: str
    access: str
    role: Role

    def allows(self, role: Role | str) -> bool:
        """True when someone with ``role`` holds this permission."""
        return Role(role).allows(self.role)

    def check(self, role: Role | str) -> None:
        """Raise :class:`RoleTooLow` (403) unless ``role`` holds this permission."""
        if not self.allows(role):
            raise RoleTooLow(
                f"{self.access} {self.domain} needs the {self.role.value} role; you are {role}",
                needed=self.role.value,
                role=Role(role).value,
            )


def _pair(domain: str, read: Role, write: Role) -> tuple[Permission, Permission]:
    return Permission(domain, "read", read), Permission(domain, "write", write)


# Any member reads; marketers and admins change; only admins manage members and keys.
PEOPLE_READ, PEOPLE_WRITE = _pair("people", Role.VIEWER, Role.MARKETER)
IDENTITY_READ, IDENTITY_WRITE = _pair("identity", Role.VIEWER, Role.MARKETER)
ACCOUNTS_READ, ACCOUNTS_WRITE = _pair("accounts", Role.VIEWER, Role.MARKETER)
RULES_READ, RULES_WRITE = _pair("rules", Role.VIEWER, Role.MARKETER)
PLAYBOOKS_READ, PLAYBOOKS_WRITE = _pair("playbooks", Role.VIEWER, Role.MARKETER)
SEGMENTS_READ, SEGMENTS_WRITE = _pair("segments", Role.VIEWER, Role.MARKETER)
IMPORTS_READ, IMPORTS_WRITE = _pair("imports", Role.VIEWER, Role.MARKETER)
JOBS_READ, JOBS_WRITE = _pair("jobs", Role.VIEWER, Role.MARKETER)
PIPELINE_READ, PIPELINE_WRITE = _pair("pipeline", Role.VIEWER, Role.MARKETER)
CHANNELS_READ, CHANNELS_WRITE = _pair("channels", Role.VIEWER, Role.MARKETER)
CONTENT_READ, CONTENT_WRITE = _pair("content", Role.VIEWER, Role.MARKETER)
EVENTS_READ, EVENTS_WRITE = _pair("events", Role.VIEWER, Role.MARKETER)
# A channel's provider account (SMTP password, SMS AccessKey, WeCom secret) and the test send
# past the outbox: admins set them up, marketers use the channels (templates, sends).
PROVIDERS_READ, PROVIDERS_WRITE = _pair("channel settings", Role.VIEWER, Role.ADMIN)
MEMBERS_READ, MEMBERS_WRITE = _pair("members", Role.ADMIN, Role.ADMIN)
# The workspace's name and time zone: every member reads them (times are shown in the zone).
WORKSPACE_READ, WORKSPACE_WRITE = _pair("workspace", Role.VIEWER, Role.ADMIN)
FORMS_READ, FORMS_WRITE = _pair("forms", Role.VIEWER, Role.MARKETER)

PERMISSIONS: tuple[Permission, ...] = (
    PEOPLE_READ,
    PEOPLE_WRITE,
    IDENTITY_READ,
    IDENTITY_WRITE,
    ACCOUNTS_READ,
    ACCOUNTS_WRITE,
    RULES_READ,
    RULES_WRITE,
    PLAYBOOKS_READ,
    PLAYBOOKS_WRITE,
    SEGMENTS_READ,
    SEGMENTS_WRITE,
    IMPORTS_READ,
    IMPORTS_WRITE,
    JOBS_READ,
    JOBS_WRITE,
    PIPELINE_READ,
    PIPELINE_WRITE,
    CHANNELS_READ,
    CHANNELS_WRITE,
    CONTENT_READ,
    CONTENT_WRITE,
    EVENTS_READ,
    EVENTS_WRITE,
    PROVIDERS_READ,
    PROVIDERS_WRITE,
    MEMBERS_READ,
    MEMBERS_WRITE,
    WORKSPACE_READ,
    WORKSPACE_WRITE,
    FORMS_READ,
    FORMS_WRITE,
)


def require(permission: Permission) -> Callable[[Actor], Actor]:
    """A dependency: the caller, who must hold ``permission`` in the workspace."""

    def dependency(actor: Annotated[Actor, Depends(caller)]) -> Actor:
        permission.check(actor.role)
        return actor

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the roles test
    return dependency


def declared_permission(call: object) -> Permission | None:
    """The permission a dependency made by :func:`require` asks for (None for any other)."""
    found = getattr(call, "permission", None)
    return found if isinstance(found, Permission) else None


PeopleRead = Annotated[Actor, Depends(require(PEOPLE_READ))]
PeopleWrite = Annotated[Actor, Depends(require(PEOPLE_WRITE))]
IdentityRead = Annotated[Actor, Depends(require(IDENTITY_READ))]
IdentityWrite = Annotated[Actor, Depends(require(IDENTITY_WRITE))]
AccountsRead = Annotated[Actor, Depends(require(ACCOUNTS_READ))]
AccountsWrite = Annotated[Actor, Depends(require(ACCOUNTS_WRITE))]
RulesRead = Annotated[Actor, Depends(require(RULES_READ))]
RulesWrite = Annotated[Actor, Depends(require(RULES_WRITE))]
PlaybooksRead = Annotated[Actor, Depends(require(PLAYBOOKS_READ))]
PlaybooksWrite = Annotated[Actor, Depends(require(PLAYBOOKS_WRITE))]
SegmentsRead = Annotated[Actor, Depends(require(SEGMENTS_READ))]
SegmentsWrite = Annotated[Actor, Depends(require(SEGMENTS_WRITE))]
ImportsRead = Annotated[Actor, Depends(require(IMPORTS_READ))]
ImportsWrite = Annotated[Actor, Depends(require(IMPORTS_WRITE))]
JobsRead = Annotated[Actor, Depends(require(JOBS_READ))]
JobsWrite = Annotated[Actor, Depends(require(JOBS_WRITE))]
PipelineRead = Annotated[Actor, Depends(require(PIPELINE_READ))]
PipelineWrite = Annotated[Actor, Depends(require(PIPELINE_WRITE))]
ChannelsRead = Annotated[Actor, Depends(require(CHANNELS_READ))]
ChannelsWrite = Annotated[Actor, Depends(require(CHANNELS_WRITE))]
ContentRead = Annotated[Actor, Depends(require(CONTENT_READ))]
ContentWrite = Annotated[Actor, Depends(require(CONTENT_WRITE))]
EventsRead = Annotated[Actor, Depends(require(EVENTS_READ))]
EventsWrite = Annotated[Actor, Depends(require(EVENTS_WRITE))]
ProvidersWrite = Annotated[Actor, Depends(require(PROVIDERS_WRITE))]
MembersRead = Annotated[Actor, Depends(require(MEMBERS_READ))]
MembersWrite = Annotated[Actor, Depends(require(MEMBERS_WRITE))]
WorkspaceRead = Annotated[Actor, Depends(require(WORKSPACE_READ))]
WorkspaceWrite = Annotated[Actor, Depends(require(WORKSPACE_WRITE))]
FormsRead = Annotated[Actor, Depends(require(FORMS_READ))]
FormsWrite = Annotated[Actor, Depends(require(FORMS_WRITE))]
