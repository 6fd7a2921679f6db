"""A full rebuild replays history through the current rules: same rules, same graph."""

from fastapi.testclient import TestClient

from tests.conftest import Tracker, finish_job


def _world(track: Tracker) -> None:
    track.track("Page Viewed", anonymousId="c1")
    track.identify("u1", {"email": "li@acme.cn", "phone": "13500000001"}, anonymousId="c1")
    track.identify(traits={"email": "shared@acme.cn", "phone": "13500000002"}, anonymousId="c2")
    track.identify(traits={"email": "shared@acme.cn", "phone": "13500000003"}, anonymousId="c3")
    track.identify("u2", {"email": "li@acme.cn"}, anonymousId="c4")
    # Two people met later by one form: a merge the rebuild must reproduce, not re-create.
    track.identify(traits={"email": "he@acme.cn"}, anonymousId="c5")
    track.identify(traits={"phone": "13500000009"}, anonymousId="c6")
    track.identify(traits={"email": "he@acme.cn", "phone": "13500000009"}, anonymousId="c7")


def _snapshot(api: TestClient) -> list[tuple[int, int, list[tuple[str, str]]]]:
    people = api.get("/api/v1/people", params={"limit": 1000}).json()["items"]
    return sorted(
        (p["id"], p["event_count"], sorted((i["type"], i["value"]) for i in p["identifiers"]))
        for p in people
    )


def test_rebuild_under_unchanged_rules_changes_nothing(track: Tracker, api: TestClient) -> None:
    _world(track)
    before = _snapshot(api)
    report = finish_job(api, api.post("/api/v1/identity/rebuild"))["result"]
    assert report["events"] == 8
    assert (report["events_moved"], report["people_created"], report["identifiers_changed"]) == (
        0,
        0,
        0,
    )
    assert _snapshot(api) == before


def test_rebuild_applies_a_new_blocked_value_to_history(track: Tracker, api: TestClient) -> None:
    _world(track)
    blob = api.get("/api/v1/people", params={"email": "shared@acme.cn"}).json()["items"][0]
    assert blob["event_count"] == 2
    settings = api.get("/api/v1/identity/settings").json()
    api.put(
        "/api/v1/identity/settings",
        json={"blocked": [*settings["blocked"], r"^shared@"]},
    ).raise_for_status()
    report = finish_job(api, api.post("/api/v1/identity/rebuild"))["result"]
    assert report["people_created"] == 1
    assert report["events_moved"] == 1
    two = api.get("/api/v1/people", params={"phone": "13500000002"}).json()["items"][0]
    three = api.get("/api/v1/people", params={"phone": "13500000003"}).json()["items"][0]
    assert two["id"] != three["id"]
    assert api.get("/api/v1/people", params={"email": "shared@acme.cn"}).json()["total"] == 0
    assert two["traits"]["phone"] == "13500000002"
    assert three["traits"]["phone"] == "13500000003"


def test_rebuild_keeps_operator_separations(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"email": "he@acme.cn"}, anonymousId="web")
    track.identify(traits={"phone": "13600000009"}, anonymousId="wx")
    track.identify(traits={"email": "he@acme.cn", "phone": "13600000009"}, anonymousId="form")
    person = api.get("/api/v1/people", params={"email": "he@acme.cn"}).json()["items"][0]
    api.post(
        f"/api/v1/people/{person['id']}/unmerge",
        json={"identifier": {"type": "phone", "value": "13600000009"}},
    ).raise_for_status()
    report = finish_job(api, api.post("/api/v1/identity/rebuild"))["result"]
    assert report["people_retired"] == 0, report
    email_side = api.get("/api/v1/people", params={"email": "he@acme.cn"}).json()["items"][0]
    phone_side = api.get("/api/v1/people", params={"phone": "13600000009"}).json()["items"][0]
    assert email_side["id"] != phone_side["id"]
    assert email_side["event_count"] + phone_side["event_count"] == 3


def test_rebuild_from_the_cli(track: Tracker, workspace: object) -> None:
    from typer.testing import CliRunner

    from leadpond.cli import app

    _world(track)
    result = CliRunner().invoke(
        app, ["identity", "rebuild", "--workspace", str(track.workspace.workspace_id)]
    )
    assert result.exit_code == 0, result.output
    assert '"events_moved": 0' in result.output


def test_rebuild_leaves_derived_events_with_their_person(track: Tracker, api: TestClient) -> None:
    track.identify("u1", {"email": "zhao@acme.cn"}, anonymousId="c1")
    track.track("Trial Requested", user_id="u1")
    person = api.get("/api/v1/people", params={"user_id": "u1"}).json()["items"][0]
    before = api.get(f"/api/v1/people/{person['id']}/timeline").json()
    derived = [e for e in before["items"] if e["source"] == "derived"]
    assert derived, "the default playbook derives a key event from a trial request"
    finish_job(api, api.post("/api/v1/identity/rebuild"))
    after = api.get(f"/api/v1/people/{person['id']}/timeline").json()
    assert {e["message_id"] for e in after["items"]} == {e["message_id"] for e in before["items"]}


def test_a_merge_the_rules_no_longer_make_revives_the_person_it_merged_away(
    track: Tracker, api: TestClient
) -> None:
    # Two visitors met by one form (email + phone): merged live. Blocking the phone undoes
    # that merge on rebuild: the phone visitor's person holds its events again, live.
    track.identify(traits={"email": "wu@acme.cn"}, anonymousId="web")
    track.identify(traits={"phone": "13700000008"}, anonymousId="wx")
    track.identify(traits={"email": "wu@acme.cn", "phone": "13700000008"}, anonymousId="form")
    before = api.get("/api/v1/people", params={"limit": 1000}).json()["items"]
    assert [p["event_count"] for p in before] == [3]
    settings = api.get("/api/v1/identity/settings").json()
    api.put(
        "/api/v1/identity/settings", json={"blocked": [*settings["blocked"], r"13700000008$"]}
    ).raise_for_status()
    report = finish_job(api, api.post("/api/v1/identity/rebuild"))["result"]
    assert report["people_revived"] == 1, report
    after = api.get("/api/v1/people", params={"limit": 1000}).json()["items"]
    assert sorted(p["event_count"] for p in after) == [1, 2]  # every event on a live person
    ids = {p["id"] for p in after}
    for person in after:  # no one is merged into someone merged away
        assert api.get(f"/api/v1/people/{person['id']}").json()["id"] in ids
    # A second rebuild under the same rules changes nothing.
    again = finish_job(api, api.post("/api/v1/identity/rebuild"))["result"]
    assert (again["events_moved"], again["people_revived"], again["people_retired"]) == (0, 0, 0)
