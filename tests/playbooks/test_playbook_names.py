"""Display names in both languages: the playbook names an item with one text or {zh, en}; readers
see their language's, else the other's, else the key."""

import pytest
from fastapi.testclient import TestClient

from leadpond.db.engine import read_only
from leadpond.kit.names import accepted_language, name_in
from leadpond.playbooks.service import PlaybookInvalid, default_source, validate_playbook
from leadpond.rules import vocabulary
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker
from tests.rules.helpers import person_id

NAMED = """\
version: 1
stages:
  - {key: lead, name: 线索}
  - {key: hot, name: {zh: 商机, en: Opportunity}}
  - {key: won, name: {en: Won}}
  - {key: lost}
tag_categories:
  - key: product_pref
    name: {zh: 产品偏好, en: Product preference}
    description: {zh: 关注的产品, en: Products they follow}
    values:
      graph_database: {zh: 图数据库, en: Graph database}
      warehouse: 实时数仓
  - {key: topic}
tag_rules:
  - id: pref
    on: {event: Article Read}
    then: {add_tags: ["product_pref:{topic}"]}
score_models:
  - key: reading
    name: {zh: 活跃度, en: Engagement}
    rules:
      - {id: read, on: {event: Article Read}, points: 5}
  - {key: fit, name: 匹配度}
stage_rules:
  - {to: lead}
  - {to: hot, if: {score: {reading: {gte: 5}}}}
personas:
  - key: reader
    name: {zh: 读者, en: Reader}
    if: {score: {reading: {gte: 5}}}
"""


def _refused(source: str) -> dict[str, object]:
    with pytest.raises(PlaybookInvalid) as caught:
        validate_playbook(source)
    errors: list[dict[str, object]] = caught.value.details["errors"]
    return errors[0]


def test_names_as_text_or_per_language_are_valid() -> None:
    valid = validate_playbook(NAMED)
    assert valid.playbook.stages[0].name == "线索"
    assert valid.playbook.stages[1].name == {"zh": "商机", "en": "Opportunity"}
    assert valid.playbook.tag_categories[0].values["warehouse"] == "实时数仓"


@pytest.mark.parametrize(
    ("replaced", "by", "path", "words"),
    [
        ("{zh: 商机, en: Opportunity}", "{zh: 商机, fr: Opportunité}", "stages[1].name", "'fr'"),
        ("{en: Won}", "{}", "stages[2].name", "at least one of zh, en"),
        ("{zh: 读者, en: Reader}", "{zh: 读者, en: ''}", "personas[0].name", "en name"),
        ("{zh: 读者, en: Reader}", "[读者, Reader]", "personas[0].name", "text or a mapping"),
        (
            "{zh: 图数据库, en: Graph database}",
            "{zh: 图数据库, de: Graphdatenbank}",
            "tag_categories[0].values.graph_database",
            "'de'",
        ),
        (
            "{zh: 关注的产品, en: Products they follow}",
            "{english: Products}",
            "tag_categories[0].description",
            "'english'",
        ),
    ],
)
def test_a_bad_name_is_refused_naming_the_item_and_field(
    replaced: str, by: str, path: str, words: str
) -> None:
    assert NAMED.count(replaced) == 1
    error = _refused(NAMED.replace(replaced, by))
    assert error["path"] == path
    assert words in str(error["message"])
    assert error["line"] is not None


def test_the_json_schema_describes_both_shapes(client: TestClient) -> None:
    schema = client.get("/api/v1/playbook/schema").json()
    name = schema["$defs"]["StageDef"]["properties"]["name"]
    shapes = name["anyOf"][0]["anyOf"]
    assert {"type": "string"} in shapes
    mapping = next(s for s in shapes if s.get("type") == "object")
    assert set(mapping["properties"]) == {"zh", "en"}
    assert mapping["additionalProperties"] is False


def test_a_name_falls_back_to_the_other_language_then_nothing() -> None:
    assert name_in({"zh": "商机", "en": "Opportunity"}, "en") == "Opportunity"
    assert name_in({"zh": "商机", "en": "Opportunity"}, "zh_CN") == "商机"
    assert name_in({"en": "Won"}, "zh") == "Won"
    assert name_in({"zh": "商机"}, "en") == "商机"
    assert name_in("线索", "en") == "线索"
    assert name_in({"": "等一天", "en": "One day"}, "zh") == "等一天"
    assert name_in(None, "en") is None and name_in("", "zh") is None
    assert accepted_language("en-US,en;q=0.9") == "en"
    assert accepted_language("fr-FR, zh-CN;q=0.5") == "zh"
    assert accepted_language(None) == "zh"


