"""One person per human: merges that must happen, and the blobs that must not."""

from fastapi.testclient import TestClient

from tests.conftest import Tracker


def _people(api: TestClient, **query: str) -> list[dict]:  # type: ignore[type-arg]
    body = api.get("/api/v1/people", params=query).json()
    assert body["total"] == len(body["items"])
    return body["items"]  # type: ignore[no-any-return]


def _one(api: TestClient, **query: str) -> dict:  # type: ignore[type-arg]
    found = _people(api, **query)
    assert len(found) == 1, found
    return found[0]


def test_anonymous_history_merges_into_the_known_person(track: Tracker, api: TestClient) -> None:
    track.call("page", {"anonymousId": "cookie-1", "name": "Pricing"})
    track.track("Whitepaper Downloaded", anonymousId="cookie-1")
    track.identify("u1", {"email": "Li.Lei@Acme.cn"}, anonymousId="cookie-1")
    person = _one(api, user_id="u1")
    assert person["event_count"] == 3
    assert _one(api, anonymous_id="cookie-1")["id"] == person["id"]
    assert _one(api, email="li.lei@acme.cn")["id"] == person["id"]
    timeline = api.get(f"/api/v1/people/{person['id']}/timeline").json()
    assert timeline["total"] == 3


def test_two_known_users_sharing_an_email_stay_apart(track: Tracker, api: TestClient) -> None:
    track.identify("u1", {"email": "wang@acme.cn"})
    track.identify("u2", {"email": "wang@acme.cn"})
    first, second = _one(api, user_id="u1"), _one(api, user_id="u2")
    assert first["id"] != second["id"]
    assert _one(api, email="wang@acme.cn")["id"] == first["id"]


def test_shared_mailbox_never_links_people(track: Tracker, api: TestClient) -> None:
    track.identify(
        traits={"email": "info@acme.cn", "phone": "13812345678", "name": "张三"},
        anonymousId="form-1",
    )
    track.identify(
        traits={"email": "info@acme.cn", "phone": "13912345678", "name": "李四"},
        anonymousId="form-2",
    )
    assert _one(api, phone="13812345678")["id"] != _one(api, phone="13912345678")["id"]
    assert _people(api, email="info@acme.cn") == []


def test_shared_device_of_two_known_users_does_not_merge_them(
    track: Tracker, api: TestClient
) -> None:
    track.identify("u1", {"email": "a@acme.cn"}, anonymousId="kiosk")
    track.identify("u2", {"email": "b@acme.cn"}, anonymousId="kiosk")
    first, second = _one(api, user_id="u1"), _one(api, user_id="u2")
    assert first["id"] != second["id"]
    assert _one(api, anonymous_id="kiosk")["id"] == first["id"]


def test_shared_device_events_follow_whoever_just_identified_on_it(
    track: Tracker, api: TestClient
) -> None:
    t0 = "2026-05-01T09:00:00Z"
    track.identify("u1", {"email": "a@acme.cn"}, anonymousId="kiosk", timestamp=t0)
    track.identify(
        "u2", {"email": "b@acme.cn"}, anonymousId="kiosk", timestamp="2026-05-01T09:10:00Z"
    )
    track.track("Form Submitted", anonymousId="kiosk", timestamp="2026-05-01T09:10:05Z")
    track.track("Booth Checked In", anonymousId="kiosk", timestamp="2026-05-01T11:00:00Z")
    first, second = _one(api, user_id="u1"), _one(api, user_id="u2")
    assert second["event_count"] == 2  # the identify and the form right after it
    assert first["event_count"] == 2  # the first identify and the late, sessionless check-in


def test_shared_device_without_user_ids_does_not_blob(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"email": "a@acme.cn"}, anonymousId="ipad")
    track.identify(traits={"email": "b@bank.cn"}, anonymousId="ipad")
    assert _one(api, email="a@acme.cn")["id"] != _one(api, email="b@bank.cn")["id"]


def test_blocked_values_identify_nobody(track: Tracker, api: TestClient) -> None:
    track.identify("null", {"email": "test@test.com", "phone": "13800138000"}, anonymousId="a-1")
    track.identify("undefined", {"email": "test@test.com"}, anonymousId="a-2")
    assert _one(api, anonymous_id="a-1")["id"] != _one(api, anonymous_id="a-2")["id"]
    assert _people(api, user_id="null") == []
    assert _people(api, email="test@test.com") == []


def test_events_with_only_blocked_identifiers_resolve_to_nobody(
    track: Tracker, api: TestClient
) -> None:
    track.track("Page Viewed", user_id="0000")
    track.track("Page Viewed", user_id="-1")
    assert api.get("/api/v1/people").json()["total"] == 0
    assert api.get("/api/v1/pipeline").json()["pending_events"] == 0


def test_phone_format_variants_are_one_person(track: Tracker, api: TestClient) -> None:
    track.identify(
        traits={"email": "zhang@acme.cn", "phone": "138 1234 5678"}, anonymousId="form-3"
    )
    track.identify(traits={"phone": "+86-138-1234-5678", "name": "张伟"}, anonymousId="form-4")
    track.identify(traits={"phone": "0086 13812345678"}, anonymousId="form-5")
    track.identify(traits={"phone": "１３８１２３４５６７８"}, anonymousId="form-6")
    track.identify(traits={"phone": "13812345678转8001"}, anonymousId="form-7")
    person = _one(api, phone="13812345678")
    assert person["event_count"] == 5
    assert person["traits"]["name"] == "张伟"
    assert [i["value"] for i in person["identifiers"] if i["type"] == "phone"] == ["+8613812345678"]


