"""A tracking link's counters: clicks and scans by people, bots apart, each browser once as a
visitor — kept in the click's transaction; the migration that adds them counts older links from
the event log, and gets what live counting got (both databases)."""

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.acquisition.models import TrackingLink, TrackingLinkVisitor
from leadpond.app import create_app
from leadpond.db import migrate
from leadpond.db.engine import read_only
from tests.acquisition.test_links import READER, SCANNER, _clicked, _make

COUNTERS = ("clicks", "scans", "visitors", "bot_hits")


def _listed(api: TestClient, code: str) -> dict[str, int]:
    answer = api.get("/api/v1/links")
    assert answer.status_code == 200, answer.text
    [link] = [item for item in answer.json()["items"] if item["code"] == code]
    return {k: link[k] for k in COUNTERS}


def test_clicks_scans_and_visitors_are_counted_bots_apart(api: TestClient) -> None:
    code = str(_make(api, campaign="expo")["code"])
    assert _listed(api, code) == dict.fromkeys(COUNTERS, 0)
    _clicked(api, code, READER)
    _clicked(api, code, READER)  # the same browser again (its cookie)
    _clicked(api, code, READER, s="qr")  # and it scans the poster
    _clicked(api, code, SCANNER)  # a mail gateway's link checker
    with TestClient(create_app(with_worker=False)) as other:  # another phone
        _clicked(other, code, READER, s="qr")
    assert _listed(api, code) == {"clicks": 2, "scans": 2, "visitors": 2, "bot_hits": 1}


def _snapshot() -> tuple[dict[str, tuple[int, ...]], set[tuple[int, str]]]:
    with read_only() as session:
        links = {
            link.code: tuple(getattr(link, k) for k in COUNTERS)
            for link in session.scalars(select(TrackingLink))
        }
        visitors = {
            (row.link_id, row.anonymous_id)
            for row in session.execute(
                select(TrackingLinkVisitor.link_id, TrackingLinkVisitor.anonymous_id)
            )
        }
    return links, visitors


def test_the_migration_counts_older_links_as_live_counting_did(
    api: TestClient, database_url: str
) -> None:
    code = str(_make(api)["code"])
    for headers, params in ((READER, {}), (READER, {"s": "qr"}), (SCANNER, {}), (READER, {})):
        _clicked(api, code, headers, **params)
    live = _snapshot()
    assert live[0][code] == (2, 1, 1, 1)
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "20261207_1700_qr_logo")
    try:
        command.upgrade(config, "heads")
    finally:
        migrate.upgrade(database_url)
    assert _snapshot() == live
