"""The playbook forms' document edits, without a browser: what a form does to the playbook."""

import copy
import difflib
import re
from pathlib import Path
from typing import Any

import pytest

from leadpond.conditions.source import load_located
from leadpond.console import playbook_forms
from leadpond.console.i18n import catalog, translator
from leadpond.console.playbook_forms import (
    KEY_EVENTS,
    SCORE_MODELS,
    SCORE_RULES,
    SECTIONS,
    STAGE_RULES,
    STAGES,
    TAG_CATEGORIES,
    TAG_RULES,
    FormField,
    PlaybookDraft,
    Section,
    SnippetError,
    input_for,
    renamed,
    shown,
    stored,
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
    assert written == default_source()
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
    draft.translate = translator("zh_CN")  # as the playbook page sets it
    draft.edit(RULE, SCORE_RULES, condition, "{event: Page Viewed")
    assert draft.snippet_problems["score_models[0].rules[0].if"] == "YAML 无法读取（第 1 行）。"
    draft.edit(RULE, SCORE_RULES, condition, "[a, list]")
    assert draft.snippet_problems["score_models[0].rules[0].if"] == (
        "应为键值映射，例如 {tag: vip}。"
    )
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
    assert len(draft.rows(("tag_rules",))) == 6  # the default playbook has seven


def test_a_text_that_is_not_a_playbook_mapping_is_refused() -> None:
    with pytest.raises(SnippetError) as raised:
        PlaybookDraft.from_yaml("- just\n- a list\n")
    assert raised.value.said(translator("en")) == (
        "A playbook is a mapping that starts with version: 1."
    )
    with pytest.raises(SnippetError) as raised:
        PlaybookDraft.from_yaml("version: [1\n")
    assert raised.value.said(translator("zh_CN")).startswith("YAML 无法读取（第 ")


def test_every_snippet_problem_has_chinese_words() -> None:
    source = Path(playbook_forms.__file__).read_text(encoding="utf-8")
    words = re.findall(r'SnippetError(?:\.\w+)?\(\s*"([^"]+)"', source)
    words += re.findall(r'cls\(\s*"([^"]+)"', source)
    assert len(words) >= 6
    chinese = catalog("zh_CN")
    assert sorted(w for w in words if w not in chinese) == []


def test_an_error_is_shown_on_the_field_it_is_about_or_the_nearest_above() -> None:
    inputs = {"score_models[0].rules[2].if", "score_models[0].rules[2].points"}
    assert input_for("score_models[0].rules[2].if.all[1].event", inputs) == (
        "score_models[0].rules[2].if"
    )
    assert input_for("score_models[0].rules[2].points", inputs) == (
        "score_models[0].rules[2].points"
    )
    assert input_for("version", inputs) is None


# A playbook as a team keeps it in git: comments on their own lines, at line ends and between
# rows, flow mappings, quoted strings, Chinese text, and YAML 1.2 words (``on:``, ``yes``).
COMMENTED = """\
# Acme's playbook: kept in git, reviewed like code.
version: 1

stages:
  - {key: new, name: 新线索}          # everyone starts here
  - {key: engaged, name: "活跃", phase: 育}

tag_rules:
  - id: webinar-topic   # 按主题打标签
    on: {event: Webinar Attended}
    then: {add_tags: ["product_pref:{topic}"]}

score_models:
  - key: engagement
    name: 'Engagement'
    rules:
      # Visits count a little.
      - {id: page-view, on: {event: "Page Viewed"}, points: 1}

      # Downloads count more, capped per month.
      - id: whitepaper
        on:
          event: Whitepaper Downloaded   # the gated PDFs
        points: 5
        cap: {points: 15, per: 30d}
      - id: opted-in-webinar
        on: {event: [Webinar Attended, Event Checked In]}
        if: {trait: opted_in, eq: yes}   # "yes" is text here, not a boolean
        points: 3
    # grades come later

stage_rules:
  - {to: new}
  - to: engaged
    if: {score: {engagement: {gte: 10}}}  # MQL-ish
"""
RULES = ("score_models", 0, "rules")


def changes(before: str, after: str) -> list[str]:
    """The lines taken out (``-``) and put in (``+``), in order."""
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    return [line for line in diff if line[:1] in "+-"]


def comments(text: str) -> list[str]:
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


def data(text: str) -> dict[str, Any]:
    document: dict[str, Any] = validate_playbook(text).document
    return document


@pytest.mark.parametrize(
    "text",
    [
        default_source(),
        COMMENTED,
        "---\nversion: 1\nstages:\n- {key: a}  # dash under the key\n- key: b\n  name: B\n",
        "# header\n%YAML 1.2\n---  # on the start line\nversion: 1\n",
    ],
    ids=["default", "commented", "dashes-at-key-column", "preamble"],
)
def test_a_playbook_read_and_written_unchanged_is_the_same_text(text: str) -> None:
    assert PlaybookDraft.from_yaml(text).to_yaml() == text


def test_a_field_edit_changes_that_value_and_keeps_every_comment_and_layout() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    draft.edit((*RULES, 0), SCORE_RULES, form_field(SCORE_RULES, "points"), 4)
    written = draft.to_yaml()
    assert changes(COMMENTED, written) == [
        '-       - {id: page-view, on: {event: "Page Viewed"}, points: 1}',
        '+       - {id: page-view, on: {event: "Page Viewed"}, points: 4}',
    ]
    expected = copy.deepcopy(data(COMMENTED))
    expected["score_models"][0]["rules"][0]["points"] = 4
    assert data(written) == expected


def test_a_value_edited_in_a_block_keeps_its_line_comment_and_quotes() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    draft.edit((*RULES, 1), SCORE_RULES, form_field(SCORE_RULES, "on.event"), "Guide Downloaded")
    draft.edit(("stages", 1), STAGES, form_field(STAGES, "name.zh"), "互动")
    assert changes(COMMENTED, draft.to_yaml()) == [
        '-   - {key: engaged, name: "活跃", phase: 育}',
        '+   - {key: engaged, name: "互动", phase: 育}',
        "-           event: Whitepaper Downloaded   # the gated PDFs",
        "+           event: Guide Downloaded        # the gated PDFs",
    ]


def test_a_condition_retyped_changes_only_what_differs() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    condition = form_field(SCORE_RULES, "if")
    # The new value is written as typed, quotes and all.
    draft.edit((*RULES, 2), SCORE_RULES, condition, "{trait: opted_in, eq: 'no'}")
    assert changes(COMMENTED, draft.to_yaml()) == [
        '-         if: {trait: opted_in, eq: yes}   # "yes" is text here, not a boolean',
        "+         if: {trait: opted_in, eq: 'no'}  # \"yes\" is text here, not a boolean",
    ]
    assert data(draft.to_yaml())["score_models"][0]["rules"][2]["if"]["eq"] == "no"


def test_a_quoted_pattern_typed_after_an_error_keeps_its_quotes() -> None:
    """The condition first names a key the validator refuses, which drops ``matches``; typed
    back in quotes, the pattern is written in quotes and the field shows them."""
    draft = PlaybookDraft.from_yaml(COMMENTED)
    condition = form_field(SCORE_RULES, "if")
    draft.edit((*RULES, 2), SCORE_RULES, condition, "{trait: title, resembles: CIO}")
    draft.edit((*RULES, 2), SCORE_RULES, condition, "{trait: title, matches: '(?i)CIO|CTO'}")
    written = draft.to_yaml()
    assert "if: {trait: title, matches: '(?i)CIO|CTO'}" in written
    assert data(written)["score_models"][0]["rules"][2]["if"]["matches"] == "(?i)CIO|CTO"
    row = dict(draft.rows(RULES))[2]
    assert shown(row, condition) == "{trait: title, matches: '(?i)CIO|CTO'}"
    validate_playbook(written)


def test_a_new_key_and_a_cleared_key_touch_only_their_own_lines() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    draft.edit(
        (*RULES, 1), SCORE_RULES, form_field(SCORE_RULES, "if"), "{trait: title, exists: true}"
    )
    draft.edit((*RULES, 1), SCORE_RULES, form_field(SCORE_RULES, "cap.points"), None)
    draft.edit((*RULES, 1), SCORE_RULES, form_field(SCORE_RULES, "cap.per"), "")
    draft.edit((*RULES, 2), SCORE_RULES, form_field(SCORE_RULES, "reason"), "opted in")
    assert changes(COMMENTED, draft.to_yaml()) == [
        "+         if: {trait: title, exists: true}",
        "-         cap: {points: 15, per: 30d}",
        "+         reason: opted in",
    ]


def test_every_field_retyped_as_shown_leaves_the_default_playbook_text_alone(
    draft: PlaybookDraft,
) -> None:
    def retype(section: Section, parent: tuple[Any, ...]) -> None:
        list_path = (*parent, section.key)
        for index, item in draft.rows(list_path):
            for each in section.fields:
                draft.edit((*list_path, index), section, each, shown(item, each))
            for child in section.children:
                retype(child, (*list_path, index))

    for section in SECTIONS:
        retype(section, ())
    assert draft.problems() == []
    assert draft.to_yaml() == default_source()


def test_an_added_rule_goes_below_the_last_and_the_comments_around_stay() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    draft.add(RULES, SCORE_RULES)
    draft.add(("stages",), STAGES)
    written = draft.to_yaml()
    assert changes(COMMENTED, written) == [
        "+   - {key: new-stage}",
        "+       - id: new-score-rule",
        "+         points: 1",
    ]
    assert written.index("points: 3") < written.index("new-score-rule")
    assert written.index("new-score-rule") < written.index("# grades come later")
    assert data(written)["score_models"][0]["rules"][3] == {"id": "new-score-rule", "points": 1}


def test_a_rule_added_below_flow_rows_is_a_flow_row(draft: PlaybookDraft) -> None:
    draft.add(("score_models", 0, "rules"), SCORE_RULES)
    assert changes(default_source(), draft.to_yaml()) == [
        "+       - {id: new-score-rule, points: 1}"
    ]


def test_a_removed_rule_takes_its_own_comments_and_leaves_the_others() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    draft.remove(RULES, 1)
    written = draft.to_yaml()
    gone = ["# Downloads count more, capped per month.", "# the gated PDFs"]
    assert comments(written) == [c for c in comments(COMMENTED) if c not in gone]
    assert [r["id"] for r in data(written)["score_models"][0]["rules"]] == [
        "page-view",
        "opted-in-webinar",
    ]


def test_removing_the_last_rule_keeps_the_comment_after_the_list() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    draft.remove(RULES, 2)
    written = draft.to_yaml()
    assert "# grades come later" in written
    assert '"yes" is text here' not in written
    assert written.index("cap: {points: 15, per: 30d}") < written.index("# grades come later")
    draft.remove(RULES, 1)
    draft.remove(RULES, 0)
    assert "    rules: []\n    # grades come later\n" in draft.to_yaml()
    assert data(draft.to_yaml())["score_models"][0]["rules"] == []


def test_a_moved_row_takes_its_comments_along() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    assert draft.move(RULES, 1, 1) == 2
    written = draft.to_yaml()
    assert sorted(comments(written)) == sorted(comments(COMMENTED))
    expected = "\n".join(
        [
            "      - id: opted-in-webinar",
            "        on: {event: [Webinar Attended, Event Checked In]}",
            '        if: {trait: opted_in, eq: yes}   # "yes" is text here, not a boolean',
            "        points: 3",
            "",
            "      # Downloads count more, capped per month.",
            "      - id: whitepaper",
        ]
    )
    assert expected in written
    assert written.index("cap: {points: 15, per: 30d}") < written.index("# grades come later")


def test_a_flow_row_with_a_comment_above_a_block_row_stays_valid_yaml() -> None:
    # ruamel.yaml 0.19 alone writes this as "- id: a then: {}"
    text = (
        "version: 1\ntag_rules:  # by topic\n  - id: a\n    then: {}\n  - {id: b, then: {}}  # b\n"
    )
    draft = PlaybookDraft.from_yaml(text)
    draft.move(("tag_rules",), 1, -1)
    assert draft.to_yaml().endswith("  - {id: b, then: {}}  # b\n  - id: a\n    then: {}\n")
    assert [r["id"] for r in data(draft.to_yaml())["tag_rules"]] == ["b", "a"]


@pytest.mark.parametrize("typed", ["yes", "on", "off", "no", "true", "1:30", "0123", "~", "a: b"])
def test_text_typed_in_a_form_is_read_back_as_that_text(typed: str) -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    draft.edit((*RULES, 0), SCORE_RULES, form_field(SCORE_RULES, "reason"), typed)
    assert load_located(draft.to_yaml()).data["score_models"][0]["rules"][0]["reason"] == typed


def test_on_and_yes_stay_text_in_the_draft_as_in_the_loader() -> None:
    draft = PlaybookDraft.from_yaml(COMMENTED)
    assert list(rule(draft, (*RULES, 2))) == ["id", "on", "if", "points"]
    assert rule(draft, (*RULES, 2))["if"]["eq"] == "yes"
    flag = form_field(STAGES, "detour")
    draft.edit(("stages", 0), STAGES, flag, stored(flag, True))
    assert "  - {key: new, name: 新线索, detour: true}" in draft.to_yaml()


def test_a_key_event_added_to_an_empty_list_is_written_as_a_block() -> None:
    draft = PlaybookDraft.from_yaml("version: 1\nkey_events: []  # none yet\n")
    draft.add(("key_events",), KEY_EVENTS)
    assert draft.to_yaml() == (
        "version: 1\n"
        "key_events:     # none yet\n"
        "  - id: new-key-event\n"
        "    emit: New Key Event\n"
        "    if: {event: Page Viewed}\n"
    )


BILINGUAL = """\
version: 1
stages:
  - {key: new, name: "新线索"}   # one name for every language
  - {key: engaged, name: {zh: 活跃, en: 'Engaged'}, phase: 育}
  - key: won
    name:
      en: Won   # English only so far
tag_categories:
  - key: product_pref
    name: {zh: 产品偏好, en: Product preference}
    values: {graph_database: {zh: 图数据库, en: Graph database}, warehouse: 实时数仓}
"""


def test_names_in_both_shapes_round_trip_unchanged() -> None:
    assert PlaybookDraft.from_yaml(BILINGUAL).to_yaml() == BILINGUAL
    assert validate_playbook(BILINGUAL).playbook.stages[1].name == {"zh": "活跃", "en": "Engaged"}


def test_each_language_of_a_name_has_its_field() -> None:
    draft = PlaybookDraft.from_yaml(BILINGUAL)
    zh, en = form_field(STAGES, "name.zh"), form_field(STAGES, "name.en")
    stages = [item for _, item in draft.rows(("stages",))]
    # One text for every language shows as the Chinese; the English is empty until typed.
    assert [(shown(s, zh), shown(s, en)) for s in stages] == [
        ("新线索", ""),
        ("活跃", "Engaged"),
        ("", "Won"),
    ]
    categories = draft.rows(("tag_categories",))
    values = shown(categories[0][1], form_field(TAG_CATEGORIES, "values"))
    assert "graph_database: {zh: 图数据库, en: Graph database}" in values


def test_an_english_name_typed_next_to_one_text_makes_a_pair_and_keeps_the_rest() -> None:
    draft = PlaybookDraft.from_yaml(BILINGUAL)
    zh, en = form_field(STAGES, "name.zh"), form_field(STAGES, "name.en")
    draft.edit(("stages", 0), STAGES, en, "New lead")
    draft.edit(("stages", 1), STAGES, zh, "互动")
    draft.edit(("stages", 2), STAGES, zh, "成单")
    written = draft.to_yaml()
    assert changes(BILINGUAL, written) == [
        '-   - {key: new, name: "新线索"}   # one name for every language',
        '+   - {key: new, name: {zh: "新线索", en: New lead}} # one name for every language',
        "-   - {key: engaged, name: {zh: 活跃, en: 'Engaged'}, phase: 育}",
        "+   - {key: engaged, name: {zh: 互动, en: 'Engaged'}, phase: 育}",
        "+       zh: 成单",
    ]
    names = [s["name"] for s in data(written)["stages"]]
    assert names == [
        {"zh": "新线索", "en": "New lead"},
        {"zh": "互动", "en": "Engaged"},
        {"en": "Won", "zh": "成单"},
    ]
    # Emptying one language leaves the other; emptying both takes the name away.
    draft.edit(("stages", 1), STAGES, en, "")
    draft.edit(("stages", 2), STAGES, en, " ")
    draft.edit(("stages", 2), STAGES, zh, "")
    names = [s.get("name") for s in data(draft.to_yaml())["stages"]]
    assert names == [{"zh": "新线索", "en": "New lead"}, {"zh": "互动"}, None]


def test_a_one_text_name_stays_one_text_when_only_it_is_edited() -> None:
    assert renamed("新线索", "zh", "线索") == "线索"
    assert renamed("新线索", "en", "Lead") == {"zh": "新线索", "en": "Lead"}
    assert renamed({"zh": "活跃", "en": "Engaged"}, "en", None) == {"zh": "活跃"}
    assert renamed({"en": "Won"}, "en", None) is None
    assert renamed(None, "en", "Won") == {"en": "Won"}
    assert renamed(None, "zh", "成单") == "成单"


def test_a_bad_name_error_lands_on_its_chinese_field() -> None:
    inputs = {"stages[1].name.zh", "stages[1].name.en", "stages[1].key"}
    assert input_for("stages[1].name", inputs) == "stages[1].name.zh"
    assert input_for("stages[1].name.en", inputs) == "stages[1].name.en"
