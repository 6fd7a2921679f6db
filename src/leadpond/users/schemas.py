"""What the auth and users API reads and answers."""

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from leadpond.kit.schemas import UtcDatetime
from leadpond.users.models import ConsoleUser, Membership


class LoginBody(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)
    workspace_id: uuid.UUID | None = None


class WorkspaceChoice(BaseModel):
    workspace_id: uuid.UUID
    name: str
    role: str


class MeRead(BaseModel):
    via: str = Field(description="session or api_key")
    workspace_id: uuid.UUID
    role: str
    user_id: int | None = None
    email: str | None = None
    name: str | None = None
    locale: str | None = None
    workspaces: list[WorkspaceChoice] = Field(default_factory=list)


class SwitchWorkspaceBody(BaseModel):
    workspace_id: uuid.UUID


class LocaleBody(BaseModel):
    locale: str = Field(description="zh_CN or en", max_length=8)


class MemberCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=200)
    role: str = Field(description="admin, marketer, sales or viewer", max_length=16)
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="needed for a new user; an existing user just gets the role",
    )
    locale: str = Field(default="zh_CN", max_length=8)


class RoleBody(BaseModel):
    role: str = Field(description="admin, marketer, sales or viewer", max_length=16)


class MemberRead(BaseModel):
    user_id: int
    email: str
    name: str
    role: str
    locale: str
    created_at: UtcDatetime
    last_login_at: UtcDatetime | None

    @classmethod
    def build(cls, user: ConsoleUser, membership: Membership) -> "MemberRead":
        return cls(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=membership.role,
            locale=user.locale,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


class WorkspaceRead(BaseModel):
    workspace_id: uuid.UUID
    name: str
    time_zone: str = Field(description="IANA zone of every time the console shows and takes")
    created_at: UtcDatetime


class WorkspaceUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64, description="e.g. Asia/Shanghai")


class KeyCreate(BaseModel):
    kind: Literal["write", "api"] = Field(
        description="write: sends events (the SDKs); api: the admin REST API"
    )
    name: str = Field(default="default", min_length=1, max_length=200)


class KeyRead(BaseModel):
    id: int
    kind: str
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None = None


class KeyIssued(KeyRead):
    secret: str = Field(description="shown once: it is not stored")
