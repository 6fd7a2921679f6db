"""Persona memberships kept by the live path equal the personas' criteria evaluated on read, and
segment sizes kept by every entry and exit equal the member rows (both databases)."""

import uuid
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from leadpond.conditions.ast import Persona
from leadpond.db.engine import read_only, unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.playbooks.service import start_workspace
from leadpond.profiles.models import Person
from leadpond.segments import personas
from leadpond.segments.build import person_filter
from leadpond.segments.definitions import load_segments
from leadpond.segments.models import PersonaBuild, SegmentMember
from leadpond.segments.scheduler import refresh_workspace
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.segments.helpers import ago

USERS = [f"u{i}" for i in range(6)]
ANONYMOUS = [f"a{i}" for i in range(3)]
TITLES = ["CIO", "首席信息官", "IT总监", "工程师", "采购经理", None]
INDUSTRIES = ["bank", "银行", "retail", None]
COMPANIES = ["招商银行", "京东零售", "星环科技"]

IDENTIFY = st.builds(
    lambda user, title, industry, company, days: {
        "type": "identify",
        "userId": user,
        "timestamp": ago(days),
        "traits": {
            k: v
            for k, v in {"title": title, "industry": industry, "company": company}.items()
            if v is not None
        },
    },
    st.sampled_from(USERS),
    st.sampled_from(TITLES),
    st.sampled_from(INDUSTRIES),
    st.sampled_from([*COMPANIES, None]),
    st.integers(0, 20),
)
# A group call fills the account's industry: everyone there may become (or stop being) a bank CIO.
GROUP = st.builds(
    lambda user, company, industry: {
        "type": "group",
        "userId": user,
        "groupId": company,
        "traits": {"name": company, "industry": industry},
    },
    st.sampled_from(USERS),
    st.sampled_from(COMPANIES),
    st.sampled_from(["bank", "金融", "retail"]),
)
# An anonymous visitor with a title, identified later: a merge into the known person.
ANONYMOUS_VISIT = st.builds(
    lambda anon, title: {"type": "identify", "anonymousId": anon, "traits": {"title": title}},
    st.sampled_from(ANONYMOUS),
    st.sampled_from(["CIO", "工程师"]),
)
MERGE = st.builds(
    lambda anon, user: {"type": "identify", "anonymousId": anon, "userId": user, "traits": {}},
    st.sampled_from(ANONYMOUS),
    st.sampled_from(USERS),
)
# Behaviour alone: a page view changes no persona (a new visitor's is judged all the same).
VISIT = st.builds(
    lambda who: {"type": "page", "name": "Pricing", **who},
    st.one_of(
        st.sampled_from(USERS).map(lambda u: {"userId": u}),
        st.sampled_from([*ANONYMOUS, "a9"]).map(lambda a: {"anonymousId": a}),
    ),
)
MESSAGE = st.one_of(IDENTIFY, GROUP, ANONYMOUS_VISIT, MERGE, VISIT)


def _new_workspace() -> NewWorkspace:
    with unit_of_work() as session:
        return start_workspace(session, f"personas-{uuid.uuid4().hex[:8]}")


def _kept_and_evaluated(workspace_id: uuid.UUID) -> dict[str, tuple[set[int], set[int]]]:
    with read_only() as session:
        loaded = load_segments(session, workspace_id)
        assert personas.is_current(session, workspace_id)
        found = {}
        for key in personas.kept(loaded):
            kept = set(session.scalars(personas.members_of(workspace_id, key)))
            clauses = person_filter(session, loaded, Persona(key=key), utcnow())
            evaluated = set(session.scalars(select(Person.id).where(*clauses)))
            found[key] = (kept, evaluated)
        return found


def _sizes_and_rows(workspace_id: uuid.UUID) -> dict[str, tuple[int, int]]:
    with read_only() as session:
        loaded = load_segments(session, workspace_id)
        return {
            s.key: (
                s.member_count,
                session.scalar(select(func.count()).where(SegmentMember.segment_id == s.id)) or 0,
            )
            for s in loaded.segments
            if s.level == "person"
        }


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches=st.lists(st.lists(MESSAGE, min_size=1, max_size=8), min_size=1, max_size=4))
def test_kept_personas_equal_their_criteria_evaluated_on_read(
    client: TestClient, batches: list[list[dict[str, Any]]]
) -> None:
    workspace = _new_workspace()
    track = Tracker(client, workspace)
    for batch in batches:
        track.batch(batch)
        for key, (kept, evaluated) in _kept_and_evaluated(workspace.workspace_id).items():
            assert kept == evaluated, key
        for key, (size, rows) in _sizes_and_rows(workspace.workspace_id).items():
            assert size == rows, key


def test_the_default_playbook_keeps_its_personas(client: TestClient) -> None:
    workspace = _new_workspace()
    with read_only() as session:
        loaded = load_segments(session, workspace.workspace_id)
        assert set(personas.kept(loaded)) == {"bank-cio", "it-decision-maker", "engineer"}
        assert personas.read_accounts(loaded)


def test_the_directory_evaluates_a_persona_until_its_memberships_are_built(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    track.identify("u1", traits={"name": "张伟", "title": "CIO", "industry": "bank"})
    track.identify("u2", traits={"name": "李娜", "title": "工程师"})
    with unit_of_work() as session:
        session.execute(
            delete(PersonaBuild).where(PersonaBuild.workspace_id == workspace.workspace_id)
        )

    def names(persona: str) -> list[str]:
        body = api.get("/api/v1/search/people", params={"persona": persona}).json()
        return sorted(row["name"] for row in body["items"])

    # Not built: evaluated on read, and the live path no longer keeps the rows.
    track.identify("u3", traits={"name": "王芳", "title": "工程师"})
    assert names("engineer") == ["李娜", "王芳"]
    with read_only() as session:
        kept = set(session.scalars(personas.members_of(workspace.workspace_id, "engineer")))
    assert len(kept) == 1
    # The worker's refresh builds them for the current playbook; the directory reads them.
    with unit_of_work() as session:
        refresh_workspace(session, workspace.workspace_id, utcnow())
    with read_only() as session:
        assert personas.is_current(session, workspace.workspace_id)
        kept = set(session.scalars(personas.members_of(workspace.workspace_id, "engineer")))
    assert len(kept) == 2
    assert names("engineer") == ["李娜", "王芳"]
    assert names("bank-cio") == ["张伟"]


def test_a_persona_follows_its_account_when_a_colleague_fills_the_industry(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    track.identify("u1", traits={"name": "张伟", "title": "CIO", "company": "招商银行"})
    assert _kept_and_evaluated(workspace.workspace_id)["bank-cio"] == (set(), set())
    # Another person's group call gives the account its industry: 张伟 is a bank CIO now.
    track.call(
        "group",
        {"userId": "u2", "groupId": "招商银行", "traits": {"name": "招商银行", "industry": "银行"}},
    )
    kept, evaluated = _kept_and_evaluated(workspace.workspace_id)["bank-cio"]
    assert kept == evaluated and len(kept) == 1
