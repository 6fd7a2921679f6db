"""The demo content pool: at least 60 published items over every stage and every type, by
several authors, holding the ids the demo world's content events name."""

from datetime import date

from fastapi.testclient import TestClient

from leadpond.db.engine import unit_of_work
from leadpond.demo.catalog import build_catalog
from leadpond.demo.content import ensure_demo_content
from leadpond.demo.world import WorldSpec
from leadpond.workspaces.service import NewWorkspace


def test_the_demo_pool_covers_every_stage_and_type(
    api: TestClient, workspace: NewWorkspace
) -> None:
    spec = WorldSpec(seed=7, people=10, end=date(2026, 12, 1))
    with unit_of_work() as session:
        made = ensure_demo_content(session, workspace.workspace_id, spec)
    with unit_of_work() as session:
        assert ensure_demo_content(session, workspace.workspace_id, spec) == 0  # once
    assert made >= 60
    coverage = api.get("/api/v1/content/coverage").json()
    cells = coverage["cells"]
    served = {c["stage"] for c in cells if c["items"]}
    assert served == set(coverage["stages"]) - {"dormant", "disqualified"}
    assert {c["type"] for c in cells if c["items"]} == set(coverage["types"])
    assert 0 < coverage["missing"] < len(cells)  # gaps to show
    authors = api.get("/api/v1/content/authors").json()["items"]
    assert len(authors) >= 4 and sum(a["items"] for a in authors) == made
    catalog = build_catalog(spec.seed, spec.start_at.timestamp(), spec.end_at.timestamp())
    case = catalog.content["case"][0]
    listed = api.get("/api/v1/content", params={"type": "case", "limit": 1000}).json()["items"]
    assert case.id in {i["key"] for i in listed}  # what Content Viewed names
