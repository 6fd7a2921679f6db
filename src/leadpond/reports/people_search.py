"""Who a directory search means: the ways a person matches what the marketer typed.

Each way is a condition on ``Person`` that an index answers: a name's start is a range of
``ix_person_name_key``, an email's or a phone's start a range of the identifiers' unique
(workspace, type, value) key, a company the people of the accounts its name or domain keys
find. Chinese names are also found by any part (a given name, 伟 finds 张伟): on PostgreSQL the
GIN index ``ix_person_name_characters`` finds the names holding each character of the search;
SQLite reads its names from ``ix_person_name_key`` without the rows. That search stops at
``NAME_INSIDE_LIMIT`` matches and is read here once, as a list of ids.

The ways are kept apart rather than joined into one ``UNION``: a union of ids is read whole
before the first row comes out (a common surname at a million people: 50,000 names, three
times for the probe, the count and the page); each way alone is an index range that stops at a
limit, and the page sorted by the directory's order can be taken from each way's first rows.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from leadpond.accounts import directory as account_directory
from leadpond.accounts.models import PersonAccount
from leadpond.db.engine import is_postgres
from leadpond.identity.models import Identifier
from leadpond.kit.scope import owned
from leadpond.profiles.models import HAN_CLASS, Person, han_name, name_characters, name_key

# Above every character a prefix can continue with, for index range scans.
_TOP = "\U0010ffff"
_COMPANY_MATCH_LIMIT = 200
# Name matches found inside names (a given name: 伟 finds 张伟), at most: on SQLite that search
# reads the workspace's names rather than an index range, so it stops here.
NAME_INSIDE_LIMIT = 1000
# What people type around a phone number: "(+86) 153-2275 0830", "0755.8888.1234".
_PHONE_PUNCTUATION = " +-().\u3000（）"
_HAN = re.compile(HAN_CLASS)


@dataclass(frozen=True)
class Way:
    """One way people match a search: a condition on ``Person``. ``listed`` when the condition
    is a list of ids (sort those by looking them up, not by walking the sort's index);
    ``holders`` when it is the people of other rows (identifiers, account links): those rows'
    person ids, read from their own index (a person may appear twice)."""

    where: ColumnElement[bool]
    listed: bool = False
    holders: Select[Any] | None = None


def tidy(q: str) -> str:
    """The search as meant: spaces around and doubled inside dropped, and none between Chinese
    characters (``张 伟`` is 张伟, as names are stored)."""
    text = " ".join(q.split())
    return re.sub(rf"(?<={_HAN.pattern}) (?={_HAN.pattern})", "", text)


def searches_inside_names(q: str) -> bool:
    """Chinese names are found by any part (a given name), not only by their start: the name
    has no space to start a word at. Such a search stops at ``NAME_INSIDE_LIMIT`` matches."""
    text = q.strip()
    return bool(_HAN.search(text)) and "@" not in text


def _prefix(column: Any, text: str) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = (column >= text) & (column < text + _TOP)
    return condition


def _identifier_prefix(workspace_id: uuid.UUID, id_type: str, text: str) -> Way:
    holders = select(Identifier.person_id).where(
        owned(Identifier, workspace_id), Identifier.type == id_type, _prefix(Identifier.value, text)
    )
    return Way(Person.id.in_(holders), holders=holders)


def ways(session: Session, workspace_id: uuid.UUID, q: str) -> list[Way]:
    """The ways a person matches ``q``: their name, email, phone or company starts with (or
    names) it, or their account's domain is (or starts with) it; a Chinese name holds it."""
    q = tidy(q)
    text = q.lower()
    digits = "".join(ch for ch in text if ch.isdigit())
    if "@" in text:
        return [_identifier_prefix(workspace_id, "email", text)]
    if len(digits) >= 3 and all(ch.isdigit() or ch in _PHONE_PUNCTUATION for ch in text):
        found = [_identifier_prefix(workspace_id, "phone", "+" + digits)]
        if not digits.startswith("86"):
            found.append(_identifier_prefix(workspace_id, "phone", "+86" + digits))
        return found
    found = [Way(_prefix(name_key(), text))]
    if searches_inside_names(text):
        inside = _inside_names(session, workspace_id, text)
        if inside:
            found.append(Way(among(session, inside), listed=True))
    found.append(_identifier_prefix(workspace_id, "email", text))
    accounts = account_directory.accounts_for_search(
        session, workspace_id, q, limit=_COMPANY_MATCH_LIMIT
    )
    if accounts:
        linked = select(PersonAccount.person_id).where(
            owned(PersonAccount, workspace_id), PersonAccount.account_id.in_(accounts)
        )
        found.append(Way(Person.id.in_(linked), holders=linked))
    return found


def among(session: Session, ids: list[int]) -> ColumnElement[bool]:
    """The person is one of these (thousands, sorted): on PostgreSQL one array parameter, as
    ``IN`` with a parameter each cost 0.3 s for 8,000 ids before the statement ran."""
    if is_postgres(session):
        listed = bindparam(None, sorted(ids), type_=ARRAY(BigInteger))
        return Person.id == any_(listed)
    return Person.id.in_(sorted(ids))


def _inside_names(session: Session, workspace_id: uuid.UUID, text: str) -> list[int]:
    """At most ``NAME_INSIDE_LIMIT`` people (merged-away ones too) whose name holds ``text``."""
    found: Select[Any] = select(Person.id).where(
        owned(Person, workspace_id), name_key().contains(text, autoescape=True)
    )
    if is_postgres(session):
        # The indexed names holding every Chinese character of the search; LIKE tests those.
        characters = sorted({ch for ch in text if _HAN.match(ch)})
        found = found.where(han_name(), name_characters().contains(characters))
    else:
        # Every name (a range of the name index): SQLite then reads the names from the index
        # instead of each person's traits, 10x faster when few match.
        found = found.where(name_key() >= "")
    return list(session.scalars(found.limit(NAME_INSIDE_LIMIT)))
