"""The journey builder's model: a journey read and written back unedited is the same document
(and the playbook's text the same, comments and all), and the builder's edits keep a valid
journey valid — checked by the compiler the playbook is saved with."""

import copy
import functools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadpond.conditions.source import load_located
from leadpond.console.pages.journey_builder_model import (
    STEP_KINDS,
    JourneyModel,
    place_errors,
    spliced,
    step_kind,
)
from leadpond.kit import yaml
from leadpond.playbooks.service import default_source, validate_playbook

TEMPLATES = {"email": ["welcome"], "sms": ["hello"], "wecom": ["note"]}
CONDITIONS = st.sampled_from(
    [{"tag": "vip"}, {"stage": {"in": ["engaged"]}}, {"trait": "industry", "eq": "retail"}]
)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def journeys(draw: st.DrawFn, unknown: bool = True) -> dict[str, Any]:
    """A journey whose jumps go forward, with every kind of step (and, when ``unknown``, steps
    and entries the builder has no fields for)."""
    count = draw(st.integers(1, 7))
    ids = [f"s{i}" for i in range(count)]
    steps = []
    for i, sid in enumerate(ids):
        later = st.sampled_from([*ids[i + 1 :], "exit"])
        kinds = ["send", "wait", "wait_until", "wait_for", "tags", "points", "stage", "trait"]
        kinds += ["branch", "split", "exit", "send_content", "wait_if", "owner", "notify"]
        kinds += ["webhook"] + (["later_kind"] if unknown else [])
        kind = draw(st.sampled_from(kinds))
        step: dict[str, Any] = {"id": sid}
        if kind == "send":
            step["send"] = draw(
                st.sampled_from(
                    [
                        {"channel": "email", "template": "welcome"},
                        {"channel": "wecom", "template": "note", "to": "owner", "on_duty": "u1"},
                    ]
                )
            )
        elif kind == "wait":
            step["wait"] = draw(st.sampled_from(["1d", "12h", "30m"]))
        elif kind == "wait_until":
            step["wait_until"] = draw(st.sampled_from(["09:30", "18:00"]))
        elif kind == "wait_for":
            step["wait_for"] = {"event": "Email Clicked", "timeout": "3d"}
            if draw(st.booleans()):
                step["wait_for"]["goto_timeout"] = draw(later)
        elif kind == "tags":
            step["add_tags"] = ["journey:x"]
            if draw(st.booleans()):
                step["remove_tags"] = ["need:evaluation"]
        elif kind == "points":
            step["add_points"] = {"engagement": draw(st.integers(1, 9))}
        elif kind == "stage":
            step["set_stage"] = "engaged"
        elif kind == "trait":
            step["set_trait"] = {"lead_status": "nurtured"}
        elif kind == "branch":
            arms = [
                {"if": draw(CONDITIONS), "goto": draw(later)}
                for _ in range(draw(st.integers(1, 2)))
            ]
            step["branch"] = arms + ([{"goto": draw(later)}] if draw(st.booleans()) else [])
        elif kind == "split":
            step["split"] = [
                {"variant": v, "weight": draw(st.integers(1, 90)), "goto": draw(later)}
                for v in ("A", "B")
            ]
        elif kind == "exit":
            step["exit"] = True
        elif kind == "send_content":
            step["send_content"] = {"channel": "email", "template": "welcome", "limit": 2}
            if draw(st.booleans()):
                step["send_content"] |= {"type": "case_study", "fallback": draw(later)}
        elif kind == "wait_if":
            step["wait_until"] = {"if": draw(CONDITIONS), "timeout": "2d"}
            if draw(st.booleans()):
                step["wait_until"]["goto_timeout"] = draw(later)
        elif kind == "owner":
            step["assign_owner"] = draw(
                st.sampled_from(
                    [
                        {"from": "account"},
                        {"round_robin": ["a@example.com", "b@example.com"]},
                        {"round_robin": [{"user": "a@example.com", "wecom_userid": "a"}]},
                        {"from": "account", "keep_existing": False},
                    ]
                )
            )
        elif kind == "notify":
            step["notify"] = draw(
                st.sampled_from(
                    [
                        {"channel": "wecom", "template": "note", "to": "owner"},
                        {"template": "welcome", "to": {"role": "sales"}},
                        {"channel": "email", "template": "welcome", "to": {"user": "a@b.cn"}},
                    ]
                )
            )
        elif kind == "webhook":
            step["webhook"] = {"template": "crm_push"}
        else:
            step["later_kind"] = {"to": "someone", "body": [1, 2]}
        if unknown and draw(st.booleans()):
            step["name"] = f"step {sid}"
        if kind not in ("branch", "split", "exit") and draw(st.booleans()):
            step["next"] = draw(later)
        steps.append(step)
    trigger = draw(
        st.sampled_from(
            [
                {"event": "Trial Requested"},
                {"event": ["Form Submitted", "Demo Requested"], "where": {"form": "trial"}},
                {"tag": "vip"},
                {"stage": "engaged"},
                {"schedule": {"cron": "0 9 * * 1", "segment": "hot-leads"}},
                {"api": True},
            ]
        )
    )
    journey: dict[str, Any] = {"key": "generated", "name": "生成的旅程", "trigger": trigger}
    if draw(st.booleans()):
        journey["if"] = draw(CONDITIONS)
    if draw(st.booleans()):
        journey["reentry"] = draw(st.sampled_from(["never", "after_exit", "30d"]))
    if draw(st.booleans()):
        journey["limits"] = {"per_second": 5, "total": 100}
    journey["steps"] = steps
    if draw(st.booleans()):
        journey["goal"] = {"stage": {"gte": "opportunity"}}
    return journey


