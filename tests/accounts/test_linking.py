"""The pipeline links people to accounts from identify and group calls (Segment API)."""

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from leadpond.accounts.service import relink_people
from leadpond.db.engine import unit_of_work
from leadpond.ingest import importer
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker


def _accounts(api: TestClient, **query: str) -> list[dict[str, Any]]:
    page = api.get("/api/v1/accounts", params=query).json()
    assert page["total"] == len(page["items"])
    return page["items"]  # type: ignore[no-any-return]


def _detail(api: TestClient, account_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/accounts/{account_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _person_id(api: TestClient, **query: str) -> int:
    items = api.get("/api/v1/people", params=query).json()["items"]
    assert len(items) == 1, items
    return int(items[0]["id"])


def _links(api: TestClient, person_id: int) -> dict[str, dict[str, Any]]:
    """The person's links, by account name."""
    found = {}
    for account in _accounts(api):
        for link in _detail(api, account["id"])["people"]:
            if link["person_id"] == person_id:
                found[account["name"]] = link
    return found


def test_free_mail_never_creates_an_account(track: Tracker, api: TestClient) -> None:
    track.identify("u1", traits={"email": "zhang@qq.com"})
    track.identify("u2", traits={"email": "li@vip.163.com"})
    track.identify("u3", traits={"email": "wang@gmail.com", "company": "个人"})
    assert _accounts(api) == []


def test_a_corporate_domain_creates_one_account_for_its_people(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", traits={"email": "zhang@transwarp.io", "title": "CIO"})
    track.identify("u2", traits={"email": "Li.Si@Transwarp.IO", "title": "软件工程师"})
    [account] = _accounts(api, domain="transwarp.io")
    assert account["domain"] == "transwarp.io"
    people = _detail(api, account["id"])["people"]
    assert sorted((p["role"], p["source"]) for p in people) == [
        ("engineer", "email_domain"),
        ("executive", "email_domain"),
    ]


def test_free_mail_with_a_company_name_finds_the_account_by_name(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", traits={"email": "a@transwarp.io", "company": "北京星环信息科技有限公司"})
    track.identify("u2", traits={"email": "b@qq.com", "company": "星环信息科技（上海）有限公司"})
    track.identify("u3", traits={"email": "c@vip.163.com", "company": "星环科技", "title": "采购"})
    [account] = _accounts(api)
    assert account["name"] == "北京星环信息科技有限公司"
    assert len(_detail(api, account["id"])["people"]) == 3
    assert "qq.com" not in {k["value"] for k in _detail(api, account["id"])["keys"]}


def test_confusable_banks_stay_apart(track: Tracker, api: TestClient) -> None:
    track.identify("u1", traits={"company": "中国银行股份有限公司"})
    track.identify("u2", traits={"company": "中国建设银行股份有限公司北京市分行"})
    track.identify("u3", traits={"company": "建设银行"})
    names = sorted(a["name"] for a in _accounts(api))
    assert names == ["中国建设银行股份有限公司北京市分行", "中国银行股份有限公司"]


def test_a_group_call_creates_the_account_and_makes_it_primary(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", traits={"email": "zhang@acme-consulting.cn", "title": "项目经理"})
    track.call(
        "group",
        {
            "userId": "u1",
            "groupId": "crm-42",
            "traits": {
                "name": "星环信息科技（上海）有限公司",
                "website": "https://transwarp.io",
                "industry": "软件",
            },
        },
    )
    person = _person_id(api, user_id="u1")
    links = _links(api, person)
    assert set(links) == {"acme-consulting.cn", "星环信息科技（上海）有限公司"}
    assert links["星环信息科技（上海）有限公司"]["is_primary"] is True
    assert links["星环信息科技（上海）有限公司"]["source"] == "group"
    assert links["acme-consulting.cn"]["is_primary"] is False
    [account] = _accounts(api, domain="transwarp.io")
    assert account["industry"] == "软件"
    assert {"kind": "group_id", "value": "crm-42"} in _detail(api, account["id"])["keys"]
    # Someone else naming the company finds the group's account.
    track.identify("u2", traits={"company": "北京星环信息科技有限公司"})
    assert len(_detail(api, account["id"])["people"]) == 2


def test_the_first_account_is_primary_without_a_group_call(track: Tracker, api: TestClient) -> None:
    track.identify("u1", traits={"company": "华为技术有限公司"}, timestamp="2026-01-01T00:00:00Z")
    track.identify(
        "u1", traits={"company": "深圳市腾讯计算机系统有限公司"}, timestamp="2026-03-01T00:00:00Z"
    )
    links = _links(api, _person_id(api, user_id="u1"))
    assert links["华为技术有限公司"]["is_primary"] is True
    assert links["深圳市腾讯计算机系统有限公司"]["is_primary"] is False


def test_a_later_title_updates_the_role(track: Tracker, api: TestClient) -> None:
    track.identify("u1", traits={"company": "科大讯飞股份有限公司", "title": "软件工程师"})
    track.identify("u1", traits={"title": "信息中心主任"})
    [link] = _links(api, _person_id(api, user_id="u1")).values()
    assert (link["title"], link["role"]) == ("信息中心主任", "executive")
    track.identify("u1", traits={"title": "Old title"}, timestamp="2000-01-01T00:00:00Z")
    [link] = _links(api, _person_id(api, user_id="u1")).values()
    assert link["title"] == "信息中心主任"


def test_credit_codes_find_the_account_and_invalid_ones_are_ignored(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", traits={"company": "星环科技", "credit_code": "91110000600037341L"})
    track.identify("u2", traits={"company": "Transwarp", "uscc": "9111 0000 6000 3734 1L"})
    track.identify("u3", traits={"company": "别的公司", "credit_code": "91110000600037341M"})
    by_code = [a for a in _accounts(api) if a["uscc"] == "91110000600037341L"]
    assert len(by_code) == 1
    assert len(_detail(api, by_code[0]["id"])["people"]) == 2
    assert len(_accounts(api)) == 2


def test_merging_people_unions_their_links_and_unmerge_splits_them(
    track: Tracker, api: TestClient
) -> None:
    track.identify(traits={"email": "sun@transwarp.io"}, anonymousId="web")
    track.identify(traits={"phone": "13700001111", "company": "华为技术有限公司"}, anonymousId="wx")
    web, wx = _person_id(api, anonymous_id="web"), _person_id(api, anonymous_id="wx")
    track.identify(traits={"email": "sun@transwarp.io", "phone": "13700001111"}, anonymousId="f")
    survivor = _person_id(api, email="sun@transwarp.io")
    loser = ({web, wx} - {survivor}).pop()
    assert set(_links(api, survivor)) == {"transwarp.io", "华为技术有限公司"}
    assert _links(api, loser) == {}
    response = api.post(
        f"/api/v1/people/{survivor}/unmerge",
        json={"identifier": {"type": "phone", "value": "13700001111"}},
    )
    assert response.status_code == 200, response.text
    assert set(_links(api, _person_id(api, phone="13700001111"))) == {"华为技术有限公司"}
    assert set(_links(api, _person_id(api, email="sun@transwarp.io"))) == {"transwarp.io"}


def test_relink_people_recomputes_from_events(
    track: Tracker, api: TestClient, workspace: NewWorkspace
) -> None:
    track.identify("u1", traits={"company": "比亚迪股份有限公司", "title": "采购经理"})
    person = _person_id(api, user_id="u1")
    with unit_of_work() as session:
        relink_people(session, workspace.workspace_id, [person])
    [link] = _links(api, person).values()
    assert (link["role"], link["is_primary"], link["source"]) == (
        "procurement",
        True,
        "company_name",
    )


def test_an_address_only_account_folds_into_the_named_one(track: Tracker, api: TestClient) -> None:
    track.identify("u1", traits={"email": "info@ultrapower.com.cn"})
    track.identify("u2", traits={"email": "x@qq.com", "company": "北京神州泰岳软件股份有限公司"})
    assert len(_accounts(api)) == 2
    track.identify("u3", traits={"email": "y@ultrapower.com.cn", "company": "神州泰岳"})
    [account] = _accounts(api)
    assert (account["name"], account["domain"]) == (
        "北京神州泰岳软件股份有限公司",
        "ultrapower.com.cn",
    )
    assert len(_detail(api, account["id"])["people"]) == 3


def test_csv_import_links_people_to_accounts(
    api: TestClient, workspace: NewWorkspace, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    lines = [
        "email,公司名称,职务",
        "a@qq.com,北京星环信息科技有限公司,信息中心主任",
        "b@transwarp.io,星环科技,采购",
    ]
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode("utf-8"))
    with path.open("rb") as stream:
        importer.import_people(workspace.workspace_id, stream, path.name)
    worker.drain()
    [account] = _accounts(api)
    people = _detail(api, account["id"])["people"]
    assert sorted(p["role"] for p in people) == ["executive", "procurement"]
