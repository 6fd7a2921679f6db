"""Anti-spam that really blocks: a filled honeypot, a post sooner than a person could type,
a replayed page, a burst from one address and a failed captcha create nobody, and a bot gets
the same success page a person gets; both databases."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadpond.config import get_settings
from leadpond.db.engine import read_only
from leadpond.engage.models import FormSubmission
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.workspaces.service import NewWorkspace
from tests.engage.forms_helpers import PERSON, make_form, open_page, post

SUCCESS = "试用申请已收到"


def _created(workspace: NewWorkspace) -> tuple[int, int]:
    """(submissions, events) of the workspace."""
    with read_only() as session:
        submissions = session.scalar(
            select(func.count()).where(owned(FormSubmission, workspace.workspace_id))
        )
        events = session.scalar(select(func.count()).where(owned(Event, workspace.workspace_id)))
    return int(submissions or 0), int(events or 0)


def test_honeypot_fast_fill_and_replays_create_nobody(
    api: TestClient, workspace: NewWorkspace
) -> None:
    make_form(api, min_fill_seconds=3)
    url = f"/f/trial?ws={workspace.workspace_id.hex}"
    opened = open_page(api, url)
    # A bot fills the page and posts it at once, 20 times in a second, from one address.
    for i in range(20):
        answer = post(api, url, opened, **{**PERSON, "email": f"bot{i}@spam.cn"})
        assert answer.status_code == 200 and SUCCESS in answer.text  # it learns nothing
    honeypot = post(api, url, open_page(api, url), **PERSON, website="http://spam.cn")
    assert honeypot.status_code == 200 and SUCCESS in honeypot.text
    forged = post(api, url, {"_t": "x.y", "_aid": "a"}, **PERSON)
    assert forged.status_code == 200 and SUCCESS in forged.text
    assert _created(workspace) == (0, 0)


def test_a_burst_from_one_address_stops_at_the_forms_limit(
    api: TestClient, workspace: NewWorkspace
) -> None:
    make_form(api, posts_per_minute=5)
    url = f"/f/trial?ws={workspace.workspace_id.hex}"
    pages = [open_page(api, url) for _ in range(20)]  # each post with its own page
    for i, opened in enumerate(pages):
        answer = post(
            api, url, opened, **{**PERSON, "email": f"p{i}@acme.cn", "mobile": f"13800138{i:03d}"}
        )
        assert answer.status_code == 200 and SUCCESS in answer.text
    assert _created(workspace)[0] == 5
    replayed = post(api, url, pages[0], **{**PERSON, "email": "again@acme.cn"})
    assert replayed.status_code == 200 and _created(workspace)[0] == 5


class _Verifier(BaseHTTPRequestHandler):
    """A captcha provider's siteverify: only the token "good" with our secret passes."""

    def do_POST(self) -> None:
        body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        ok = body.get("response") == ["good"] and body.get("secret") == ["s3cret"]
        answer = json.dumps({"success": ok}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def captcha_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Verifier)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/siteverify"
    settings = get_settings()
    monkeypatch.setattr(settings, "forms_captcha_verify_url", url)
    monkeypatch.setattr(settings, "forms_captcha_secret", "s3cret")
    monkeypatch.setattr(settings, "forms_captcha_site_key", "site-key-1")
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_a_form_with_captcha_takes_only_a_verified_token(
    api: TestClient, workspace: NewWorkspace, captcha_provider: str
) -> None:
    make_form(api, captcha=True)
    url = f"/f/trial?ws={workspace.workspace_id.hex}"
    page = api.get(url)
    assert 'data-sitekey="site-key-1"' in page.text
    refused = post(api, url, open_page(api, url), **PERSON, captcha_token="bad")
    assert refused.status_code == 422 and "请完成人机验证" in refused.text
    assert _created(workspace) == (0, 0)
    accepted = post(api, url, open_page(api, url), **PERSON, **{"cf-turnstile-response": "good"})
    assert accepted.status_code == 200 and SUCCESS in accepted.text
    assert _created(workspace)[0] == 1


def test_captcha_cannot_be_switched_on_without_a_provider(api: TestClient) -> None:
    from tests.engage.forms_helpers import TRIAL

    answer = api.post("/api/v1/forms", json={**TRIAL, "captcha": True})
    assert answer.status_code == 422
    assert (answer.json()["code"], answer.json()["field"]) == ("invalid_form", "captcha")
