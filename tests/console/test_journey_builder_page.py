"""The journey builder's pages with NiceGUI's simulated user: a journey of the playbook opens as
cards, an error lands on the card it names and nothing is saved, a fixed journey is saved as a
new playbook version; viewers cannot build."""

from typing import Any

import pytest
from nicegui.testing import User

from leadpond.console.i18n import catalog
from leadpond.console.pages.journey_builder import REENTRY_WORDS, TRIGGER_WORDS
from leadpond.console.pages.journey_builder_steps import CHANNELS, KIND_NAMES, WINNER_BY
from leadpond.console.pages.words import USER_ROLES
from leadpond.workspaces.service import NewWorkspace
from tests.console.test_pages import anyio_backend, log_in, user
from tests.console.test_playbook_page import newest_document

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def one(user: User, marker: str) -> Any:
    return user.find(marker=marker).elements.pop()


def set_value(user: User, marker: str, value: Any) -> None:
    with user:
        one(user, marker).value = value


async def test_a_bad_wait_is_shown_on_its_card_and_a_good_one_saved(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/journeys/trial-welcome/edit")
    await user.should_see(marker="step-3")
    assert one(user, "send-template-0").value == "trial-owner-note"
    before, _ = newest_document(workspace)

    set_value(user, "lp-wait-2", "soon")
    user.find(marker="builder-validate").click()
    await user.should_see("旅程有错误：请看标出的卡片。")
    card = one(user, "step-2")
    assert "lp-step-error" in str([c.classes for c in card.descendants()]), (
        "the error is on the wait's card"
    )
    user.find(marker="builder-save").click()
    assert newest_document(workspace)[0] == before

    set_value(user, "lp-wait-2", "2d")
    user.find(marker="builder-save").click()
    await user.should_see(marker="confirm-save")
    user.find(marker="confirm-save").click()
    await user.should_see(marker="journey-summary")  # on to the journey's own page
    version, saved = newest_document(workspace)
    assert version == before + 1
    trial = next(j for j in saved["journeys"] if j["key"] == "trial-welcome")
    step = trial["steps"][2]
    assert (step["id"], step["wait"]) == ("one-day", "2d")
    assert step.get("name") == {"en": "One day later", "zh": "等一天"}  # kept as it was


async def test_a_new_journey_opens_with_a_first_step_and_viewers_cannot_build(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/journeys/new")
    await user.should_see(marker="step-0")
    assert one(user, "lp-wait-0").value == "1d"


async def test_viewers_see_that_the_builder_is_for_marketers(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "viewer")
    await user.open("/journeys/new")
    await user.should_see(marker="read-only-note")


def test_every_builder_word_is_translated_to_chinese() -> None:
    chinese = catalog("zh_CN")
    words = [
        *TRIGGER_WORDS.values(),
        *REENTRY_WORDS.values(),
        *KIND_NAMES.values(),
        *CHANNELS.values(),
        *WINNER_BY.values(),
        *USER_ROLES.values(),
        "Up",
        "Down",
    ]
    assert sorted(w for w in words if w not in chinese) == []


async def test_segment_triggers_pick_segments_by_name_and_keep_an_unknown_key(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/journeys/new")
    await user.should_see(marker="trigger-kind")
    set_value(user, "trigger-kind", "segment")
    await user.should_see(marker="trigger-segment")
    picker = one(user, "trigger-segment")
    assert picker.options == {"hot-leads": "高意向线索", "engaged": "活跃客户"}
    set_value(user, "trigger-segment", "hot-leads")
    set_value(user, "trigger-kind", "schedule")
    await user.should_see(marker="trigger-schedule-segment")
    assert one(user, "trigger-schedule-segment").options["engaged"] == "活跃客户"

    await user.open("/journeys/trial-welcome/edit")
    await user.should_see("编辑旅程：试用欢迎")  # titled by its name, not its key
    await user.should_see(marker="trigger-kind")
    set_value(user, "trigger-kind", "segment_exited")
    await user.should_see(marker="trigger-segment_exited")
    assert set(one(user, "trigger-segment_exited").options) == {"hot-leads", "engaged"}
