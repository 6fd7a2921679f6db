"""The people directory, account views and dashboard, through the console's REST API."""

from fastapi.testclient import TestClient

from tests.conftest import Tracker


def _world(track: Tracker) -> None:
    track.identify(
        "u1",
        traits={
            "name": "张伟",
            "email": "zhang.wei@xinghuan.cn",
            "phone": "15876543219",
            "company": "北京星环信息科技有限公司",
            "title": "CIO",
        },
    )
    track.identify(
        "u2",
        traits={
            "name": "Alice Chen",
            "email": "alice@xinghuan.cn",
            "company": "星环科技",
            "title": "采购经理",
        },
    )
    track.identify("u3", traits={"name": "王芳", "email": "wangfang@qq.com"})
    for _ in range(3):
        track.track("Page Viewed", "u3")


def test_search_finds_people_by_name_email_phone_and_company(
    api: TestClient, track: Tracker
) -> None:
    _world(track)

    def names(**params: str) -> list[str]:
        body = api.get("/api/v1/search/people", params=params).json()
        assert body["total"] == len(body["items"])
        return sorted(item["name"] for item in body["items"])

    assert names(q="张") == ["张伟"]
    assert names(q="alice") == ["Alice Chen"]
    assert names(q="zhang.wei@") == ["张伟"]
    assert names(q="1587654") == ["张伟"]
    assert names(q="(+86) 158-7654-3219") == ["张伟"]  # as people type it
    assert names(q="+86 158 7654 3219") == ["张伟"]
    assert names(q="星环科技") == ["Alice Chen", "张伟"]
    assert names(q="nobody") == []
    assert names() == ["Alice Chen", "张伟", "王芳"]


def test_search_finds_company_starts_domains_and_names_typed_with_spaces(
    api: TestClient, track: Tracker
) -> None:
    _world(track)
    track.identify(
        "u4",
        traits={"name": "李娜", "email": "li.na@zhonghai.com", "company": "成都中海地产有限公司"},
    )

    def names(q: str) -> list[str]:
        body = api.get("/api/v1/search/people", params={"q": q}).json()
        return sorted(item["name"] for item in body["items"])

    assert names("成都中海") == ["李娜"]  # the start of the company's name, region first
    assert names("中海") == ["李娜"]
    assert names("北京星环") == ["Alice Chen", "张伟"]  # 星环's accounts, as 星环科技 finds them
    assert names("zhonghai.com") == ["李娜"]  # the account's domain
    assert names("www.zhonghai.com") == ["李娜"]
    assert names("xinghuan") == ["Alice Chen", "张伟"]  # a domain's start
    assert names("张 伟") == ["张伟"]
    assert names("  alice   chen ") == ["Alice Chen"]
    assert names("重庆中海") == []  # another city's 中海


def test_chinese_names_are_found_by_their_given_name(api: TestClient, track: Tracker) -> None:
    for user, name in (("u1", "张伟"), ("u2", "王建国"), ("u3", "李建华"), ("u4", "Alice Chen")):
        track.identify(user, traits={"name": name})
    track.identify("u5", traits={"name": "赵_伟%"})

    def names(q: str) -> list[str]:
        body = api.get("/api/v1/search/people", params={"q": q}).json()
        return sorted(item["name"] for item in body["items"])

    assert names("伟") == ["张伟", "赵_伟%"]
    assert names("建国") == ["王建国"]
    assert names("建") == ["李建华", "王建国"]
    assert names("王建国") == ["王建国"]
    assert names("_伟") == ["赵_伟%"]  # LIKE's wildcards are plain characters here
    assert names("chen") == []  # Latin names keep to their start (an index range)


