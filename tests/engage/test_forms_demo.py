"""The demo workspace's forms: the keys and traits the generated world's form posts use, made
once, and the trial form's post is the Trial Requested the S1 journey starts on."""

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.db.engine import read_only, unit_of_work
from leadpond.demo.forms import ensure_demo_forms
from leadpond.engage import forms
from leadpond.engage.forms_render import form_fields
from leadpond.ingest.models import Event
from leadpond.kit.pagination import PageQuery
from leadpond.kit.scope import owned
from leadpond.playbooks.service import default_source
from leadpond.workspaces.service import NewWorkspace
from tests.engage.forms_helpers import open_page, post

# What demo/journey.py and demo/conversion.py post as a form's traits.
WORLD_TRAITS = {"name", "email", "phone", "company", "title", "industry"}


def test_the_demo_forms_match_the_world_and_are_made_once(
    api: TestClient, workspace: NewWorkspace
) -> None:
    with unit_of_work() as session:
        assert ensure_demo_forms(session, workspace.workspace_id) == [
            "trial",
            "demo",
            "whitepaper_gate",
        ]
        assert ensure_demo_forms(session, workspace.workspace_id) == []
        _total, made = forms.list_forms(session, workspace.workspace_id, PageQuery())
    for form in made:
        assert form.status == "published"
        assert {f.trait() for f in form_fields(form)} >= WORLD_TRAITS
    trial = next(f for f in made if f.key == "trial")
    assert trial.conversion_event == "Trial Requested"
    assert "trigger: {event: Trial Requested}" in default_source()
    with unit_of_work() as session:  # this test posts at once; a person takes seconds
        forms.get_form(session, workspace.workspace_id, "trial").min_fill_seconds = 0
    url = f"/f/trial?ws={workspace.workspace_id.hex}"
    values = {"name": "赵敏", "phone": "13700137000", "email": "zhao.min@acme.cn"}
    values |= {"company": "杭州数澜科技有限公司", "product": "graph_database"}
    answer = post(api, url, open_page(api, url), **values)
    assert answer.status_code == 200 and "试用申请已收到" in answer.text
    with read_only() as session:
        requested = session.scalars(
            select(Event.payload).where(
                owned(Event, workspace.workspace_id), Event.event == "Trial Requested"
            )
        ).one()
    assert requested["properties"]["product"] == "graph_database"
    assert requested["properties"]["form_id"] == "trial"
