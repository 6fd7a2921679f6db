"""Static lists (API, file upload, merges), account segments, time windows, playbooks."""

from datetime import timedelta

from fastapi.testclient import TestClient

from leadpond.db.engine import unit_of_work
from leadpond.kit.clock import utcnow
from leadpond.segments.scheduler import refresh_workspace
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.segments.helpers import ago, create, member_ids, person_id, segment


def test_a_static_list_takes_people_by_hand_by_file_and_feeds_a_dynamic_segment(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", traits={"email": "li@bank.cn", "phone": "13800138000"}, timestamp=ago(2))
    track.identify("u2", traits={"email": "wang@bank.cn"}, timestamp=ago(2))
    track.identify("u3", traits={"email": "zhao@bank.cn"}, timestamp=ago(2))
    u1, u2, u3 = (person_id(api, u) for u in ("u1", "u2", "u3"))
    create(api, key="invited", name="邀请名单", kind="static", people=[u1])
    create(
        api,
        key="invited-bankers",
        condition={"all": [{"segment": "invited"}, {"trait": "email", "contains": "bank"}]},
    )
    assert member_ids(api, "invited-bankers") == {u1}
    upload = "邮箱,备注\nwang@bank.cn,老客户\nnobody@x.cn,?\n".encode()
    response = api.post(
        "/api/v1/segments/invited/members:upload",
        params={"filename": "名单.csv"},
        content=upload,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 1
    assert response.json()["unknown"] == ["row 3: no person with email nobody@x.cn"]
    assert member_ids(api, "invited") == {u1, u2}
    assert member_ids(api, "invited-bankers") == {u1, u2}
    removed = api.post(
        "/api/v1/segments/invited/members", json={"remove": [u1], "add": [u3, 10**9]}
    )
    assert removed.json() == {"added": 1, "removed": 1, "unknown": [str(10**9)]}
    assert member_ids(api, "invited") == {u2, u3}
    assert member_ids(api, "invited-bankers") == {u2, u3}
    assert segment(api, "invited")["count"] == 2
    refused = api.post("/api/v1/segments/invited-bankers/members", json={"add": [u1]})
    assert refused.status_code == 400
    in_use = api.delete("/api/v1/segments/invited")
    assert in_use.status_code == 400 and "invited-bankers" in in_use.json()["message"]


def test_a_merge_moves_list_membership_to_the_survivor(track: Tracker, api: TestClient) -> None:
    track.call("page", {"anonymousId": "a1", "name": "Pricing", "timestamp": ago(2)})
    track.identify("u1", traits={"email": "li@bank.cn"}, timestamp=ago(2))
    anonymous = api.get("/api/v1/people", params={"anonymous_id": "a1"}).json()["items"][0]["id"]
    known = person_id(api, "u1")
    create(api, key="list", kind="static", people=[anonymous])
    create(api, key="pricing", condition={"event": "Page Viewed"})
    assert member_ids(api, "pricing") == {anonymous}
    track.identify("u1", anonymousId="a1", traits={}, timestamp=ago(1))
    survivor = person_id(api, "u1")
    loser = known if survivor == anonymous else anonymous
    assert member_ids(api, "list") == {survivor}
    assert member_ids(api, "pricing") == {survivor}
    history = api.get("/api/v1/segments/pricing/history").json()["items"]
    if loser == anonymous:
        assert any(h["member_id"] == loser and h["change"] == "exited" for h in history)
        assert any("merged into" in h["reason"] for h in history if h["member_id"] == loser)


def test_account_segments_any_all_none(track: Tracker, api: TestClient) -> None:
    people = {"u1": ("甲银行", "CIO"), "u2": ("甲银行", "工程师"), "u3": ("乙保险", "CIO")}
    for user, (company, title) in people.items():
        track.identify(user, traits={"title": title}, timestamp=ago(3))
        track.call("group", {"userId": user, "groupId": company, "traits": {"name": company}})
    accounts = {a["name"]: a["id"] for a in api.get("/api/v1/accounts").json()["items"]}
    cio = {"trait": "title", "eq": "CIO"}
    for match in ("any", "all", "none"):
        create(api, key=f"cio-{match}", level="account", account_match=match, condition=cio)
    assert member_ids(api, "cio-any") == {accounts["甲银行"], accounts["乙保险"]}
    assert member_ids(api, "cio-all") == {accounts["乙保险"]}
    assert member_ids(api, "cio-none") == set()
    track.identify("u3", traits={"title": "顾问"})
    assert member_ids(api, "cio-any") == {accounts["甲银行"]}
    assert member_ids(api, "cio-all") == set()
    assert member_ids(api, "cio-none") == {accounts["乙保险"]}
    members = api.get("/api/v1/segments/cio-any/members").json()["items"]
    assert members[0]["name"] == "甲银行"


def test_time_windows_expire_on_the_scheduled_refresh(
    track: Tracker, api: TestClient, workspace: NewWorkspace
) -> None:
    track.call("page", {"userId": "u1", "name": "Pricing", "timestamp": ago(6)})
    create(api, key="recent", condition={"event": "Page Viewed", "within": "7d"})
    create(api, key="ever", condition={"event": "Page Viewed"})
    u1 = person_id(api, "u1")
    assert member_ids(api, "recent") == {u1}
    with unit_of_work() as session:
        soon = refresh_workspace(session, workspace.workspace_id, utcnow())
        later = refresh_workspace(session, workspace.workspace_id, utcnow() + timedelta(days=2))
    assert soon == []  # built moments ago: not due yet
    assert [(r.segment, r.exited) for r in later] == [("recent", 1)]  # "ever" needs no refresh
    assert member_ids(api, "recent") == set()
    assert member_ids(api, "ever") == {u1}
    history = api.get("/api/v1/segments/recent/history").json()["items"]
    assert history[0]["change"] == "exited" and "scheduled refresh" in history[0]["reason"]


PLAYBOOK_SEGMENTS = """
  - key: cios
    name: CIO
    if: {trait: title, eq: CIO}
  - key: cio-readers
    if: {all: [{segment: cios}, {event: Content Viewed}]}
"""


def test_playbook_segments_are_created_updated_and_removed(track: Tracker, api: TestClient) -> None:
    track.identify("u1", traits={"title": "CIO"}, timestamp=ago(2))
    track.track("Content Viewed", "u1", {}, timestamp=ago(1))
    source = api.get("/api/v1/playbook").text
    assert "segments:" in source
    head, _, _ = source.partition("segments:")
    applied = api.post(
        "/api/v1/playbook",
        content=(head + "segments:" + PLAYBOOK_SEGMENTS).encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert applied.status_code == 200, applied.text
    found = {s["key"]: s for s in api.get("/api/v1/segments").json()["items"]}
    assert set(found) == {"cios", "cio-readers"}  # hot-leads left with the old playbook
    assert found["cio-readers"]["origin"] == "playbook" and found["cio-readers"]["count"] == 1
    api_made = create(api, key="mine", condition={"tag": "x"})
    again = api.post(
        "/api/v1/playbook",
        content=(head + "segments: []\n").encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert again.status_code == 200, again.text
    keys = {s["key"] for s in api.get("/api/v1/segments").json()["items"]}
    assert keys == {api_made["key"]}


PLAYBOOK_LIST_AND_ACCOUNTS = """
  - key: vip-list
    name: VIP 名单
    kind: static
  - key: vip-bankers
    if: {all: [{segment: vip-list}, {trait: industry, eq: bank}]}
  - key: bank-accounts
    name: 银行客户
    level: account
    account_match: any
    if: {trait: industry, eq: bank}
"""


def test_playbooks_define_static_lists_and_account_segments(
    track: Tracker, api: TestClient
) -> None:
    head, _, _ = api.get("/api/v1/playbook").text.partition("segments:")
    applied = api.post(
        "/api/v1/playbook",
        content=(head + "segments:" + PLAYBOOK_LIST_AND_ACCOUNTS).encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert applied.status_code == 200, applied.text
    found = {s["key"]: s for s in api.get("/api/v1/segments").json()["items"]}
    assert (found["vip-list"]["kind"], found["vip-list"]["origin"]) == ("static", "playbook")
    assert (found["bank-accounts"]["level"], found["bank-accounts"]["account_match"]) == (
        "account",
        "any",
    )
    misuse = head + "segments:" + PLAYBOOK_LIST_AND_ACCOUNTS
    misuse = misuse.replace(
        "personas:", "personas:\n  - key: vip\n    if: {segment: vip-list}\n", 1
    )
    refused = api.post(
        "/api/v1/playbook", content=misuse.encode(), headers={"Content-Type": "application/yaml"}
    )
    assert refused.status_code in (400, 422), refused.text
    assert "vip-list" in refused.json()["message"]
    bad = head + "segments:\n  - key: list-with-if\n    kind: static\n    if: {tag: x}\n"
    invalid = api.post(
        "/api/v1/playbook", content=bad.encode(), headers={"Content-Type": "application/yaml"}
    )
    assert invalid.status_code in (400, 422)
    assert "static segment" in invalid.json()["message"]


def test_members_page_by_key_and_the_size_is_the_kept_count(
    track: Tracker, api: TestClient
) -> None:
    create(api, key="everyone-named", condition={"trait": "name", "exists": True})
    for i in range(7):
        track.identify(f"k{i}", traits={"name": f"成员{i}"})
    seen: list[int] = []
    after: int | None = None
    while True:
        params: dict[str, int] = {"limit": 3}
        if after is not None:
            params["after"] = after
        page = api.get("/api/v1/segments/everyone-named/members", params=params).json()
        assert page["total"] == 7
        if not page["items"]:
            break
        seen += [m["id"] for m in page["items"]]
        after = page["items"][-1]["id"]
    assert seen == sorted(seen) and len(set(seen)) == 7
    assert seen == sorted(member_ids(api, "everyone-named"))
