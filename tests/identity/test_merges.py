"""Merges are recorded and reversible; duplicates without a shared identifier go to review."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.conftest import Tracker


def _person(api: TestClient, **query: str) -> dict:  # type: ignore[type-arg]
    items = api.get("/api/v1/people", params=query).json()["items"]
    assert len(items) == 1, items
    return items[0]  # type: ignore[no-any-return]


def _merge_two(track: Tracker) -> None:
    """A website visitor and a WeChat follower turn out to be one human."""
    track.identify(
        traits={"email": "sun@acme.cn", "name": "孙丽", "title": "IT经理"}, anonymousId="web"
    )
    track.track("Whitepaper Downloaded", anonymousId="web")
    track.identify(
        traits={"phone": "13700001111", "title": "信息中心主任"},
        anonymousId="wx",
        # Later than the other calls (its title wins), within the day ahead the API accepts.
        timestamp=(datetime.now(UTC) + timedelta(hours=12)).isoformat(),
    )
    track.identify(traits={"email": "sun@acme.cn", "phone": "13700001111"}, anonymousId="form")


def test_merge_is_recorded_and_old_id_redirects(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"email": "sun@acme.cn"}, anonymousId="web")
    web_person = _person(api, anonymous_id="web")
    track.identify(traits={"phone": "13700001111"}, anonymousId="wx")
    wx_person = _person(api, anonymous_id="wx")
    track.identify(traits={"email": "sun@acme.cn", "phone": "13700001111"}, anonymousId="form")
    survivor = _person(api, email="sun@acme.cn")
    assert survivor["id"] == min(web_person["id"], wx_person["id"])
    loser_id = max(web_person["id"], wx_person["id"])
    assert api.get(f"/api/v1/people/{loser_id}").json()["id"] == survivor["id"]
    merges = api.get(f"/api/v1/people/{loser_id}/merges").json()
    assert merges["total"] == 1
    merge = merges["items"][0]
    assert (merge["survivor_id"], merge["merged_id"]) == (survivor["id"], loser_id)
    assert merge["identifier"] == {"type": "phone", "value": "+8613700001111"}
    assert merge["reason"] == "identifier_match"
    assert merge["actor"] == "pipeline"
    assert merge["event_id"] is not None
    assert api.get("/api/v1/people").json()["total"] == 1


def test_merged_profile_keeps_newest_traits_and_all_events(track: Tracker, api: TestClient) -> None:
    _merge_two(track)
    person = _person(api, phone="13700001111")
    assert person["event_count"] == 4
    assert person["traits"]["title"] == "信息中心主任"
    assert person["traits"]["name"] == "孙丽"
    assert api.get(f"/api/v1/people/{person['id']}/timeline").json()["total"] == 4


def test_unmerge_round_trip(track: Tracker, api: TestClient) -> None:
    _merge_two(track)
    merged = _person(api, email="sun@acme.cn")
    response = api.post(
        f"/api/v1/people/{merged['id']}/unmerge",
        json={"identifier": {"type": "phone", "value": "137 0000 1111"}},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    web, wx = _person(api, email="sun@acme.cn"), _person(api, phone="13700001111")
    assert web["id"] != wx["id"]
    assert result["restored_person_id"] in (web["id"], wx["id"])
    assert wx["traits"] == {"phone": "13700001111", "title": "信息中心主任"}
    assert web["traits"]["title"] == "IT经理"
    assert web["event_count"] + wx["event_count"] == 4
    assert _person(api, anonymous_id="wx")["id"] == wx["id"]
    history = api.get(f"/api/v1/people/{wx['id']}/merges").json()["items"]
    assert history[0]["undone_at"] is not None
    # The same evidence again does not glue them back: the operator said they differ.
    track.identify(traits={"email": "sun@acme.cn", "phone": "13700001111"}, anonymousId="form-2")
    assert _person(api, email="sun@acme.cn")["id"] != _person(api, phone="13700001111")["id"]


def test_unmerge_errors(track: Tracker, api: TestClient) -> None:
    _merge_two(track)
    person = _person(api, email="sun@acme.cn")
    own = api.post(
        f"/api/v1/people/{person['id']}/unmerge",
        json={"identifier": {"type": "email", "value": "sun@acme.cn"}},
    )
    missing = api.post(
        f"/api/v1/people/{person['id']}/unmerge",
        json={"identifier": {"type": "email", "value": "nobody@acme.cn"}},
    )
    unknown = api.post(
        "/api/v1/people/999999999/unmerge",
        json={"identifier": {"type": "email", "value": "a@b.cn"}},
    )
    malformed = api.post(f"/api/v1/people/{person['id']}/unmerge", json={"identifier": {}})
    assert (own.status_code, own.json()["code"]) == (409, "nothing_to_unmerge")
    assert (missing.status_code, missing.json()["code"]) == (404, "identifier_not_found")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "person_not_found")
    assert malformed.status_code == 422
    assert _person(api, email="sun@acme.cn")["event_count"] == 4


def test_lookalikes_without_shared_identifier_are_suggested_not_merged(
    track: Tracker, api: TestClient
) -> None:
    track.identify(
        traits={"name": "周 杰", "company": "星环科技", "phone": "13911112222"}, anonymousId="a"
    )
    track.identify(
        traits={"name": "周杰", "company": "星环科技 ", "phone": "13911112228"}, anonymousId="b"
    )
    assert api.get("/api/v1/people").json()["total"] == 2
    pending = api.get("/api/v1/identity/suggestions").json()
    assert pending["total"] == 1
    suggestion = pending["items"][0]
    assert "similar_phone" in suggestion["reasons"]
    accepted = api.post(f"/api/v1/identity/suggestions/{suggestion['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["suggestion"]["status"] == "accepted"
    assert api.get("/api/v1/people").json()["total"] == 1
    merges = api.get(f"/api/v1/people/{accepted.json()['person_id']}/merges").json()["items"]
    assert merges[0]["reason"] == "suggestion_accepted"
    again = api.post(f"/api/v1/identity/suggestions/{suggestion['id']}/accept")
    assert (again.status_code, again.json()["code"]) == (409, "suggestion_decided")


def test_rejected_suggestion_keeps_people_apart(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"name": "王伟", "company": "工商银行"}, anonymousId="a")
    track.identify(traits={"name": "王伟", "company": "工商银行"}, anonymousId="b")
    suggestion = api.get("/api/v1/identity/suggestions").json()["items"][0]
    assert api.post(f"/api/v1/identity/suggestions/{suggestion['id']}/reject").status_code == 200
    assert api.get("/api/v1/identity/suggestions").json()["total"] == 0
    rejected = api.get("/api/v1/identity/suggestions", params={"status": "rejected"}).json()
    assert rejected["total"] == 1
    track.identify(traits={"name": "王伟", "company": "工商银行", "title": "CIO"}, anonymousId="a")
    assert api.get("/api/v1/identity/suggestions").json()["total"] == 0


def test_suggestion_merge_still_obeys_limits(track: Tracker, api: TestClient) -> None:
    track.identify("u1", {"name": "陈晨", "company": "中信证券"})
    track.identify("u2", {"name": "陈晨", "company": "中信证券"})
    suggestion = api.get("/api/v1/identity/suggestions").json()["items"][0]
    refused = api.post(f"/api/v1/identity/suggestions/{suggestion['id']}/accept")
    assert (refused.status_code, refused.json()["code"]) == (409, "merge_not_allowed")
    assert api.get("/api/v1/people").json()["total"] == 2


def test_identity_settings_change_limits_and_blocked_values(
    track: Tracker, api: TestClient
) -> None:
    defaults = api.get("/api/v1/identity/settings").json()
    by_type = {t["type"]: t for t in defaults["types"]}
    assert (by_type["user_id"]["limit"], by_type["crm_id"]["limit"], by_type["email"]["limit"]) == (
        1,
        1,
        5,
    )
    assert defaults["types"][0]["type"] == "user_id"
    saved = api.put(
        "/api/v1/identity/settings",
        json={"types": {"email": {"priority": 50, "limit": 1}}, "blocked": [r"@blocked\.cn$"]},
    )
    assert saved.status_code == 200, saved.text
    track.identify(traits={"email": "one@acme.cn", "phone": "13600000001"}, anonymousId="x1")
    track.identify(traits={"email": "two@acme.cn", "phone": "13600000001"}, anonymousId="x2")
    track.identify(traits={"email": "boss@blocked.cn"}, anonymousId="x3")
    # The phone outranks the email: the event joins the phone's person, the second email is
    # dropped because that person may hold only one.
    assert _person(api, phone="13600000001")["event_count"] == 2
    assert api.get("/api/v1/people", params={"email": "two@acme.cn"}).json()["total"] == 0
    assert api.get("/api/v1/people", params={"email": "boss@blocked.cn"}).json()["total"] == 0


def test_invalid_identity_settings_are_rejected_and_change_nothing(api: TestClient) -> None:
    bad_regex = api.put("/api/v1/identity/settings", json={"blocked": ["(unclosed"]})
    bad_limit = api.put(
        "/api/v1/identity/settings", json={"types": {"email": {"priority": 1, "limit": 0}}}
    )
    bad_name = api.put(
        "/api/v1/identity/settings", json={"types": {"E Mail": {"priority": 1, "limit": 1}}}
    )
    assert {bad_regex.status_code, bad_limit.status_code, bad_name.status_code} == {422}
    assert all(set(r.json()) >= {"code", "message"} for r in (bad_regex, bad_limit, bad_name))
    types = {t["type"]: t for t in api.get("/api/v1/identity/settings").json()["types"]}
    assert types["email"]["limit"] == 5


def test_identity_api_needs_an_api_key(client: TestClient) -> None:
    assert client.get("/api/v1/identity/settings").status_code == 401
    assert client.get("/api/v1/identity/suggestions").status_code == 401


def test_suggestions_read_company_names_as_the_accounts_do(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"name": "钱进", "company": "北京星环信息科技有限公司"}, anonymousId="a")
    track.identify(
        traits={"name": "钱 进", "company": "星环信息科技（北京）有限公司"}, anonymousId="b"
    )
    assert api.get("/api/v1/identity/suggestions").json()["total"] == 1