def _valid(journey: dict[str, Any]) -> None:
    """Validated as saving would, in a playbook of the default's stages and score models."""
    validate_playbook(yaml.dump({**_default_parts(), "journeys": [journey]}, flow=None))


@functools.cache
def _default_parts() -> dict[str, Any]:
    base = load_located(default_source()).data
    return {k: base[k] for k in ("version", "stages", "score_models", "segments")}


COMMENTED = """\
# A playbook with comments where the builder must keep them.
version: 1

stages:   # the funnel
  - {key: engaged, name: 活跃}
  - {key: opportunity, name: 商机}

# Journeys below.
journeys:
  - key: first   # kept as written
    trigger: {event: Trial Requested}
    steps:
      - {id: only, wait: 1d}   # one day
  # about the next one
  - key: second
    trigger: {api: true}
    steps: [{id: bye, exit: true}]

# The end.
"""


def _with_journey(journey: dict[str, Any]) -> str:
    """A playbook with comments everywhere, the journey added in YAML by the builder."""
    return spliced(COMMENTED, JourneyModel.of(journey), None)[0]


@SETTINGS
@given(journeys())
def test_a_journey_read_and_written_back_is_the_same_document(journey: dict[str, Any]) -> None:
    assert JourneyModel.of(copy.deepcopy(journey)).to_data() == journey
    text = _with_journey(journey)
    assert load_located(text).data["journeys"][-1] == journey
    # Unedited, the builder's save writes the text back as it was, comments and all.
    again = JourneyModel.of(load_located(text).data["journeys"][-1])
    assert spliced(text, again, "generated")[0] == text


@SETTINGS
@given(journeys(), st.data())
def test_editing_a_journey_keeps_every_comment_outside_it(
    journey: dict[str, Any], data: st.DataObject
) -> None:
    text = _with_journey(journey)
    model = JourneyModel.of(load_located(text).data["journeys"][-1])
    model.add_after(data.draw(st.integers(-1, len(model.steps) - 1)), "wait", TEMPLATES)
    model.header["name"] = "改过的旅程"
    after = spliced(text, model, "generated")[0]
    comments = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    kept = [line.split("#", 1)[1] for line in after.splitlines() if "#" in line]
    assert kept == comments
    assert load_located(after).data["journeys"][:2] == load_located(text).data["journeys"][:2]
    assert after.endswith("\n# The end.\n") and text.endswith("\n# The end.\n")


@SETTINGS
@given(journeys(unknown=False), st.data())
def test_the_builders_edits_keep_a_valid_journey_valid(
    journey: dict[str, Any], data: st.DataObject
) -> None:
    _valid(journey)
    model = JourneyModel.of(journey)
    for _ in range(data.draw(st.integers(1, 4))):
        armed = [i for i, s in enumerate(model.steps) if step_kind(s) in ("branch", "split")]
        choice = data.draw(st.sampled_from(["after", "arm", "delete"] if armed else ["after"]))
        # A winner needs a split before it and an enrollment another journey: both are
        # chosen on the card after adding (the validation names them until then).
        addable = [k for k in STEP_KINDS if k not in ("send_winner", "enroll")]
        kind = data.draw(st.sampled_from(addable))
        if choice == "after":
            model.add_after(data.draw(st.integers(-1, len(model.steps) - 1)), kind, TEMPLATES)
        elif choice == "arm":
            index = data.draw(st.sampled_from(armed))
            arms = model.steps[index][step_kind(model.steps[index])]
            model.add_in_arm(index, data.draw(st.integers(0, len(arms) - 1)), kind, TEMPLATES)
        elif len(model.steps) > 1:
            model.delete(data.draw(st.integers(0, len(model.steps) - 1)))
        _valid(model.to_data())


def test_adding_in_an_arm_runs_the_new_step_on_that_arm_only() -> None:
    model = JourneyModel.of(
        {
            "key": "j",
            "trigger": {"api": True},
            "steps": [
                {"id": "which", "branch": [{"if": {"tag": "vip"}, "goto": "vip-mail"}]},
                {"id": "other-mail", "send": {"channel": "email", "template": "a"}, "next": "exit"},
                {"id": "vip-mail", "send": {"channel": "email", "template": "b"}},
            ],
        }
    )
    model.add_in_arm(0, 0, "wait", TEMPLATES)
    assert model.to_data()["steps"] == [
        {
            "id": "which",
            "branch": [{"if": {"tag": "vip"}, "goto": "wait"}, {"goto": "other-mail"}],
        },
        {"id": "wait", "wait": "1d", "next": "vip-mail"},
        {"id": "other-mail", "send": {"channel": "email", "template": "a"}, "next": "exit"},
        {"id": "vip-mail", "send": {"channel": "email", "template": "b"}},
    ]
    model.delete(1)  # back as it was, with the fallback made explicit
    assert model.steps[0]["branch"][0]["goto"] == "vip-mail"


def test_an_error_is_placed_on_the_card_it_names() -> None:
    errors = [
        {"path": "journeys[2].steps[1].send.template", "line": 9, "message": "bad"},
        {"path": "journeys[2].trigger.stage", "line": 4, "message": "no such stage"},
        {"path": "tag_rules[0].id", "line": 3, "message": "twice"},
    ]
    placed, elsewhere = place_errors(errors, 2)
    assert [(p.step, p.inner) for p in placed] == [(1, "send.template"), (None, "trigger.stage")]
    assert elsewhere == [errors[2]]
