"""The accounts API: search, detail with people and roles, aliases, the role keyword table."""

from fastapi.testclient import TestClient

from leadpond.normalise.roles import DEFAULT_ROLE_KEYWORDS
from tests.conftest import Tracker


def _seed(track: Tracker) -> None:
    track.identify(
        "u1",
        traits={"email": "a@transwarp.io", "company": "北京星环信息科技有限公司", "title": "CTO"},
    )
    track.identify("u2", traits={"email": "b@qq.com", "company": "星环科技", "title": "部门经理"})
    track.identify("u3", traits={"email": "c@huawei.com", "company": "华为技术有限公司"})


def test_search_by_name_goes_through_normalisation(track: Tracker, api: TestClient) -> None:
    _seed(track)
    for typed in ("星环科技", "北京星环信息科技有限公司", "星环信息科技（上海）有限公司"):
        page = api.get("/api/v1/accounts", params={"name": typed}).json()
        assert [a["name"] for a in page["items"]] == ["北京星环信息科技有限公司"], typed
    assert api.get("/api/v1/accounts", params={"name": "中国银行"}).json()["total"] == 0
    assert api.get("/api/v1/accounts").json()["total"] == 2
    first = api.get("/api/v1/accounts", params={"limit": 1, "offset": 1}).json()
    assert (first["total"], len(first["items"])) == (2, 1)


def test_search_by_domain(track: Tracker, api: TestClient) -> None:
    _seed(track)
    page = api.get("/api/v1/accounts", params={"domain": "https://www.huawei.com/cn"}).json()
    assert [a["name"] for a in page["items"]] == ["华为技术有限公司"]
    bad = api.get("/api/v1/accounts", params={"domain": "not a domain"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_input")


def test_detail_lists_people_with_roles(track: Tracker, api: TestClient) -> None:
    _seed(track)
    [account] = api.get("/api/v1/accounts", params={"domain": "transwarp.io"}).json()["items"]
    detail = api.get(f"/api/v1/accounts/{account['id']}").json()
    assert sorted((p["title"], p["role"], p["is_primary"]) for p in detail["people"]) == [
        ("CTO", "executive", True),
        ("部门经理", "department_head", True),
    ]
    assert {"kind": "domain", "value": "transwarp.io"} in detail["keys"]
    missing = api.get("/api/v1/accounts/999999999")
    assert (missing.status_code, missing.json()["code"]) == (404, "account_not_found")


def test_an_alias_attaches_explicitly_and_then_matches(track: Tracker, api: TestClient) -> None:
    _seed(track)
    [starring] = api.get("/api/v1/accounts", params={"name": "星环科技"}).json()["items"]
    [huawei] = api.get("/api/v1/accounts", params={"domain": "huawei.com"}).json()["items"]
    assert api.get("/api/v1/accounts", params={"name": "StarRing Technology"}).json()["total"] == 0
    response = api.post(
        f"/api/v1/accounts/{starring['id']}/aliases", json={"alias": "StarRing Technology"}
    )
    assert response.status_code == 200, response.text
    assert {"kind": "alias", "value": "starringtechnology"} in response.json()["keys"]
    again = api.post(
        f"/api/v1/accounts/{starring['id']}/aliases", json={"alias": "Starring Tech Co., Ltd."}
    )
    assert again.status_code == 200
    taken = api.post(
        f"/api/v1/accounts/{huawei['id']}/aliases", json={"alias": "StarRing Technology Ltd"}
    )
    assert (taken.status_code, taken.json().get("code")) == (409, "alias_taken"), taken.text
    empty = api.post(f"/api/v1/accounts/{huawei['id']}/aliases", json={"alias": "有限公司"})
    assert (empty.status_code, empty.json().get("code")) == (400, "invalid_input"), empty.text
    missing = api.post("/api/v1/accounts/999999999/aliases", json={"alias": "X Corp"})
    assert missing.status_code == 404
    track.identify("u9", traits={"email": "z@gmail.com", "company": "StarRing Technology Co., Ltd"})
    people = api.get(f"/api/v1/accounts/{starring['id']}").json()["people"]
    assert len(people) == 3


def test_the_role_keyword_table_is_workspace_data(track: Tracker, api: TestClient) -> None:
    assert api.get("/api/v1/accounts/settings/roles").json()["roles"] == DEFAULT_ROLE_KEYWORDS
    table = {**DEFAULT_ROLE_KEYWORDS, "procurement": ["采购", "商务"]}
    saved = api.put("/api/v1/accounts/settings/roles", json={"roles": table})
    assert saved.status_code == 200, saved.text
    assert api.get("/api/v1/accounts/settings/roles").json()["roles"]["procurement"] == [
        "采购",
        "商务",
    ]
    track.identify("u1", traits={"email": "a@transwarp.io", "title": "商务专员"})
    [account] = api.get("/api/v1/accounts").json()["items"]
    [person] = api.get(f"/api/v1/accounts/{account['id']}").json()["people"]
    assert person["role"] == "procurement"
    bad = api.put("/api/v1/accounts/settings/roles", json={"roles": {"boss": ["老板"]}})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_input")


def test_accounts_need_an_api_key(client: TestClient) -> None:
    assert client.get("/api/v1/accounts").status_code == 401
