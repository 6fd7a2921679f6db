"""The segment builder page with NiceGUI's simulated user: account segments built from atoms,
previewed, saved, listed; conditions read back into atoms."""

import threading
from typing import Any

import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User

from leadpond.conditions.source import load_located
from leadpond.console.pages import segments as segments_page
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def one(user: User, marker: str) -> Any:
    found = user.find(marker=marker).elements
    assert len(found) == 1, marker
    return next(iter(found))


def set_value(user: User, element: Any, value: Any) -> None:
    with user:
        element.value = value


def type_yaml(user: User, text: str) -> None:
    """What the browser sends when the YAML is typed: the new value, then the page's handler."""
    user.find(marker="condition-yaml").trigger("update:value", text)


def condition(user: User) -> Any:
    return load_located(one(user, "condition-yaml").value).data


def world(track: Tracker) -> None:
    staff = {
        "u1": ("甲银行", "banking"),
        "u2": ("甲银行", "banking"),
        "u3": ("乙保险", "insurance"),
    }
    for person, (company, industry) in staff.items():
        track.identify(person, traits={"name": person})
        track.call(
            "group",
            {
                "userId": person,
                "groupId": company,
                "traits": {"name": company, "industry": industry},
            },
        )
    track.track("Trial Requested", "u1")  # the default playbook tags need:evaluation


