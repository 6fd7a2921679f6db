"""First and last touch: what each event says about how the person came, grouped into channel
groups; the same whatever order, batches or merges the events come in (hypothesis), and a
workspace's own grouping applied to everyone's history by a job, on both databases."""

import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpond.jobs.runner import JobRunner
from leadpond.profiles.touches import DEFAULT_GROUPING, first_of, last_of, touch_of
from tests.conftest import Tracker


def _payload(campaign: dict[str, str] | None = None, **page: str) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if campaign:
        context["campaign"] = campaign
    if page:
        context["page"] = page
    return {"context": context}


@pytest.mark.parametrize(
    ("kind", "payload", "source", "group", "channel"),
    [
        ("page", _payload({"source": "baidu", "medium": "cpc"}), "api", "paid", "baidu"),
        ("page", _payload({"source": "baidu", "medium": "organic"}), "api", "search", "baidu"),
        ("page", _payload({"source": "zhihu", "medium": "organic"}), "api", "social", "zhihu"),
        (
            "track",
            _payload({"source": "newsletter", "medium": "email"}),
            "api",
            "email",
            "newsletter",
        ),
        ("track", _payload({"source": "wechat", "medium": "qrcode"}), "wechat", "wechat", "wechat"),
        (
            "track",
            _payload({"source": "expo-2026", "medium": "booth"}),
            "api",
            "event",
            "expo-2026",
        ),
        (
            "page",
            _payload(referrer="https://www.baidu.com/s?wd=graph", url="https://acme.cn/"),
            "api",
            "search",
            "www.baidu.com",
        ),
        (
            "page",
            _payload(referrer="https://mp.weixin.qq.com/s/abc", url="https://acme.cn/"),
            "api",
            "wechat",
            "mp.weixin.qq.com",
        ),
        (
            "page",
            _payload(referrer="https://partner.example.com/", url="https://acme.cn/"),
            "api",
            "referral",
            "partner.example.com",
        ),
        # A click inside the site is no referral: direct.
        (
            "page",
            _payload(referrer="https://acme.cn/a", url="https://acme.cn/b"),
            "api",
            "direct",
            "direct",
        ),
        ("page", _payload(), "api", "direct", "direct"),
        ("track", _payload(), "import", "import", "import"),
        ("track", _payload(), "api", "other", "api"),
        ("identify", _payload(), "wechat", "wechat", "wechat"),
    ],
)
def test_the_default_grouping(
    kind: str, payload: dict[str, Any], source: str, group: str, channel: str
) -> None:
    touch = touch_of(kind, payload, source, "2026-06-01T00:00:00.000Z", "m1", DEFAULT_GROUPING)
    assert (touch["group"], touch["channel"]) == (group, channel)


def test_a_links_channel_is_the_touchs_channel() -> None:
    payload = {
        "properties": {"channel": "wechat-group-7"},
        **_payload({"source": "wechat-group-7", "medium": "link", "name": "graph-launch"}),
    }
    touch = touch_of("track", payload, "links", "2026-06-01T00:00:00.000Z", "m1", DEFAULT_GROUPING)
    assert (touch["group"], touch["channel"], touch["campaign"]) == (
        "wechat",
        "wechat-group-7",
        "graph-launch",
    )


