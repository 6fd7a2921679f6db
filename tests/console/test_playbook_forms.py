"""The playbook forms' document edits, without a browser: what a form does to the playbook."""

from typing import Any

import pytest

from leadpond.conditions.source import load_located
from leadpond.console.playbook_forms import (
    SCORE_MODELS,
    SCORE_RULES,
    SECTIONS,
    STAGE_RULES,
    STAGES,
    TAG_RULES,
    FormField,
    PlaybookDraft,
    Section,
    SnippetError,
    input_for,
    shown,
)
from leadpond.playbooks.service import default_source, validate_playbook

RULE = ("score_models", 0, "rules", 0)


def form_field(section: Section, key: str) -> FormField:
    return next(f for f in section.fields if f.key == key)


def rule(draft: PlaybookDraft, path: tuple[Any, ...] = RULE) -> dict[str, Any]:
    found: Any = draft.document
    for part in path:
        found = found[part]
    assert isinstance(found, dict)
    return found


@pytest.fixture
def draft() -> PlaybookDraft:
    return PlaybookDraft.from_yaml(default_source())


def test_the_default_playbook_survives_forms_unchanged(draft: PlaybookDraft) -> None:
    written = draft.to_yaml()
    assert validate_playbook(written).document == validate_playbook(default_source()).document
    assert "\n  on: {event: Booth Checked In}\n" in written  # plain, as people write it
    assert load_located(written).data["tag_rules"][0]["on"]


def test_a_number_typed_in_a_form_is_stored_as_the_file_would_write_it(
    draft: PlaybookDraft,
) -> None:
    draft.edit(RULE, SCORE_RULES, form_field(SCORE_RULES, "points"), 4.0)
    draft.edit(RULE, SCORE_RULES, form_field(SCORE_RULES, "cap.points"), 8)
    assert rule(draft) == {
        "id": "event-registration",
        "on": {"event": "Event Registered"},
        "points": 4,
        "cap": {"points": 8},
    }
    draft.edit(RULE, SCORE_RULES, form_field(SCORE_RULES, "cap.points"), None)
    assert "cap" not in rule(draft)
    draft.edit(RULE, SCORE_RULES, form_field(SCORE_RULES, "points"), 2.5)
    assert rule(draft)["points"] == 2.5


def test_trigger_events_are_one_name_or_a_list_and_leave_with_their_last_field(
    draft: PlaybookDraft,
) -> None:
    events = form_field(SCORE_RULES, "on.event")
    draft.edit(RULE, SCORE_RULES, events, "Event Registered, Event Checked In")
    assert rule(draft)["on"] == {"event": ["Event Registered", "Event Checked In"]}
    assert shown(rule(draft), events) == "Event Registered, Event Checked In"
    draft.edit(RULE, SCORE_RULES, events, " Webinar Attended ")
    assert rule(draft)["on"] == {"event": "Webinar Attended"}
    draft.edit(RULE, SCORE_RULES, events, "")
    assert "on" not in rule(draft)
    assert list(rule(draft)) == ["id", "points"]


def test_a_new_key_goes_where_the_form_shows_it(draft: PlaybookDraft) -> None:
    draft.edit(RULE, SCORE_RULES, form_field(SCORE_RULES, "if"), "{trait: title, exists: true}")
    assert list(rule(draft)) == ["id", "on", "if", "points"]
    assert rule(draft)["if"] == {"trait": "title", "exists": True}


def test_a_condition_that_is_not_yaml_is_remembered_with_its_path_not_stored(
    draft: PlaybookDraft,
) -> None:
    condition = form_field(SCORE_RULES, "if")
    draft.edit(RULE, SCORE_RULES, condition, "{event: Page Viewed")
    assert "if" not in rule(draft)
    assert [p["path"] for p in draft.problems()] == ["score_models[0].rules[0].if"]
    draft.edit(RULE, SCORE_RULES, condition, "[a, list]")
    assert "mapping" in draft.snippet_problems["score_models[0].rules[0].if"]
    draft.edit(RULE, SCORE_RULES, condition, "{event: Page Viewed}")
    assert draft.problems() == []
    assert rule(draft)["if"] == {"event": "Page Viewed"}


