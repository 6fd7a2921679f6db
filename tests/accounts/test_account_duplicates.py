"""Accounts that are one company: traditional characters and departments meet at once; an
English name is suggested; merging accounts is recorded and undone exactly."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Tracker, finish_job

BANK = "天津凯天农村商业银行股份有限公司"


def _accounts(api: TestClient) -> list[dict[str, Any]]:
    return api.get("/api/v1/search/accounts", params={"limit": 100}).json()["items"]  # type: ignore[no-any-return]


def _three_banks(track: Tracker) -> None:
    track.identify("u1", {"name": "张伟", "company": BANK})
    track.identify("u2", {"name": "李静", "company": "天津凯天农村商業銀行股份有限公司"})
    track.identify("u3", {"name": "Tom Li", "company": "Tianjin Kaitian Bank Co., Ltd."})
    track.identify("u4", {"name": "王芳", "company": f"{BANK} 科技部"})


def test_the_three_banks_are_one_account_after_accepting_the_suggestion(
    track: Tracker, api: TestClient
) -> None:
    _three_banks(track)
    assert len(_accounts(api)) == 2  # traditional and department variants met at once
    finish_job(api, api.post("/api/v1/accounts/suggestions/scan"))
    [suggestion] = api.get("/api/v1/accounts/suggestions").json()["items"]
    levels = {(e["comparison"], e["level"]) for e in suggestion["evidence"]}
    assert ("name", "english_name_is_pinyin") in levels and ("region", "exact") in levels
    decided = api.post(f"/api/v1/accounts/suggestions/{suggestion['id']}/accept").json()
    [account] = _accounts(api)
    assert account["id"] == decided["account_id"]
    detail = api.get(f"/api/v1/accounts/{account['id']}").json()
    assert len(detail["people"]) == 4
    # Later forms with the English name land on the merged account.
    track.identify("u5", {"name": "Amy Wu", "company": "Tianjin Kaitian Bank"})
    assert len(_accounts(api)) == 1


def test_an_account_merge_is_undone_exactly(track: Tracker, api: TestClient) -> None:
    _three_banks(track)
    before = {a["id"]: a for a in _accounts(api)}
    chinese, english = sorted(before)
    keys_before = {
        a: sorted((k["kind"], k["value"]) for k in api.get(f"/api/v1/accounts/{a}").json()["keys"])
        for a in before
    }
    merged = api.post(f"/api/v1/accounts/{chinese}/merge", json={"account_id": english})
    assert merged.status_code == 200, merged.text
    assert api.get(f"/api/v1/accounts/{english}").status_code == 404
    [history] = api.get(f"/api/v1/accounts/{chinese}/merges").json()["items"]
    assert history["merged_name"] == "Tianjin Kaitian Bank Co., Ltd."
    undone = api.post(f"/api/v1/accounts/merges/{history['id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"] is not None
    after = {a["id"]: a for a in _accounts(api)}
    assert {a: after[a]["people"] for a in after} == {a: before[a]["people"] for a in before}
    keys_after = {
        a: sorted((k["kind"], k["value"]) for k in api.get(f"/api/v1/accounts/{a}").json()["keys"])
        for a in after
    }
    assert keys_after == keys_before
    again = api.post(f"/api/v1/accounts/merges/{history['id']}/undo")
    assert again.status_code == 409
    # Kept apart: a scan does not suggest the pair again.
    finish_job(api, api.post("/api/v1/accounts/suggestions/scan"))
    assert api.get("/api/v1/accounts/suggestions").json()["total"] == 0


def test_merging_an_account_into_itself_or_a_missing_one_is_refused(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", {"company": BANK})
    [account] = _accounts(api)
    itself = api.post(f"/api/v1/accounts/{account['id']}/merge", json={"account_id": account["id"]})
    assert itself.status_code == 400 and itself.json()["code"] == "invalid_input"
    missing = api.post(f"/api/v1/accounts/{account['id']}/merge", json={"account_id": 999999})
    assert missing.status_code == 404
    assert len(_accounts(api)) == 1


def test_a_crm_account_and_a_product_tenant_of_one_company_are_suggested(
    track: Tracker, api: TestClient
) -> None:
    """Two systems' group ids (a CRM account id, a tenant id) are no proof of two companies."""
    track.call("group", {"userId": "u1", "groupId": "001A0022EA3908FB", "traits": {"name": BANK}})
    tenant = {"name": "天津凯天农村商業銀行", "plan": "trial"}
    track.call("group", {"userId": "u2", "groupId": "tn_d875d01d17fe", "traits": tenant})
    track.call(
        "group",
        {"userId": "u4", "groupId": "tn_aaaa", "traits": {"name": "Tianjin Municipal Bureau"}},
    )
    track.call(
        "group", {"userId": "u5", "groupId": "tn_bbbb", "traits": {"name": "天津市税务局 IT部"}}
    )
    finish_job(api, api.post("/api/v1/accounts/suggestions/scan"))
    items = api.get("/api/v1/accounts/suggestions").json()["items"]
    named = {
        frozenset(
            api.get(f"/api/v1/accounts/{s[k]}").json()["name"]
            for k in ("account_a_id", "account_b_id")
        ): {e["level"] for e in s["evidence"]}
        for s in items
    }
    assert named == {
        frozenset({BANK, "天津凯天农村商業銀行"}): {"same_normalised_name"},
        frozenset({"Tianjin Municipal Bureau", "天津市税务局 IT部"}): {
            "english_agency_name",
            "exact",
        },
    }