_CONTEXTS = st.sampled_from(
    [
        ("page", _payload({"source": "baidu", "medium": "organic"})),
        ("page", _payload({"source": "baidu", "medium": "cpc"})),
        ("track", _payload({"source": "wechat", "medium": "qrcode", "name": "expo"})),
        ("page", _payload(referrer="https://zhihu.com/q/1", url="https://acme.cn/")),
        ("page", _payload()),
        ("track", _payload()),
    ]
)
_TOUCHES = st.lists(
    st.tuples(
        _CONTEXTS,
        st.sampled_from(["api", "import", "wechat"]),
        # Few instants: ties at the same millisecond are common.
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda t: t[3],
)


def _fold(touches: list[dict[str, Any]]) -> tuple[Any, Any]:
    first = last = None
    for touch in touches:
        first, last = first_of(first, touch), last_of(last, touch)
    return first, last


@settings(max_examples=150, deadline=None)
@given(events=_TOUCHES, seed=st.integers(min_value=0, max_value=1_000_000))
def test_first_and_last_touch_do_not_depend_on_order_batches_or_merges(
    events: list[Any], seed: int
) -> None:
    touches = [
        touch_of(
            kind, payload, source, f"2026-06-0{1 + at}T00:00:00.000Z", f"m{n}", DEFAULT_GROUPING
        )
        for (kind, payload), source, at, n in events
    ]
    in_time_order = _fold(sorted(touches, key=lambda t: (t["at"], t["message_id"])))
    rng = random.Random(seed)
    shuffled = touches[:]
    rng.shuffle(shuffled)
    assert _fold(shuffled) == in_time_order
    # Split between two people who are merged later: the survivor folds the other's touches.
    cut = rng.randint(0, len(shuffled))
    a, b = _fold(shuffled[:cut]), _fold(shuffled[cut:])
    assert (first_of(a[0], b[0]), last_of(a[1], b[1])) == in_time_order
    # First touch is never a bare server-side event while any visit says how they came.
    kinds = {t["kind"] for t in touches}
    if kinds - {"unmarked"}:
        assert in_time_order[0]["kind"] != "unmarked"
    if kinds & {"marked", "referred"}:
        assert in_time_order[1]["kind"] in ("marked", "referred")


def _person(api: TestClient, anonymous_id: str) -> dict[str, Any]:
    [found] = api.get("/api/v1/people", params={"anonymous_id": anonymous_id}).json()["items"]
    return found  # type: ignore[no-any-return]


def test_a_workspaces_own_grouping_is_applied_to_everyones_history(
    api: TestClient, track: Tracker
) -> None:
    campaign = {"source": "expo-2026", "medium": "booth", "name": "expo"}
    track.call(
        "page",
        {
            "anonymousId": "v1",
            "timestamp": "2026-06-01T08:00:00Z",
            "context": {"campaign": campaign},
        },
    )
    assert _person(api, "v1")["first_channel"] == "event"
    groups = api.get("/api/v1/channel-groups").json()
    assert groups["custom"] is False
    assert [g["key"] for g in groups["groups"]][:2] == ["paid", "wechat"]
    # Trade shows are their own group here (展会), ahead of everything else.
    own = [
        {"key": "expo", "zh": "展会", "en": "Trade shows", "sources": ["expo-*"]},
        *groups["groups"],
    ]
    answer = api.put("/api/v1/channel-groups", json={"groups": own})
    assert answer.status_code == 200, answer.text
    assert answer.json()["custom"] is True and answer.json()["job_id"]
    JobRunner().run_pending()
    person = _person(api, "v1")
    assert (person["first_channel"], person["first_touch"]["group"]) == ("expo", "expo")
    board = api.get("/api/v1/dashboard", params={"start": "2026-06-01", "end": "2026-06-30"})
    assert board.json()["new_people"] == {"expo": {"2026-06-01": 1}}
    assert board.json()["channel_labels"]["expo"] == {"zh": "展会", "en": "Trade shows"}
    # New events are grouped the new way at once; a reset goes back to the default.
    track.call("page", {"anonymousId": "v2", "context": {"campaign": campaign}})
    assert _person(api, "v2")["first_channel"] == "expo"
    assert api.delete("/api/v1/channel-groups").status_code == 200
    JobRunner().run_pending()
    assert _person(api, "v1")["first_channel"] == "event"


def test_a_grouping_with_a_built_in_or_repeated_key_is_refused(api: TestClient) -> None:
    group = {"key": "direct", "zh": "直接", "en": "Direct"}
    refused = api.put("/api/v1/channel-groups", json={"groups": [group]})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_input"
    twice = {"key": "a", "zh": "甲", "en": "A"}
    assert api.put("/api/v1/channel-groups", json={"groups": [twice, twice]}).status_code == 400
    assert api.get("/api/v1/channel-groups").json()["custom"] is False