def test_the_vocabulary_speaks_the_readers_language(
    api: TestClient, workspace: NewWorkspace
) -> None:
    assert api.post("/api/v1/playbook", content=NAMED).status_code == 200
    ws = workspace.workspace_id
    with read_only() as session:
        english = vocabulary.labels(session, ws, "en")
        chinese = vocabulary.labels(session, ws, "zh_CN")
        assert vocabulary.stages(session, ws, "en") == [
            ("lead", "线索"),
            ("hot", "Opportunity"),
            ("won", "Won"),
            ("lost", "lost"),
        ]
        assert vocabulary.stages(session, ws) == [
            ("lead", "线索"),
            ("hot", "商机"),
            ("won", "Won"),
            ("lost", "lost"),
        ]
        assert vocabulary.score_models(session, ws, "en") == [
            ("reading", "Engagement"),
            ("fit", "匹配度"),
        ]
        assert vocabulary.personas(session, ws, "en") == [("reader", "Reader")]
        assert vocabulary.tag_categories(session, ws, "en") == [
            ("product_pref", "Product preference"),
            ("topic", "topic"),
        ]
        # A stage typed in either language (or by key) is recognised in a segment.
        assert ("hot", "Opportunity") in vocabulary.stage_names(session, ws)
        assert ("hot", "商机") in vocabulary.stage_names(session, ws)
    assert english.tag("product_pref:graph_database") == "Product preference: Graph database"
    assert chinese.tag("product_pref:graph_database") == "产品偏好: 图数据库"
    assert english.tag("product_pref:warehouse") == "Product preference: 实时数仓"
    assert english.tag("topic:ai") == "topic: ai"
    assert (english.stage("hot"), chinese.stage("hot")) == ("Opportunity", "商机")
    assert (english.score("reading"), chinese.score("reading")) == ("Engagement", "活跃度")
    assert (english.persona("reader"), chinese.persona("reader")) == ("Reader", "读者")


def test_the_api_names_stage_and_personas_in_the_accept_language(
    track: Tracker, api: TestClient
) -> None:
    assert api.post("/api/v1/playbook", content=NAMED).status_code == 200
    track.track("Article Read", "n1", {"topic": "graph_database"})
    pid = person_id(api, user_id="n1")
    english = {"Accept-Language": "en-GB,en;q=0.8"}
    stage = api.get(f"/api/v1/people/{pid}/stage", headers=english).json()
    assert (stage["stage"], stage["name"]) == ("hot", "Opportunity")
    assert api.get(f"/api/v1/people/{pid}/stage").json()["name"] == "商机"
    personas = api.get(f"/api/v1/people/{pid}/personas", headers=english).json()["items"]
    assert personas == [{"key": "reader", "name": "Reader"}]
    chinese = api.get(f"/api/v1/people/{pid}/personas", headers={"Accept-Language": "zh-CN"})
    assert chinese.json()["items"] == [{"key": "reader", "name": "读者"}]


def test_a_segment_may_name_a_stage_in_either_language(track: Tracker, api: TestClient) -> None:
    assert api.post("/api/v1/playbook", content=NAMED).status_code == 200
    track.track("Article Read", "n2", {"topic": "graph_database"})
    pid = person_id(api, user_id="n2")
    for key, typed in (("hot-en", "Opportunity"), ("hot-zh", "商机")):
        created = api.post(
            "/api/v1/segments", json={"key": key, "condition": {"stage": {"eq": typed}}}
        )
        assert created.status_code == 201, created.text
        members = api.get(f"/api/v1/segments/{key}/members").json()["items"]
        assert [m["id"] for m in members] == [pid]
    unknown = api.post(
        "/api/v1/segments", json={"key": "nope", "condition": {"stage": {"eq": "Nope"}}}
    )
    assert unknown.status_code == 400
    assert "Opportunity" in unknown.json()["message"]


def test_the_default_playbook_names_every_item_in_both_languages() -> None:
    playbook = validate_playbook(default_source()).playbook
    named: list[object] = [
        *(s.name for s in playbook.stages),
        *(c.name for c in playbook.tag_categories),
        *(v for c in playbook.tag_categories for v in c.values.values()),
        *(m.name for m in playbook.score_models),
        *(p.name for p in playbook.personas),
    ]
    assert named and all(isinstance(n, dict) and set(n) == {"zh", "en"} for n in named)
