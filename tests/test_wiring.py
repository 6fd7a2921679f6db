"""The wiring is explicit: stages, people-changed handlers and job kinds are listed once, and a
code path that runs without them fails loudly instead of leaving state behind."""

import uuid

import pytest
from sqlalchemy.orm import Session

from leadpond import wiring
from leadpond.flow import hooks
from leadpond.jobs import registry


def test_people_changed_without_handlers_fails_loudly() -> None:
    try:
        hooks._handlers = None
        with pytest.raises(RuntimeError, match="not installed"):
            hooks.people_changed(Session(), uuid.uuid4(), {1})
    finally:
        hooks.install(wiring.PEOPLE_CHANGED)


def test_handlers_run_in_the_listed_order() -> None:
    calls: list[str] = []
    try:
        hooks.install(
            [
                lambda _s, _w, _p: calls.append("accounts"),
                lambda _s, _w, _p: calls.append("segments"),
            ]
        )
        hooks.people_changed(Session(), uuid.uuid4(), {1})
        hooks.people_changed(Session(), uuid.uuid4(), set())
    finally:
        hooks.install(wiring.PEOPLE_CHANGED)
    assert calls == ["accounts", "segments"]


def test_job_kinds_are_the_listed_ones() -> None:
    names = [kind.name for kind in wiring.JOB_KINDS]
    assert len(names) == len(set(names))
    for name in names:
        kind = registry.kind_of(name)
        assert kind is not None and kind.name == name
    assert registry.startable_kinds() == sorted(k.name for k in wiring.JOB_KINDS if k.startable)


def test_segments_hear_about_people_after_accounts_and_rules() -> None:
    # Segments read the links and the tags/scores/stages the first two recompute; journeys'
    # enrollments follow the survivors last.
    modules = [handler.__module__ for handler in wiring.PEOPLE_CHANGED]
    assert modules == [
        "leadpond.accounts.service",
        "leadpond.rules.service",
        "leadpond.segments.incremental",
        "leadpond.journeys.merges",
    ]


def test_journeys_enroll_after_every_other_stage() -> None:
    # Their triggers read the tags, stages and segment entries the batch produced.
    assert wiring.STAGES[-1].__module__ == "leadpond.journeys.triggers"
