"""Account matching, measured: pairwise precision and recall on the labelled world."""

import json
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.accounts.models import PersonAccount
from leadpond.db.engine import read_only
from leadpond.identity.models import Identifier
from leadpond.workspaces.service import NewWorkspace
from tests.accounts.world import build_world, pairwise_scores
from tests.conftest import Tracker


def _primary_accounts(workspace: NewWorkspace) -> dict[str, int]:
    with read_only() as session:
        rows = session.execute(
            select(Identifier.value, PersonAccount.account_id)
            .join(PersonAccount, PersonAccount.person_id == Identifier.person_id)
            .where(
                Identifier.workspace_id == workspace.workspace_id,
                Identifier.type == "user_id",
                PersonAccount.is_primary.is_(True),
            )
        ).all()
    return {user_id: account for user_id, account in rows}


def test_the_labelled_world_is_big_and_confusable_enough() -> None:
    world = build_world()
    labelled = [r for r in world.records if r.company is not None]
    variants = Counter(r.company for r in labelled if r.call == "identify")
    assert len(labelled) >= 300
    assert len(variants) >= 80
    assert sum(1 for r in world.records if r.anonymous_id) >= 20
    assert sum(1 for r in world.records if r.traits.get("email", "").startswith("info@")) >= 9


def test_account_matching_precision_and_recall(
    track: Tracker, api: TestClient, workspace: NewWorkspace
) -> None:
    world = build_world()
    first = [r for r in world.records if not r.after_aliases]
    for start in range(0, len(first), 60):
        track.batch([r.message() for r in first[start : start + 60]])
    # An operator attaches English names and abbreviations to the accounts they belong to.
    for _company, registered, alias in world.aliases:
        found = api.get("/api/v1/accounts", params={"name": registered}).json()
        assert found["total"] >= 1, registered
        account = next((a for a in found["items"] if a["name"] == registered), found["items"][0])
        attached = api.post(f"/api/v1/accounts/{account['id']}/aliases", json={"alias": alias})
        assert attached.status_code == 200, attached.text
    track.batch([r.message() for r in world.records if r.after_aliases])

    found = _primary_accounts(workspace)
    truth = {r.user_id: r.company for r in world.records}
    scores = pairwise_scores(truth, dict(found))
    print("\naccount matching:", json.dumps(scores))
    assert not [r.user_id for r in world.records if r.company is None and r.user_id in found]
    assert scores["precision"] >= 0.995
    assert scores["recall"] >= 0.98
