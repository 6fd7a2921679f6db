"""The dashboard's score chart: every score model of the workspace can be drawn."""

from typing import Any

import pytest
from nicegui.testing import User

from leadpond.flow.batch import Batch
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]


def drawn(user: User) -> list[int]:
    data: list[int] = chart(user).options["series"][0]["data"]
    return data


def chart(user: User) -> Any:
    return user.find(marker="scores").elements.pop()


async def test_the_score_chart_redraws_for_the_model_picked(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "title": "CIO", "phone": "15876543219"})
    track.identify("u2", traits={"name": "王芳"})
    track.track("Event Registered", "u2", properties={"event_id": "e1"})
    log_in(user, workspace, "viewer")
    await user.open("/")
    picker: Any = user.find(marker="score-model").elements.pop()
    assert list(picker.options) == ["engagement", "fit"]
    assert picker.options["fit"] == "匹配度"  # the model's name, not its key
    assert picker.value == "engagement"
    assert sum(drawn(user)) == 1
    assert chart(user).options["xAxis"]["data"][0].startswith("1–")
    with user:
        picker.value = "fit"
    assert sum(drawn(user)) == 1
    assert chart(user).options["xAxis"]["data"][0].startswith("40–")


async def test_a_model_nobody_scored_says_so(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.identify("u1", traits={"name": "张伟", "title": "CIO"})
    log_in(user, workspace, "viewer")
    await user.open("/")
    picker: Any = user.find(marker="score-model").elements.pop()
    assert picker.value == "fit"
    await user.should_not_see("还没有人在这个模型中得分。")
    with user:
        picker.value = "engagement"
    assert drawn(user) == []
    await user.should_see("还没有人在这个模型中得分。")


async def test_quarantined_events_are_shown_and_a_marketer_lets_them_through(
    user: User, workspace: NewWorkspace, track: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(batch: Batch) -> None:
        if any(e.event == "Poisoned" for e in batch.events):
            raise ValueError("cannot take it")

    monkeypatch.setattr(worker, "STAGES", [refuse, *worker.STAGES])
    track.track("Poisoned", "p1")
    log_in(user, workspace, "marketer")
    await user.open("/")
    await user.should_see("处理管道：0 个事件等待处理，1 个已隔离")
    user.find(marker="quarantined-event").elements.pop()
    monkeypatch.setattr(worker, "STAGES", worker.STAGES[1:])
    user.find(marker="retry-quarantined").click()
    await user.should_see("处理管道：1 个事件等待处理，0 个已隔离")
    assert worker.drain() == 1
