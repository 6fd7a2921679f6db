"""Decision-chain roles inferred from a job title, in Chinese or English.

The keyword table is data: each workspace may replace it (``account_settings``). The longest
keyword found in the title wins, so 项目经理 (project manager) beats 经理 (department head) and
采购工程师 (procurement) beats 工程师 (engineer). Latin keywords match whole words only, so
``cto`` does not fire inside "director".
"""

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

ROLES = ("executive", "department_head", "project_manager", "engineer", "procurement", "other")

RoleTable = Mapping[str, Sequence[str]]

DEFAULT_ROLE_KEYWORDS: dict[str, list[str]] = {
    "executive": [
        "董事长",
        "总经理",
        "总裁",
        "副总裁",
        "副总经理",
        "副总",
        "首席",
        "总工程师",
        "总工",
        "信息中心主任",
        "信息化负责人",
        "信息部部长",
        "厂长",
        "院长",
        "校长",
        "局长",
        "行长",
        "合伙人",
        "创始人",
        "ceo",
        "cio",
        "cto",
        "cfo",
        "coo",
        "cdo",
        "cso",
        "vp",
        "vice president",
        "president",
        "chief",
        "founder",
        "co-founder",
        "owner",
        "managing director",
        "general manager",
        "chairman",
    ],
    "department_head": [
        "部门经理",
        "部门负责人",
        "部长",
        "副部长",
        "主任",
        "副主任",
        "总监",
        "副总监",
        "处长",
        "科长",
        "主管",
        "经理",
        "负责人",
        "组长",
        "director",
        "head of",
        "head",
        "manager",
        "department manager",
        "team lead",
        "lead",
    ],
    "project_manager": [
        "项目经理",
        "项目主管",
        "项目负责人",
        "项目总监",
        "项目管理",
        "pmo",
        "project manager",
        "program manager",
        "project lead",
        "delivery manager",
    ],
    "engineer": [
        "工程师",
        "开发",
        "程序员",
        "架构师",
        "运维",
        "技术员",
        "实施",
        "测试",
        "研发",
        "engineer",
        "developer",
        "architect",
        "administrator",
        "admin",
        "dba",
        "devops",
        "sre",
        "programmer",
        "analyst",
        "consultant",
        "technician",
    ],
    "procurement": [
        "采购",
        "采购经理",
        "采购主管",
        "采购总监",
        "采购部经理",
        "采购工程师",
        "招标",
        "招采",
        "procurement",
        "purchasing",
        "purchaser",
        "buyer",
        "sourcing",
        "vendor management",
    ],
}


class InvalidRoleTable(ValueError):
    """The keyword table names an unknown role or holds something other than keywords."""


@dataclass(frozen=True, slots=True)
class _Keyword:
    text: str
    role: str
    pattern: re.Pattern[str] | None


def check_role_table(table: Mapping[str, object]) -> dict[str, list[str]]:
    """The table with keywords trimmed and lowercased; raises InvalidRoleTable when malformed."""
    if not table:
        raise InvalidRoleTable("the table needs at least one role")
    checked: dict[str, list[str]] = {}
    for role, keywords in table.items():
        if role not in ROLES:
            raise InvalidRoleTable(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise InvalidRoleTable(f"keywords of {role!r} must be a list of strings")
        cleaned = [_fold(k) for k in keywords if _fold(k)]
        checked[role] = list(dict.fromkeys(cleaned))
    return checked


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


@lru_cache(maxsize=64)
def _compile(frozen: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[_Keyword, ...]:
    keywords: list[_Keyword] = []
    order = {role: rank for rank, (role, _) in enumerate(frozen)}
    for role, words in frozen:
        for word in words:
            latin = word.isascii()
            pattern = re.compile(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])") if latin else None
            keywords.append(_Keyword(word, role, pattern))
    # Longest first; at equal length, the table's role order decides.
    keywords.sort(key=lambda k: (-len(k.text), order[k.role]))
    return tuple(keywords)


def _freeze(table: RoleTable) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((role, tuple(words)) for role, words in table.items())


def infer_role(title: str | None, table: RoleTable | None = None) -> str | None:
    """The decision-chain role a job title implies: None without a title, ``other`` if unknown."""
    if not title or not title.strip():
        return None
    return _match(title, _compile(_freeze(table if table is not None else DEFAULT_ROLE_KEYWORDS)))


def _match(title: str, keywords: tuple[_Keyword, ...]) -> str | None:
    if not title.strip():
        return None
    folded = _fold(title)
    for keyword in keywords:
        if keyword.pattern is None:
            if keyword.text in folded:
                return keyword.role
        elif keyword.pattern.search(folded):
            return keyword.role
    return "other"


def role_inferrer(table: RoleTable) -> Callable[[str], str | None]:
    """``infer_role`` bound to one table, remembering titles already seen (for a batch)."""
    frozen = _freeze(table)

    @lru_cache(maxsize=4096)
    def infer(title: str) -> str | None:
        return _match(title, _compile(frozen))

    return infer