def test_email_case_and_spaces_are_one_person(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"email": " Zhao@Acme.CN "}, anonymousId="form-8")
    track.identify(traits={"email": "zhao@acme.cn", "title": "CIO"}, anonymousId="form-9")
    assert _one(api, email="ZHAO@acme.cn")["event_count"] == 2


def test_two_crm_ids_never_merge(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"crm_id": "C-1", "email": "x@acme.cn"}, anonymousId="form-10")
    track.identify(traits={"crm_id": "C-2", "email": "x@acme.cn"}, anonymousId="form-11")
    assert (
        _one(api, identifier_type="crm_id", identifier_value="C-1")["id"]
        != _one(api, identifier_type="crm_id", identifier_value="C-2")["id"]
    )


def test_wechat_unionid_joins_website_and_wechat(track: Tracker, api: TestClient) -> None:
    unionid = [
        {"id": "oUnion-9", "type": "wechat_unionid", "collection": "users", "encoding": "none"}
    ]
    track.track("WeChat Followed", anonymousId="wx-device", context={"externalIds": unionid})
    track.identify(
        traits={"email": "qian@acme.cn", "wechat_unionid": "oUnion-9"}, anonymousId="web-cookie"
    )
    person = _one(api, identifier_type="wechat_unionid", identifier_value="oUnion-9")
    assert person["event_count"] == 2
    assert _one(api, anonymous_id="wx-device")["id"] == person["id"]


def test_openids_are_scoped_by_app(track: Tracker, api: TestClient) -> None:
    openid = {"id": "o-123", "type": "wechat_openid", "collection": "users", "encoding": "none"}
    track.track(
        "QR Scanned", anonymousId="d1", context={"externalIds": [{**openid, "appId": "wxA"}]}
    )
    track.track(
        "QR Scanned", anonymousId="d2", context={"externalIds": [{**openid, "appId": "wxB"}]}
    )
    assert (
        _one(api, identifier_type="wechat_openid", identifier_value="wxA:o-123")["id"]
        != _one(api, identifier_type="wechat_openid", identifier_value="wxB:o-123")["id"]
    )


def test_custom_external_ids_are_identifiers(track: Tracker, api: TestClient) -> None:
    member = [{"id": "M-77", "type": "Mall Member", "collection": "users", "encoding": "none"}]
    track.track("Order Completed", anonymousId="m1", context={"externalIds": member})
    track.identify("u9", context={"externalIds": member})
    assert (
        _one(api, identifier_type="mall_member", identifier_value="M-77")["id"]
        == _one(api, user_id="u9")["id"]
    )


def test_newest_trait_wins_whatever_the_arrival_order(track: Tracker, api: TestClient) -> None:
    track.batch(
        [
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"title": "CTO"},
                "timestamp": "2026-03-01T00:00:00Z",
            },
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"title": "Engineer"},
                "timestamp": "2026-01-01T00:00:00Z",
            },
        ]
    )
    person = _one(api, user_id="u1")
    assert person["traits"]["title"] == "CTO"
    history = api.get(
        f"/api/v1/people/{person['id']}/traits/history", params={"trait": "title"}
    ).json()
    assert [h["value"] for h in history["items"]] == ["CTO", "Engineer"]


def test_alias_joins_previous_id(track: Tracker, api: TestClient) -> None:
    track.track("Page Viewed", anonymousId="old-cookie")
    track.call("alias", {"userId": "u5", "previousId": "old-cookie"})
    assert _one(api, user_id="u5")["id"] == _one(api, anonymous_id="old-cookie")["id"]


def test_switchboard_extensions_are_desks_not_people(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"phone": "0757-76393072 转 8487", "name": "黄明"}, anonymousId="d1")
    track.identify(traits={"phone": "0757-76393072 转 8434", "name": "杨博"}, anonymousId="d2")
    track.identify(
        traits={"phone": "(0757)7639-3072 分机8487", "email": "huang@xc.cn"}, anonymousId="d3"
    )
    desk = _one(api, identifier_type="landline", identifier_value="+8675776393072;ext=8487")
    assert desk["event_count"] == 2
    assert _one(api, anonymous_id="d2")["id"] != desk["id"]


def test_bare_switchboard_never_glues_known_people(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"email": "a@xc.cn", "phone": "0757-76393072"}, anonymousId="b")
    track.identify(traits={"email": "b@xc.cn", "phone": "0757 7639 3072"}, anonymousId="c")
    assert _one(api, email="a@xc.cn")["id"] != _one(api, email="b@xc.cn")["id"]


def test_team_mailbox_seen_with_two_mobiles_is_two_people(track: Tracker, api: TestClient) -> None:
    track.identify(traits={"email": "yunwei@hangjin.cn", "phone": "13800001111"}, anonymousId="a")
    track.identify(traits={"email": "yunwei@hangjin.cn", "phone": "13900002222"}, anonymousId="b")
    assert _one(api, phone="13800001111")["id"] != _one(api, phone="13900002222")["id"]


def test_a_mistyped_mobile_next_to_the_right_email_is_the_same_person(
    track: Tracker, api: TestClient
) -> None:
    track.identify(
        traits={"email": "wang.lin@huikang.com", "phone": "15689267064"}, anonymousId="a"
    )
    track.identify(
        traits={"email": "wang.lin@huikang.com", "phone": "15689167064"}, anonymousId="b"
    )
    track.identify(
        traits={"email": "wang.lin@huikang.com", "phone": "15689260764"}, anonymousId="c"
    )
    assert _one(api, email="wang.lin@huikang.com")["event_count"] == 3