def test_directory_sorts_and_pages_in_the_database(api: TestClient, track: Tracker) -> None:
    _world(track)
    busiest = api.get("/api/v1/search/people", params={"sort": "-events", "limit": 1}).json()
    assert busiest["total"] == 3
    assert [i["name"] for i in busiest["items"]] == ["王芳"]
    second = api.get(
        "/api/v1/search/people", params={"sort": "name", "limit": 1, "offset": 1}
    ).json()
    assert [i["name"] for i in second["items"]] == ["张伟"]
    bad = api.get("/api/v1/search/people", params={"sort": "shoe_size"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_input"


def test_account_overview_groups_people_by_role(api: TestClient, track: Tracker) -> None:
    _world(track)
    person = api.get("/api/v1/search/people", params={"q": "张"}).json()["items"][0]
    assert person["company"] and person["account_id"]
    overview = api.get(f"/api/v1/accounts/{person['account_id']}/overview").json()
    members = {p["name"] for rows in overview["people_by_role"].values() for p in rows}
    assert {"张伟", "Alice Chen"} <= members
    assert overview["coverage"]["executive"] >= 1
    assert 0 < overview["coverage_ratio"] <= 1
    assert len(overview["engagement"]) == 26
    links = api.get(f"/api/v1/people/{person['id']}/accounts").json()
    assert links["items"][0]["account_id"] == person["account_id"]
    listed = api.get("/api/v1/search/accounts").json()
    assert any(a["id"] == person["account_id"] and a["people"] >= 2 for a in listed["items"])


def test_identifiers_show_the_source_that_brought_them(api: TestClient, track: Tracker) -> None:
    _world(track)
    person = api.get("/api/v1/search/people", params={"q": "王"}).json()["items"][0]
    found = api.get(f"/api/v1/people/{person['id']}/identifiers").json()
    assert {(i["type"], i["value"]) for i in found["items"]} >= {("email", "wangfang@qq.com")}
    assert all(i["source"] for i in found["items"])


def test_dashboard_counts_new_people_and_checks_the_range(api: TestClient, track: Tracker) -> None:
    _world(track)
    board = api.get("/api/v1/dashboard").json()
    assert board["people_total"] == 3
    assert board["people_new"] == 3
    assert sum(n for series in board["new_people"].values() for n in series.values()) == 3
    assert board["events"] >= 6
    steps = [step["stage"] for step in board["funnel"]]
    assert len(steps) == len(set(steps))
    # Every model of the playbook is offered; the chart starts with one people have points in.
    assert board["score_models"] == ["engagement", "fit"]
    assert board["score_model"] == "fit"
    bad = api.get("/api/v1/dashboard", params={"start": "2026-02-01", "end": "2026-01-01"})
    assert bad.status_code == 400


def test_the_funnel_counts_skipped_stages_as_passed(api: TestClient, track: Tracker) -> None:
    # A demo request makes an unknown visitor an opportunity at once: they passed every stage
    # before it, so each step holds at most the one before and no conversion exceeds 100%.
    track.track("Demo Requested", "u9")
    track.call("page", {"userId": "u8", "name": "Pricing", "properties": {"path": "/pricing"}})
    board = api.get("/api/v1/dashboard").json()
    line = [s for s in board["funnel"] if not s["detour"]]
    assert [s["stage"] for s in line] == [
        "awareness",
        "visit",
        "registered",
        "engaged",
        "opportunity",
        "customer",
        "advocate",
    ]
    reached = {s["stage"]: s["reached"] for s in line}
    assert reached["awareness"] == reached["visit"] == 2
    assert reached["registered"] == reached["engaged"] == reached["opportunity"] == 1
    assert reached["customer"] == reached["advocate"] == 0
    assert all(s["conversion"] is None or s["conversion"] <= 1 for s in line)
    assert [s["conversion"] for s in line][:5] == [None, 1.0, 0.5, 1.0, 1.0]
    assert {s["stage"]: s["current"] for s in line}["opportunity"] == 1
    detours = [s for s in board["funnel"] if s["detour"]]
    assert [s["stage"] for s in detours] == ["dormant", "disqualified"]
    assert all(s["conversion"] is None and s["reached"] == 0 for s in detours)
    # A range before anyone came: nobody reached a stage in it, so nobody is "here now" of it.
    old = api.get("/api/v1/dashboard", params={"start": "2020-01-01", "end": "2020-03-31"})
    assert all(s["reached"] == s["current"] == 0 for s in old.json()["funnel"])
    assert all(s["current"] <= s["reached"] for s in board["funnel"])


def _personas_world(track: Tracker) -> None:
    track.identify(
        "u1", traits={"name": "张伟", "title": "CIO", "industry": "银行", "email": "zw@bank.cn"}
    )
    track.identify("u2", traits={"name": "Alice Chen", "title": "高级工程师"})
    track.identify("u3", traits={"name": "王芳", "title": "CTO", "industry": "制造"})
    track.identify("u4", traits={"name": "李雷"})
    # A demo request tags the person need:evaluation and raises a hand: stage opportunity.
    track.track("Demo Requested", "u3")


def test_the_directory_filters_by_persona_as_the_person_page_reads_it(
    api: TestClient, track: Tracker
) -> None:
    _personas_world(track)

    def names(**params: str | int) -> list[str]:
        body = api.get("/api/v1/search/people", params=params).json()
        return [item["name"] for item in body["items"]]

    assert names(persona="bank-cio") == ["张伟"]
    assert names(persona="it-decision-maker", sort="name") == ["张伟", "王芳"]
    assert names(persona="engineer") == ["Alice Chen"]
    # The set-based answer is the one the person 360 page evaluates on read, person by person.
    read: dict[str, set[int]] = {}
    for person in api.get("/api/v1/search/people").json()["items"]:
        matched = api.get(f"/api/v1/people/{person['id']}/personas").json()["items"]
        for persona in matched:
            read.setdefault(persona["key"], set()).add(person["id"])
    for key in ("bank-cio", "it-decision-maker", "engineer"):
        found = api.get("/api/v1/search/people", params={"persona": key}).json()["items"]
        assert {item["id"] for item in found} == read.get(key, set()), key


def test_a_persona_combines_with_search_tag_stage_and_paging(
    api: TestClient, track: Tracker
) -> None:
    _personas_world(track)

    def page(**params: str | int) -> tuple[int, list[str]]:
        body = api.get("/api/v1/search/people", params=params).json()
        return body["total"], [item["name"] for item in body["items"]]

    leaders = {"persona": "it-decision-maker"}
    assert page(**leaders, tag="need:evaluation") == (1, ["王芳"])
    assert page(**leaders, stage="opportunity") == (1, ["王芳"])
    assert page(persona="bank-cio", tag="need:evaluation") == (0, [])
    assert page(**leaders, q="张") == (1, ["张伟"])
    assert page(**leaders, sort="name", limit=1, offset=1) == (2, ["王芳"])
    assert page(**leaders, sort="-events", limit=1) == (2, ["王芳"])


def test_an_unknown_persona_is_bad_input_that_names_the_known_ones(
    api: TestClient, track: Tracker
) -> None:
    _personas_world(track)
    bad = api.get("/api/v1/search/people", params={"persona": "astronaut"})
    assert bad.status_code == 400
    body = bad.json()
    assert body["code"] == "invalid_input" and body["field"] == "persona"
    assert "astronaut" in body["message"] and "bank-cio" in body["message"]
    documented = api.get("/openapi.json").json()["paths"]["/api/v1/search/people"]["get"]
    assert "persona" in {p["name"] for p in documented["parameters"]}


def test_known_contacts_only_leaves_out_anonymous_visitors(api: TestClient, track: Tracker) -> None:
    _world(track)
    track.track("Page Viewed", None, anonymousId="visitor-1")
    track.identify("u9", traits={"title": "CTO"})  # known by a user id, but no name/email/phone

    def total(**params: str) -> int:
        body = api.get("/api/v1/search/people", params=params).json()
        return int(body["total"])

    assert total() == 5
    assert total(known="true") == 3
    assert total(known="true", q="alice") == 1


def test_a_name_sort_puts_named_people_first_both_ways(api: TestClient, track: Tracker) -> None:
    _world(track)
    track.track("Page Viewed", None, anonymousId="visitor-1")
    track.identify("u9", traits={"email": "nameless@example.com"})

    def names(sort: str) -> list[str | None]:
        body = api.get("/api/v1/search/people", params={"sort": sort}).json()
        return [item["name"] for item in body["items"]]

    assert names("name") == ["Alice Chen", "张伟", "王芳", None, None]
    assert names("-name") == ["王芳", "张伟", "Alice Chen", None, None]
