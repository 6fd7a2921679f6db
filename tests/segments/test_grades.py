"""Grades in the condition language: the default playbook's fit model (A >= 60 ... else F)."""

import pytest
from fastapi.testclient import TestClient

from leadpond.conditions.ast import Grade, Test
from leadpond.conditions.evaluate import ConditionContext, ProfileSnapshot, grade_of, matches
from leadpond.kit.clock import utcnow
from leadpond.playbooks.service import default_source
from tests.conftest import Tracker
from tests.segments.helpers import create, member_ids, person_id

FIT = (("A", 60.0), ("B", 40.0), ("C", 25.0), ("D", 10.0))


@pytest.mark.parametrize(
    ("points", "letter"), [(75, "A"), (60, "A"), (59.9, "B"), (25, "C"), (10, "D"), (9, "F")]
)
def test_a_grade_is_the_best_letter_whose_floor_the_points_reach(
    points: float, letter: str
) -> None:
    assert grade_of(FIT, points) == letter


@pytest.mark.parametrize(
    ("test", "admitted"),
    [
        (Test(op="eq", value="B"), "B"),
        (Test(op="in", value=("A", "F")), "AF"),
        (Test(op="gte", value="B"), "AB"),
        (Test(op="gt", value="C"), "AB"),
        (Test(op="lte", value="D"), "DF"),
        (Test(op="lt", value="A"), "BCDF"),
        (Test(op="not_in", value=("A", "B")), "CDF"),
    ],
)
def test_letter_comparisons_rank_a_best(test: Test, admitted: str) -> None:
    context = ConditionContext(grades={"fit": FIT})
    cond = Grade(model="fit", tests=(test,))
    now = utcnow()
    got = ""
    for letter, points in zip("ABCDF", (70, 50, 30, 15, 0), strict=True):
        snap = ProfileSnapshot(now=now, context=context, scores={"fit": (points, now)})
        if matches(cond, snap):
            got += letter
    assert got == admitted


def test_a_segment_by_grade_follows_the_fit_score(track: Tracker, api: TestClient) -> None:
    track.identify("cio", traits={"title": "CIO", "industry": "银行", "phone": "13912345678"})
    track.identify("dev", traits={"title": "工程师", "company": "星环科技"})
    cio, dev = person_id(api, "cio"), person_id(api, "dev")
    fit = {p: api.get(f"/api/v1/people/{p}/scores").json()["items"] for p in (cio, dev)}
    assert [s["grade"] for s in fit[cio] if s["model"] == "fit"] == ["A"]
    assert [s["grade"] for s in fit[dev] if s["model"] == "fit"] == ["D"]

    good = create(api, key="good-fit", condition={"grade": {"fit": {"gte": "B"}}})
    assert member_ids(api, good["id"]) == {cio}
    weak = api.post("/api/v1/segments:preview", json={"condition": {"grade": {"fit": ["D", "F"]}}})
    assert weak.status_code == 200, weak.text
    assert weak.json()["count"] == 1


@pytest.mark.parametrize(
    ("atom", "message"),
    [
        ("{grade: {fit: Z}}", "no such grade of 'fit': 'Z'"),
        ("{grade: {engagement: A}}", "score model 'engagement' has no grades"),
        ("{grade: {nope: A}}", "no such score model: 'nope'"),
        ("{grade: {fit: {gte: 3}}}", "grades are letters"),
    ],
)
def test_a_wrong_grade_is_rejected_with_its_path(api: TestClient, atom: str, message: str) -> None:
    engineer = '    if: {trait: title, matches: "(?i)engineer|developer|工程师|开发|架构师"}'
    source = default_source().replace(engineer, f"    if: {atom}")
    assert source != default_source()
    response = api.post(
        "/api/v1/playbook/validate", content=source, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 422, response.text
    assert message in response.text
    assert "personas[2].if" in response.text
