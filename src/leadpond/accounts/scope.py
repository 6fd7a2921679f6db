"""Where every read of a workspace's accounts and their people starts (built on ``kit.scope``).

Reads of an account's people start from ``live_links``: a person merged away is nobody's
colleague and counts at no account.
"""

import uuid
from typing import Any

from sqlalchemy import Select, select

from leadpond.accounts.models import Account, PersonAccount
from leadpond.kit.scope import in_workspace, owned
from leadpond.profiles.models import Person
from leadpond.profiles.scope import live


def accounts(workspace_id: uuid.UUID) -> Select[Account]:
    """Every account of the workspace: the start of every read of accounts."""
    return in_workspace(Account, workspace_id)


def live_links(workspace_id: uuid.UUID, *columns: Any) -> Select[Any]:
    """The workspace's person-account links (``columns`` of them, default the rows) whose
    person is live."""
    return (
        select(*(columns or (PersonAccount,)))
        .join(Person, Person.id == PersonAccount.person_id)
        .where(owned(PersonAccount, workspace_id), live())
    )
