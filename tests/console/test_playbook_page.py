"""The playbook page's forms with NiceGUI's simulated user: form and YAML are one document,
validation points at the field, only marketers save."""

import re
from typing import Any

import pytest
from nicegui.testing import User
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadpond.conditions.source import load_located
from leadpond.db.engine import read_only
from leadpond.jobs.runner import JobRunner
from leadpond.profiles.models import Person
from leadpond.rules.models import PlaybookVersion
from leadpond.rules.reads import scores_of
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.console.test_pages import anyio_backend, log_in, user

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "user"]

POINTS = "score_models[0].rules[0].points"


def field(user: User, path: str) -> Any:
    return user.find(marker=f"field-{path}").elements.pop()


def set_value(user: User, element: Any, value: Any) -> None:
    with user:
        element.value = value


def editor(user: User) -> Any:
    return user.find(marker="playbook-yaml").elements.pop()


def newest_document(workspace: NewWorkspace) -> tuple[int, dict[str, Any]]:
    with read_only() as session:
        row = session.execute(
            select(PlaybookVersion.version, PlaybookVersion.document)
            .where(PlaybookVersion.workspace_id == workspace.workspace_id)
            .order_by(PlaybookVersion.version.desc())
            .limit(1)
        ).one()
    return row.version, row.document


async def test_a_score_rule_edited_in_the_form_is_in_the_yaml_and_saved(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/playbook")
    await user.should_see("评分模型")
    points = field(user, POINTS)
    assert points.value == 1
    set_value(user, points, 4)
    user.find(marker="yaml-tab").click()
    document = load_located(editor(user).value).data
    assert document["score_models"][0]["rules"][0] == {
        "id": "event-registration",
        "on": {"event": "Event Registered"},
        "points": 4,
    }
    user.find(marker="validate").click()
    await user.should_see("剧本校验通过。")
    before, _ = newest_document(workspace)
    user.find(marker="save").click()
    await user.should_see(marker="saved")
    version, saved = newest_document(workspace)
    assert version == before + 1
    assert saved["score_models"][0]["rules"][0]["points"] == 4


async def test_saving_with_the_backfill_replays_history_under_the_new_points(
    user: User, workspace: NewWorkspace, track: Tracker
) -> None:
    track.track("Event Registered", "u1", {"event_name": "Graph Summit"})
    with read_only() as session:
        pid = person_ids(session, workspace)[0]
        assert engagement(session, workspace, pid) == 1
    log_in(user, workspace, "marketer")
    await user.open("/playbook")
    await user.should_see("评分模型")
    set_value(user, field(user, POINTS), 4)
    with user:
        user.find(marker="backfill").elements.pop().value = True
    user.find(marker="save").click()
    await user.should_see("历史回放已排队")
    # The worker's job runner replays it; the page polls the job until it reports.
    JobRunner().run_pending()
    await user.should_see("已回放 1 人")
    with read_only() as session:
        assert engagement(session, workspace, pid) == 4


def person_ids(session: Session, workspace: NewWorkspace) -> list[int]:
    return list(
        session.scalars(select(Person.id).where(Person.workspace_id == workspace.workspace_id))
    )


def engagement(session: Session, workspace: NewWorkspace, pid: int) -> float:
    found = {s.model: s for s in scores_of(session, workspace.workspace_id, pid)}
    return found["engagement"].points


async def test_yaml_typed_on_the_yaml_tab_fills_the_forms(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/playbook")
    user.find(marker="yaml-tab").click()
    named = ("{zh: 活跃度, en: Engagement}", "{zh: 互动度, en: Interaction}")
    text = editor(user).value.replace(*named)
    set_value(user, editor(user), text)
    user.find(marker="forms-tab").click()
    assert field(user, "score_models[0].name.zh").value == "互动度"
    assert field(user, "score_models[0].name.en").value == "Interaction"


async def test_a_broken_condition_is_reported_on_its_field_and_not_saved(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "admin")
    await user.open("/playbook")
    before = newest_document(workspace)
    condition = field(user, "personas[1].if")
    set_value(user, condition, "{trait: title, matches: [unclosed")
    assert condition.error is not None
    user.find(marker="save").click()
    await user.should_see("personas[1].if")
    set_value(user, condition, "{trait: title, resembles: CIO}")
    assert condition.error is None
    user.find(marker="validate").click()
    await user.should_see("personas[1].if")
    assert "resembles" in condition.error
    # The problems above the forms: the line, the place, the reason, in the viewer's words.
    (problem,) = user.find(content="personas[1].if").elements
    assert re.fullmatch(
        r"第 \d+ 行：personas\[1\]\.if\.resembles 'trait' 条件不接受 resembles", problem.text
    )
    assert newest_document(workspace) == before


async def test_stages_are_added_moved_and_removed_in_the_form(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "marketer")
    await user.open("/playbook")
    user.find(marker="add-stages").click()
    set_value(user, field(user, "stages[9].key"), "nurture")
    set_value(user, field(user, "stages[9].name.zh"), "培育")
    for _ in range(7):
        user.find(marker=f"up-stages[{9 - _}]").click()
    user.find(marker="remove-stages[0]").click()
    user.find(marker="yaml-tab").click()
    stages = load_located(editor(user).value).data["stages"]
    assert [s["key"] for s in stages][:3] == ["visit", "nurture", "registered"]
    assert stages[1] == {"key": "nurture", "name": "培育"}
    user.find(marker="validate").click()
    # The default stage rules still send people to the removed "awareness" stage.
    await user.should_see("stage_rules[0].to")


async def test_viewers_read_the_forms_but_cannot_change_or_save(
    user: User, workspace: NewWorkspace
) -> None:
    log_in(user, workspace, "viewer")
    await user.open("/playbook")
    await user.should_see(marker="read-only-note")
    assert field(user, POINTS).props.get("readonly") is True
    await user.should_not_see(marker="add-stages")
    await user.should_not_see(marker="save")
    ui_count = len(user.find(marker="validate").elements)
    assert ui_count == 1
