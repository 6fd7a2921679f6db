"""Tracking links and QR codes (issue #19, first slice): made per channel, a click or scan
recorded through the ingest path as the visitor's event with the channel and campaign (their
first channel is the link's, not the ingestion path), scanners flagged, no open redirect, on
both databases."""

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.db.engine import read_only
from leadpond.ingest.models import Event
from leadpond.kit.scope import owned
from leadpond.pipeline import worker
from leadpond.profiles.models import Person
from leadpond.workspaces.service import NewWorkspace

READER = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) MicroMessenger/8.0.50"}
SCANNER = {"User-Agent": "Barracuda Sentinel (EE)"}
ARTICLE = "https://acme.cn/blog/graph-db?from=site&utm_source=old"


def _make(api: TestClient, **body: object) -> dict[str, object]:
    answer = api.post("/api/v1/links", json={"url": ARTICLE, "channel": "wechat-group-1", **body})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _clicked(api: TestClient, code: str, headers: dict[str, str], **params: str) -> str:
    answer = api.get(f"/l/{code}", headers=headers, params=params, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def test_a_click_is_the_visitors_event_with_the_links_channel(
    api: TestClient, workspace: NewWorkspace
) -> None:
    link = _make(api, campaign="graph-launch", medium="social", content="article-12")
    assert len(str(link["code"])) == 8 and str(link["url"]).endswith(f"/l/{link['code']}")
    target = parse_qs(urlsplit(str(link["target"])).query)
    assert target["utm_source"] == ["wechat-group-1"] and target["utm_medium"] == ["social"]
    assert target["utm_campaign"] == ["graph-launch"] and target["from"] == ["site"]
    location = _clicked(api, str(link["code"]), READER)
    went = urlsplit(location)
    assert went.netloc == "acme.cn" and went.path == "/blog/graph-db"
    visitor = api.cookies.get("lp_aid")
    assert visitor and parse_qs(went.query)["ajs_aid"] == [visitor]  # the site's SDK joins
    _clicked(api, str(link["code"]), READER, s="qr")  # the same visitor scans the poster
    worker.drain()
    with read_only() as session:
        events = list(
            session.execute(
                select(Event.event, Event.person_id, Event.payload, Event.source).where(
                    owned(Event, workspace.workspace_id), Event.source == "links"
                )
            )
        )
        assert sorted(e.event for e in events) == ["Link Clicked", "QR Scanned"]
        [person_id] = {e.person_id for e in events}
        props = events[0].payload["properties"]
        assert (props["channel"], props["campaign"], props["bot"]) == (
            "wechat-group-1",
            "graph-launch",
            False,
        )
        person = session.get(Person, person_id)
        assert person is not None and person.first_channel == "wechat"
        assert person.first_touch is not None
        assert person.first_touch["channel"] == "wechat-group-1"


def test_scanners_are_flagged_and_codes_go_nowhere_else(
    api: TestClient, workspace: NewWorkspace
) -> None:
    link = _make(api)
    _clicked(api, str(link["code"]), SCANNER)
    worker.drain()
    with read_only() as session:
        payload = session.scalars(
            select(Event.payload).where(
                owned(Event, workspace.workspace_id), Event.source == "links"
            )
        ).one()
    assert payload["properties"]["bot"] is True
    assert payload["properties"]["bot_reason"] == "scanner_agent"
    missing = api.get("/l/nothing1", follow_redirects=False)
    assert (missing.status_code, missing.json()["code"]) == (404, "link_not_found")
    for bad in ("javascript:alert(1)", "//evil.cn/x", "ftp://acme.cn/f"):
        refused = api.post("/api/v1/links", json={"url": bad, "channel": "x"})
        assert refused.status_code in (400, 422), bad
        assert refused.json()["code"] in ("invalid_input", "validation_error"), refused.json()
    spaced = api.post("/api/v1/links", json={"url": ARTICLE, "channel": "a/b"})
    assert spaced.status_code == 422


def test_one_link_and_qr_per_group_for_an_article(api: TestClient) -> None:
    groups = [f"wechat-group-{i}" for i in range(1, 4)]
    answer = api.post(
        "/api/v1/links:bulk",
        json={"url": ARTICLE, "channels": groups, "campaign": "s2", "medium": "social"},
    )
    assert answer.status_code == 201, answer.text
    made = answer.json()["items"]
    assert [m["channel"] for m in made] == groups and len({m["code"] for m in made}) == 3
    png = api.get(made[0]["qr_png_url"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    svg = api.get(made[0]["qr_svg_url"])
    assert svg.status_code == 200 and b"<svg" in svg.content
    listed = api.get("/api/v1/links", params={"campaign": "s2"}).json()["items"]
    assert sorted(m["code"] for m in listed) == sorted(m["code"] for m in made)