async def test_an_account_segment_is_built_previewed_saved_and_listed(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    world(track)
    log_in(user, workspace, "marketer")
    await user.open("/segments/new")
    set_value(user, one(user, "subject"), "account")
    await user.should_see(marker="add-account_field")
    await user.should_not_see(marker="add-tag")
    user.find(marker="add-account_field").click()
    set_value(user, one(user, "atom-value"), "banking, insurance")
    set_value(user, one(user, "field-op"), "in")
    assert condition(user) == {"account": {"industry": {"in": ["banking", "insurance"]}}}
    await user.should_see("匹配 2 家公司")
    user.find(marker="add-people_tag").click()
    set_value(user, values(user)[1], "need:evaluation")
    assert condition(user) == {
        "all": [
            {"account": {"industry": {"in": ["banking", "insurance"]}}},
            {"account_people": {"any": {"tag": "need:evaluation"}}},
        ]
    }
    await user.should_see("匹配 1 家公司")
    assert [row["name"] for row in one(user, "sample").rows] == ["甲银行"]
    set_value(user, one(user, "segment-key"), "evaluating-banks")
    user.find(marker="save").click()
    await user.should_see(marker="members")
    await user.should_see("1 家公司")
    assert [row["name"] for row in one(user, "members-table").rows] == ["甲银行"]
    assert one(user, "subject").value == "account"
    assert not one(user, "subject").enabled
    assert len(values(user)) == 2  # the saved condition is shown as its atoms again
    await user.open("/segments")
    await user.should_see(marker="segment-evaluating-banks")
    await user.should_see("客户公司 · 动态 · 共 1 家公司")


async def test_nobody_at_the_account_matching_is_an_account_segment_too(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    world(track)
    log_in(user, workspace, "marketer")
    await user.open("/segments/new")
    set_value(user, one(user, "subject"), "account")
    set_value(user, one(user, "account-match"), "none")
    type_yaml(user, "{tag: 'need:evaluation'}")
    await user.should_see(marker="yaml-only")
    assert not one(user, "add-account_field").enabled
    await user.should_see("匹配 1 家公司")  # 乙保险: nobody there is evaluating


async def test_person_conditions_made_of_atoms_come_back_as_atoms(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/segments/new")
    type_yaml(user, "any: [{tag: vip}, {persona: bank-cio}]")
    assert [v.value for v in values(user)] == ["vip", "bank-cio"]
    assert one(user, "match").value == "any"
    type_yaml(user, "{trait: title, eq: CIO}")
    assert values(user) == []
    assert not one(user, "add-tag").enabled
    await user.should_see("匹配 0 人")


def values(user: User) -> list[Any]:
    """The atoms' value inputs, in the order shown."""
    with user:
        found = ElementFilter(kind=ui.input, marker="atom-value", local_scope=False)
        return sorted(found, key=lambda e: e.id)


async def test_the_preview_runs_off_the_event_loop(
    user: User, workspace: NewWorkspace, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    track.identify("u1", traits={"title": "a" * 25 + "!"})  # catastrophic for a backtracking re
    track.identify("u2", traits={"title": "aaa"})
    threads: list[threading.Thread] = []
    compute = segments_page._preview_rows

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread())
        return compute(*args)

    monkeypatch.setattr(segments_page, "_preview_rows", recorded)
    log_in(user, workspace, "marketer")
    await user.open("/segments/new")
    type_yaml(user, "{trait: title, matches: '^(a+)+$'}")
    await user.should_see("匹配 1 人")
    loop_thread = threading.current_thread()  # this test runs on the page's event loop
    assert threads
    assert loop_thread not in threads


async def test_a_score_atom_picks_its_model_by_name(user: User, workspace: NewWorkspace) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/segments/new")
    user.find(marker="add-score").click()
    model = one(user, "atom-model")
    assert model.options == {"engagement": "活跃度", "fit": "匹配度"}
    set_value(user, model, "fit")
    assert condition(user) == {"score": {"fit": {"gte": 0}}}


async def test_an_event_atom_picks_the_workspaces_events_by_name_and_keeps_a_custom_one(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.track("Whitepaper Downloaded", "u1")
    track.track("Quote Sent", "u1")  # a B2B site's own event
    log_in(user, workspace, "marketer")
    await user.open("/segments/new")
    user.find(marker="add-event").click()
    event = one(user, "atom-event")
    assert event.options["Whitepaper Downloaded"] == "下载白皮书"
    assert event.options["Quote Sent"] == "Quote Sent"  # sent here, shown by its own name
    assert event.options["Demo Requested"] == "申请演示"  # the playbook's rules listen to it
    set_value(user, event, "Whitepaper Downloaded")
    assert condition(user) == {"event": "Whitepaper Downloaded", "count": {"gte": 1}}
    set_value(user, event, "Partner Registered")  # typed: no one sent it yet
    assert condition(user) == {"event": "Partner Registered", "count": {"gte": 1}}

    type_yaml(user, "{event: Trial Requested, count: {gte: 2}, within: 30d}")
    event = one(user, "atom-event")
    assert event.value == "Trial Requested"
    assert event.options["Trial Requested"] == "申请试用"
    type_yaml(user, "{event: Contract Signed, count: {gte: 1}}")
    assert one(user, "atom-event").options["Contract Signed"] == "Contract Signed"


async def test_a_wrong_condition_and_a_wrong_key_are_said_in_words(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/segments/new")
    type_yaml(user, "all:\n  - {tag: vip}\n  - {colour: red}\n")
    await user.should_see("条件有误。（第 3 行）不认识的条件：colour（请检查拼写）")
    assert one(user, "preview-detail").text == ""  # the parser's English is the API's alone
    # A stage by a name no stage has: said in words, listing the stages with their names.
    type_yaml(user, "{stage: 商机们}")
    await user.should_see("条件有误。没有这个阶段：'商机们'；现有阶段：")
    assert "opportunity (商机 / Opportunity)" in one(user, "preview-count").text
    type_yaml(user, "{tag: vip}")
    await user.should_see("匹配 0 人")
    assert one(user, "preview-detail").text == ""

    set_value(user, one(user, "segment-key"), "vip clients")
    user.find(marker="save").click()
    await user.should_see("标识：1 到 64 个字母、数字、_、. 或 -，不含空格。")
    assert not [m for m in user.notify.messages if "pattern" in m or "validation" in m]
