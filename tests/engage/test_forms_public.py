"""The hosted form page met by a real HTTP client (uvicorn on a loopback port): a post
becomes a person with the traits typed, Form Submitted (and the form's conversion event)
through the ingest path joined to the cookie, and the consent with its wording; twice is once;
bad input changes nothing; both databases."""

import httpx
from sqlalchemy import select

from leadpond.channels.models import Subscription
from leadpond.db.engine import read_only
from leadpond.engage.models import FormSubmission
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.profiles.models import Person
from leadpond.workspaces.service import NewWorkspace
from tests.engage.forms_helpers import PERSON, make_form, open_page, post

PHONE = "+8613800138000"


def _events(workspace: NewWorkspace) -> list[Event]:
    with read_only() as session:
        return list(
            session.scalars(
                select(Event)
                .where(owned(Event, workspace.workspace_id), Event.source == "forms")
                .order_by(Event.id)
            )
        )


def test_a_post_is_a_person_with_their_cookie_history_and_consent(
    api: httpx.Client, workspace: NewWorkspace, live_url: str
) -> None:
    form = make_form(api)
    url = f"/f/trial?ws={workspace.workspace_id.hex}&utm_source=wechat&channel=group-3"
    assert form["url"].endswith(url.split("&")[0])
    with httpx.Client(base_url=live_url, timeout=60) as browser:
        page = browser.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert page.status_code == 200 and "申请试用" in page.text and "手机" in page.text
        assert 'name="website"' in page.text  # the honeypot is there
        visitor = browser.cookies["lp_aid"]
        opened = open_page(browser, url)
        assert opened["utm_source"] == "wechat" and opened["channel"] == "group-3"
        done = post(browser, url, opened, **PERSON, consent_email_ok="1")
    assert done.status_code == 200, done.text
    assert "试用申请已收到" in done.text
    worker.drain()
    events = _events(workspace)
    assert [(e.type, e.event) for e in events] == [
        ("identify", None),
        ("track", "Form Submitted"),
        ("track", "Trial Requested"),
    ]
    assert {e.anonymous_id for e in events} == {visitor}
    [person_id] = {e.person_id for e in events}
    submitted = events[1].payload
    props = submitted["properties"]
    assert props["form_id"] == "trial" and props["channel"] == "group-3"
    assert props["fields"] == sorted(PERSON) and props["product"] == "graph"
    assert submitted["context"]["campaign"] == {"source": "wechat"}
    assert events[2].payload["properties"]["product"] == "graph"
    with read_only() as session:
        person = session.get(Person, person_id)
        assert person is not None
        assert person.traits["phone"] == PHONE and person.traits["email"] == "wang.fang@acme.cn"
        assert (
            person.traits["company"] == "北京爱客科技有限公司" and person.traits["name"] == "王芳"
        )
        consent = session.scalars(
            select(Subscription).where(owned(Subscription, workspace.workspace_id))
        ).one()
        assert (consent.person_id, consent.channel, consent.status) == (
            person_id,
            "email",
            "subscribed",
        )
        assert consent.source == "form:trial"
        assert consent.detail["wording"] == "我同意接收产品资讯邮件"
        submission = session.scalars(
            select(FormSubmission).where(owned(FormSubmission, workspace.workspace_id))
        ).one()
        assert submission.person_id == person_id
    listed = api.get("/api/v1/forms/trial/submissions").json()
    assert listed["total"] == 1 and listed["items"][0]["person_id"] == person_id


def test_the_same_form_twice_is_one_person_and_one_submission(
    api: httpx.Client, workspace: NewWorkspace, live_url: str
) -> None:
    make_form(api)
    url = f"/f/trial?ws={workspace.workspace_id.hex}&lang=en"
    for _ in range(2):  # two browsers, one person: the mobile and email say who
        with httpx.Client(base_url=live_url, timeout=60) as browser:
            done = post(browser, url, open_page(browser, url), **PERSON)
            assert done.status_code == 200 and "Your trial request is in" in done.text
    worker.drain()
    events = _events(workspace)
    assert [e.event for e in events] == [None, "Form Submitted", "Trial Requested"]
    with read_only() as session:
        people = session.scalars(
            select(Person.id).where(
                owned(Person, workspace.workspace_id), Person.merged_into_id.is_(None)
            )
        ).all()
        assert len(people) == 1
        [submission] = session.scalars(
            select(FormSubmission).where(owned(FormSubmission, workspace.workspace_id))
        ).all()
        assert submission.repeats == 1


def test_bad_input_shows_the_page_again_and_creates_nothing(
    api: httpx.Client, workspace: NewWorkspace, live_url: str
) -> None:
    make_form(api)
    url = f"/f/trial?ws={workspace.workspace_id.hex}"
    with httpx.Client(base_url=live_url, timeout=60) as browser:
        opened = open_page(browser, url)
        refused = post(browser, url, opened, **{**PERSON, "mobile": "12345", "company": ""})
        assert refused.status_code == 422
        assert "请输入有效的手机号码" in refused.text and "此项必填" in refused.text
        assert 'value="王芳"' in refused.text  # what was typed stays
        english = post(browser, f"{url}&lang=en", opened, **{**PERSON, "product": "nope"})
        assert english.status_code == 422 and "Choose one from the list" in english.text
    worker.drain()
    assert _events(workspace) == []
    with read_only() as session:
        assert (
            session.scalars(
                select(FormSubmission).where(owned(FormSubmission, workspace.workspace_id))
            ).all()
            == []
        )


def test_a_form_that_redirects_answers_303_and_unknown_forms_404(
    api: httpx.Client, workspace: NewWorkspace, live_url: str
) -> None:
    make_form(api, redirect_url="https://acme.cn/thanks")
    make_form(api, key="draft_one", status="draft")
    url = f"/f/trial?ws={workspace.workspace_id.hex}"
    with httpx.Client(base_url=live_url, timeout=60) as browser:
        done = post(browser, url, open_page(browser, url), **PERSON)
        assert (done.status_code, done.headers["location"]) == (303, "https://acme.cn/thanks")
        for missing in ("/f/nothing", f"/f/draft_one?ws={workspace.workspace_id.hex}"):
            assert browser.get(missing).status_code == 404
        script = browser.get(f"/f/trial/embed.js?ws={workspace.workspace_id.hex}")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert "iframe" in script.text and "ajs_anonymous_id" in script.text
        embedded = browser.get(f"{url}&embed=1&aid=site-visitor-1")
        assert "postMessage" in embedded.text and 'value="site-visitor-1"' in embedded.text
