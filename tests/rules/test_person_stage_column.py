"""``person.stage`` (the directory's stage filter) is the person's ``person_stage`` row, whatever
wrote it: the pipeline at any batch size and arrival order, late events replayed, merges and
unmerges, history replays, and a journey's set-stage step."""

import os
import uuid
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, select, text

from leadpond.db import migrate
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.playbooks.service import apply_playbook, replay_history, start_workspace
from leadpond.profiles.models import Person
from leadpond.rules.models import PersonStage
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.journeys.conftest import playbook_with
from tests.pipeline.test_delivery_shapes import (
    Messages,
    backfilled,
    histories,
    one_per_batch,
    shuffled,
)

# A form makes the person a customer, through the event log and the rules (the journey's path).
PROMOTE = {
    "key": "promote",
    "trigger": {"event": "Form Submitted"},
    "steps": [{"id": "stage", "set_stage": "customer"}],
}


def _workspace_with_journey() -> NewWorkspace:
    with unit_of_work() as session:
        workspace = start_workspace(session, f"stage-{uuid.uuid4().hex[:8]}")
        apply_playbook(session, workspace.workspace_id, playbook_with(PROMOTE), actor="test")
    return workspace


def stages(ws: uuid.UUID) -> dict[int, tuple[str | None, str | None]]:
    """Every person of the workspace (merged ones too): (person.stage, their person_stage row)."""
    with read_only() as session:
        rows = session.execute(
            select(Person.id, Person.stage, PersonStage.stage)
            .outerjoin(PersonStage, PersonStage.person_id == Person.id)
            .where(owned(Person, ws))
        )
        return {pid: (on_person, held) for pid, on_person, held in rows}


def assert_kept(ws: uuid.UUID) -> dict[int, tuple[str | None, str | None]]:
    found = stages(ws)
    differing = {pid: pair for pid, pair in found.items() if pair[0] != pair[1]}
    assert not differing, f"person.stage != person_stage (person: (column, row)): {differing}"
    return found


def _person(api: TestClient, **query: str) -> dict[str, Any]:
    [person] = api.get("/api/v1/people", params=query).json()["items"]
    return person  # type: ignore[no-any-return]


def test_every_writer_of_a_stage_keeps_the_person_row(client: TestClient) -> None:
    workspace = _workspace_with_journey()
    ws = workspace.workspace_id
    track = Tracker(client, workspace)
    client.headers["Authorization"] = f"Bearer {workspace.api_key}"
    track.identify(traits={"email": "sun@acme.cn", "name": "孙丽"}, anonymousId="web")
    track.identify(traits={"phone": "13700001111"}, anonymousId="wx")
    track.track("Form Submitted", anonymousId="wx", properties={"form": "booth"})
    found = assert_kept(ws)
    wx = _person(client, anonymous_id="wx")
    assert found[wx["id"]] == ("customer", "customer")  # the journey's step
    web_id = _person(client, anonymous_id="web")["id"]
    assert found[web_id][0] not in (None, "customer")
    # The two are one human: the merged-away person has no stage left, the survivor holds one.
    track.identify(traits={"email": "sun@acme.cn", "phone": "13700001111"}, anonymousId="form")
    found = assert_kept(ws)
    survivor = _person(client, email="sun@acme.cn")["id"]
    gone = ({web_id, wx["id"]} - {survivor}).pop()
    assert found[gone] == (None, None)
    assert found[survivor] == ("customer", "customer")
    split = client.post(
        f"/api/v1/people/{survivor}/unmerge",
        json={"identifier": {"type": "phone", "value": "13700001111"}},
    )
    assert split.status_code == 200, split.text
    found = assert_kept(ws)
    assert found[gone][0] is not None
    replay_history(ws)
    assert assert_kept(ws) == found
    page = client.get("/api/v1/search/people", params={"stage": "customer"}).json()
    assert [item["id"] for item in page["items"]] == [wx["id"]]


@settings(
    max_examples=int(os.environ.get("LEADPOND_PROPERTY_EXAMPLES", "6")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=histories(), seed=st.integers(min_value=0, max_value=10_000))
def test_any_history_in_any_delivery_keeps_person_stage(
    client: TestClient, messages: Messages, seed: int
) -> None:
    for deliver in (shuffled(seed), one_per_batch, backfilled):
        workspace = _workspace_with_journey()
        deliver(client, workspace, [dict(m) for m in messages])
        found = assert_kept(workspace.workspace_id)
        # Someone holds a stage (every history has an event of a person), or nothing was tested.
        assert any(on_person for on_person, _ in found.values())


@pytest.fixture(autouse=True)
def _isolated(backend: str) -> None:
    """Every workspace here is new; the pipeline has nothing pending from other tests."""
    worker.drain()


BEFORE_PERSON_STAGE = "20261208_0300_dashboard_tallies"


def test_the_migration_copies_the_stages_held_before_it(empty_database: str) -> None:
    migrate.upgrade(empty_database, revision=BEFORE_PERSON_STAGE)
    postgres = empty_database.startswith("postgresql")
    engine = create_engine(empty_database)
    ws = uuid.uuid4()
    ws_value = str(ws) if postgres else ws.hex
    old = datetime(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO workspace (id, name, created_at) VALUES (:id, 'old', :at)"),
            {"id": ws_value, "at": old},
        )
        for pid in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO person (id, workspace_id, traits, trait_times, first_seen_at,"
                    " last_seen_at, event_count, created_at, updated_at)"
                    " VALUES (:id, :ws, '{}', '{}', :at, :at, 1, :at, :at)"
                ),
                {"id": pid, "ws": ws_value, "at": old},
            )
        for pid, stage in ((1, "dormant"), (3, "customer")):
            connection.execute(
                text(
                    "INSERT INTO person_stage (person_id, workspace_id, stage, entered_at)"
                    " VALUES (:id, :ws, :stage, :at)"
                ),
                {"id": pid, "ws": ws_value, "stage": stage, "at": old},
            )
    migrate.upgrade(empty_database)
    with engine.connect() as connection:
        found = dict(connection.execute(text("SELECT id, stage FROM person")).all())
        tallied = connection.execute(text("SELECT sum(people) FROM people_day")).scalar()
        indexes = {index["name"] for index in inspect(connection).get_indexes("person")}
    engine.dispose()
    assert found == {1: "dormant", 2: None, 3: "customer"}
    assert tallied == 3  # the fill moved nobody in the dashboard's tallies
    assert {"ix_person_stage_last_seen", "ix_person_known_stage"} <= indexes