def test_tag_actions_stay_even_when_emptied(draft: PlaybookDraft) -> None:
    path = ("tag_rules", 5)
    draft.edit(path, TAG_RULES, form_field(TAG_RULES, "then.add_tags"), "")
    draft.edit(path, TAG_RULES, form_field(TAG_RULES, "then.remove_tags"), "")
    assert rule(draft, path)["then"] == {}
    draft.edit(path, TAG_RULES, form_field(TAG_RULES, "then.add_tags"), "value:customer, need:x")
    assert rule(draft, path)["then"] == {"add_tags": ["value:customer", "need:x"]}


def test_flags_are_written_only_when_set(draft: PlaybookDraft) -> None:
    sticky = form_field(STAGES, "sticky")
    draft.edit(("stages", 0), STAGES, sticky, True)
    assert rule(draft, ("stages", 0))["sticky"] is True
    draft.edit(("stages", 0), STAGES, sticky, False)
    assert "sticky" not in rule(draft, ("stages", 0))


def test_new_rows_get_ids_unique_across_the_playbook(draft: PlaybookDraft) -> None:
    first = draft.add(("score_models", 0, "rules"), SCORE_RULES)
    second = draft.add(("score_models", 1, "rules"), SCORE_RULES)
    tag_rule = draft.add(("tag_rules",), TAG_RULES)
    stage_rule = draft.add(("stage_rules",), STAGE_RULES)
    assert rule(draft, ("score_models", 0, "rules", first))["id"] == "new-score-rule"
    assert rule(draft, ("score_models", 1, "rules", second))["id"] == "new-score-rule-2"
    assert rule(draft, ("tag_rules", tag_rule))["id"] == "new-tag-rule"
    assert rule(draft, ("stage_rules", stage_rule)) == {"to": "awareness"}
    validate_playbook(draft.to_yaml())


def test_every_section_can_grow_from_nothing() -> None:
    draft = PlaybookDraft.from_yaml("version: 1\n")
    for section in SECTIONS:
        draft.add((section.key,), section)
    draft.add(("score_models", 0, "thresholds"), SCORE_MODELS.children[0])
    draft.add(("score_models", 0, "rules"), SCORE_RULES)
    assert validate_playbook(draft.to_yaml()).playbook.score_models[0].rules[0].points == 1


def test_rows_move_and_go_and_forget_problems_that_no_longer_line_up(
    draft: PlaybookDraft,
) -> None:
    condition = form_field(TAG_RULES, "if")
    draft.edit(("tag_rules", 1), TAG_RULES, condition, "{oops")
    assert draft.move(("tag_rules",), 1, -1) == 0
    assert draft.problems() == []
    assert [r["id"] for _, r in draft.rows(("tag_rules",))][:2] == [
        "certification-product-pref",
        "event-topic-product-pref",
    ]
    assert draft.move(("tag_rules",), 0, -1) == 0
    draft.remove(("tag_rules",), 0)
    assert len(draft.rows(("tag_rules",))) == 5


def test_a_text_that_is_not_a_playbook_mapping_is_refused() -> None:
    with pytest.raises(SnippetError):
        PlaybookDraft.from_yaml("- just\n- a list\n")
    with pytest.raises(SnippetError):
        PlaybookDraft.from_yaml("version: [1\n")


def test_an_error_is_shown_on_the_field_it_is_about_or_the_nearest_above() -> None:
    inputs = {"score_models[0].rules[2].if", "score_models[0].rules[2].points"}
    assert input_for("score_models[0].rules[2].if.all[1].event", inputs) == (
        "score_models[0].rules[2].if"
    )
    assert input_for("score_models[0].rules[2].points", inputs) == (
        "score_models[0].rules[2].points"
    )
    assert input_for("version", inputs) is None
