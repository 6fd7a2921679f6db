"""Per-workspace identity rules: priority, limit and blocked values per identifier type."""

import re
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from leadpond.identity.models import IdentitySettings
from leadpond.kit.errors import InvalidInput

# Lower number = stronger identifier. Weak identifiers (devices, cookies) may attach an event to a
# person, but never bring together two people who hold different values of a strong type.
DEFAULT_TYPES: dict[str, dict[str, Any]] = {
    "user_id": {"priority": 10, "limit": 1},
    "crm_id": {"priority": 20, "limit": 1},
    "wechat_unionid": {"priority": 30, "limit": 5},
    "phone": {"priority": 40, "limit": 5},
    "email": {"priority": 50, "limit": 5},
    "wechat_openid": {"priority": 60, "limit": 5},
    "wecom_external_userid": {"priority": 65, "limit": 5},
    # A desk line (switchboard + extension) belongs to a desk; a bare switchboard number
    # (总机) to the whole company: weak, like a shared device.
    "landline": {"priority": 75, "limit": 5},
    "switchboard": {"priority": 85, "limit": 5, "weak": True},
    # Browsers, devices and mini-program sessions pile up over a B2B buying cycle of months, so
    # the count limit is loose; what keeps shared devices from gluing people is weakness.
    "anonymous_id": {"priority": 90, "limit": 50, "weak": True},
}
CUSTOM_TYPE_DEFAULT: dict[str, Any] = {"priority": 70, "limit": 5}

# Values that identify nobody: placeholders, test data and role mailboxes shared by a team.
DEFAULT_BLOCKED: list[str] = [
    r"^[0-]*$",
    r"^-1$",
    r"^(null|none|nil|undefined|anonymous|unknown|n/?a|test|guest|default|\[object object\])$",
    r"^(test|example|demo|abc|admin|user|a|aa|aaa|1|123|xxx|qq)@(test|example|demo|abc|a|aa|1|123|xxx)\.(com|cn|net|org)$",
    r"@(example|test)\.(com|net|org|cn)$",
    r"^(info|sales|admin|administrator|service|services|contact|office|hr|support|marketing|"
    r"market|kefu|noreply|no-reply|webmaster|postmaster|hello|team|enquiry|enquiries|business|"
    r"bd|public|it|itsupport|helpdesk|tech|pr|media|press|job|jobs|career|careers|zhaopin|"
    r"finance|caiwu|purchase|purchasing|caigou|procurement|xiaoshou|shichang|bangong)@",
    r"^\+86(13800138000|12345678901|13888888888|18888888888|13000000000|11111111111)$",
    r"^\+?(\d)\1{6,}$",
]


class IdentifierTypeSettings(BaseModel):
    priority: int = Field(ge=0, le=1000)
    limit: int = Field(ge=1, le=1000)
    weak: bool = False
    blocked: list[str] = Field(default_factory=list)

    @field_validator("blocked")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"blocked pattern {pattern!r} is not a valid regex: {exc}"
                ) from exc
        return patterns


class IdentitySettingsBody(BaseModel):
    """What a workspace may override; omitted parts keep the defaults."""

    types: dict[str, IdentifierTypeSettings] = Field(default_factory=dict)
    blocked: list[str] = Field(default_factory=lambda: list(DEFAULT_BLOCKED))
    device_session_minutes: int = Field(
        default=30,
        ge=0,
        le=24 * 60,
        description="after someone identifies on a shared device, its anonymous events belong "
        "to them for this long",
    )
    trait_source_ranking: list[str] = Field(
        default_factory=list,
        description="event sources whose trait values beat newer values from unlisted sources, "
        "strongest first (e.g. ['crm', 'import'])",
    )

    @field_validator("blocked")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return IdentifierTypeSettings._compiles(patterns)

    @field_validator("types")
    @classmethod
    def _type_names(
        cls, types: dict[str, IdentifierTypeSettings]
    ) -> dict[str, IdentifierTypeSettings]:
        for name in types:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name):
                raise ValueError(f"identifier type {name!r} must be lower_snake_case")
        return types


@dataclass(frozen=True)
class IdentifierRule:
    priority: int
    limit: int
    weak: bool
    blocked: tuple[re.Pattern[str], ...]


@dataclass
class IdentityConfig:
    """Compiled rules; build with ``from_settings``."""

    settings: IdentitySettingsBody = field(default_factory=IdentitySettingsBody)
    _blocked_cache: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)
    # (type, raw value) -> identifier key or None: filled by identity.keys, bounded there.
    identifier_memo: dict[tuple[str, str], tuple[str, str] | None] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None) -> "IdentityConfig":
        """Compile stored settings (or the defaults when None)."""
        try:
            body = IdentitySettingsBody.model_validate(raw or {})
        except ValueError as exc:
            raise InvalidInput(f"invalid identity settings: {exc}") from exc
        return cls(body)

    @cached_property
    def _global_blocked(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, re.IGNORECASE) for p in self.settings.blocked)

    @cached_property
    def _rules(self) -> dict[str, IdentifierRule]:
        merged: dict[str, IdentifierRule] = {}
        names = set(DEFAULT_TYPES) | set(self.settings.types)
        for name in names:
            merged[name] = self._compile(name)
        return merged

    def _compile(self, name: str) -> IdentifierRule:
        base = IdentifierTypeSettings(**DEFAULT_TYPES.get(name, CUSTOM_TYPE_DEFAULT))
        chosen = self.settings.types.get(name, base)
        patterns = tuple(re.compile(p, re.IGNORECASE) for p in chosen.blocked)
        return IdentifierRule(chosen.priority, chosen.limit, chosen.weak, patterns)

    def rule(self, id_type: str) -> IdentifierRule:
        """The rule for a type; unknown custom types get the custom default."""
        found = self._rules.get(id_type)
        if found is None:
            found = self._compile(id_type)
            self._rules[id_type] = found
        return found

    def is_blocked(self, id_type: str, value: str) -> bool:
        """True when the value identifies nobody (placeholder, test value, shared mailbox...)."""
        key = (id_type, value)
        found = self._blocked_cache.get(key)
        if found is None:
            patterns = self._global_blocked + self.rule(id_type).blocked
            found = any(p.search(value) for p in patterns)
            if len(self._blocked_cache) > 500_000:
                self._blocked_cache.clear()
            self._blocked_cache[key] = found
        return found

    def source_rank(self, source: str) -> int:
        """Higher wins: listed sources by position, unlisted sources 0."""
        ranking = self.settings.trait_source_ranking
        return len(ranking) - ranking.index(source) if source in ranking else 0


_compiled: dict[bytes, IdentityConfig] = {}


def load_config(session: Session, workspace_id: uuid.UUID) -> IdentityConfig:
    """The workspace's identity rules (defaults where it overrides nothing), compiled once."""
    stored = session.get(IdentitySettings, workspace_id)
    raw = stored.settings if stored else None
    key = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    config = _compiled.get(key)
    if config is None:
        if len(_compiled) > 1000:
            _compiled.clear()
        config = _compiled[key] = IdentityConfig.from_settings(raw)
    return config
