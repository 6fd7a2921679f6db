"""Progressive profiling: a known visitor (by their cookie or a signed link) is asked the next
fields they have not told, at most the form's number; a property test pins the rule."""

import re
import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from leadpond.db.engine import unit_of_work
from leadpond.engage import forms
from leadpond.engage.forms_render import shown_fields
from leadpond.engage.models import Form
from leadpond.kit.pagination import PageQuery
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.engage.forms_helpers import PERSON, TRIAL, make_form, open_page, post

_ASKED = re.compile(r'<label for="lp-([a-z_]+)"')
TRAITS = ["name", "phone", "email", "company", "title"]


def _asked(html: str) -> list[str]:
    return _ASKED.findall(html)


def test_a_returning_visitor_is_asked_what_they_have_not_told(
    api: TestClient, workspace: NewWorkspace, live_url: str
) -> None:
    make_form(api, progressive_max=2)
    url = f"/f/trial?ws={workspace.workspace_id.hex}"
    with httpx.Client(base_url=live_url, timeout=60) as browser:
        first = browser.get(url)
        assert _asked(first.text) == ["name", "mobile"]
        values = {"name": PERSON["name"], "mobile": PERSON["mobile"]}
        assert post(browser, url, open_page(browser, url), **values).status_code == 200
        worker.drain()
        second = browser.get(url)  # the lp_aid cookie says who this is
        assert _asked(second.text) == ["email", "company"]
        values = {"email": PERSON["email"], "company": PERSON["company"]}
        assert post(browser, url, open_page(browser, url), **values).status_code == 200
        worker.drain()
        assert _asked(browser.get(url).text) == ["title", "product"]
    with unit_of_work() as session:
        person = forms.known_person(session, workspace.workspace_id, None, None)
        assert person is None
        submissions = forms.list_submissions(session, workspace.workspace_id, "trial", PageQuery())[
            2
        ]
        person_id = submissions[0].person_id
        assert person_id is not None and {s.person_id for s in submissions} == {person_id}
        token = forms.person_token(session, workspace.workspace_id, person_id)
    with httpx.Client(base_url=live_url, timeout=60) as stranger_browser:  # an email's link: ?pt=
        by_link = stranger_browser.get(f"{url}&pt={token}")
        assert _asked(by_link.text) == ["title", "product"]
        assert _asked(stranger_browser.get(f"{url}&pt=forged.token").text) == ["name", "mobile"]


def _form(progressive_max: int | None) -> Form:
    fields: list[dict[str, Any]] = TRIAL["fields"]
    return Form(workspace_id=uuid.uuid4(), key="f", fields=fields, progressive_max=progressive_max)


@given(
    known=st.dictionaries(st.sampled_from(TRAITS), st.sampled_from(["x", "", None])),
    limit=st.one_of(st.none(), st.integers(min_value=1, max_value=8)),
)
def test_shown_fields_are_the_first_unknown_ones(known: dict[str, Any], limit: int | None) -> None:
    form = _form(limit)
    shown = shown_fields(form, known)
    visible = [f for f in shown if f.type != "hidden"]
    every = [f for f in shown_fields(_form(None), {}) if f.type != "hidden"]
    assert [f.key for f in shown if f.type == "hidden"] == ["utm_source", "channel"]
    if limit is None:
        assert visible == every
        return
    unknown = [f for f in every if not (f.trait() and known.get(f.trait() or "") not in (None, ""))]
    assert visible == unknown[:limit]
