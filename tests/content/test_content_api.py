"""The content pool's API: items made with the seed-000 taxonomy and the playbook's stages,
filtered by stage × type × topic, edited and deleted; bad input refused with nothing changed;
files uploaded with a type and size check; the coverage matrix; on both databases."""

from fastapi.testclient import TestClient

from tests.content.conftest import Store

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def make(api: TestClient, **body: object) -> dict[str, object]:
    answer = api.post(
        "/api/v1/content",
        json={"title": "图数据库选型指南", "type": "whitepaper", "status": "published", **body},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_items_are_classified_and_filtered_by_stage_type_and_topic(api: TestClient) -> None:
    guide = make(
        api,
        key="graph-guide",
        stages=["awareness", "visit"],
        topics=["graph_database"],
        industries=["finance"],
        author="首席科学家 周远",
        body="# 为什么\n\n<script>alert(1)</script> **图**",
    )
    assert (guide["category"], guide["key"], guide["stages"]) == (
        "opinion",
        "graph-guide",
        ["awareness", "visit"],
    )
    assert str(guide["viewer_url"]).rsplit("/c/", 1)[1]
    make(api, title="实时数仓案例", type="case", stages=["opportunity"], topics=["realtime"])
    make(api, title="草稿", type="case", stages=["awareness"], status="draft")

    def keys(**params: str) -> list[str]:
        answer = api.get("/api/v1/content", params=params)
        assert answer.status_code == 200, answer.text
        return [i["title"] for i in answer.json()["items"]]

    assert keys(stage="awareness", type="whitepaper", topic="graph_database") == [
        "图数据库选型指南"
    ]
    assert keys(stage="awareness") == ["草稿", "图数据库选型指南"]
    assert keys(category="product", status="published") == ["实时数仓案例"]
    assert keys(topic="nothing") == []
    assert api.get("/api/v1/content", params={"limit": 1}).json()["total"] == 3

    changed = api.put(f"/api/v1/content/{guide['id']}", json={"topics": ["graph", "ai"]})
    assert changed.status_code == 200 and changed.json()["topics"] == ["graph", "ai"]
    assert changed.json()["stages"] == ["awareness", "visit"]  # not given: kept
    assert api.get(f"/api/v1/content/{guide['id']}").json()["title"] == "图数据库选型指南"


def test_bad_input_is_refused_and_changes_nothing(api: TestClient) -> None:
    item = make(api, key="kept")
    for body, field in (
        ({"title": "x", "type": "poem"}, "type"),
        ({"title": "x", "type": "case", "stages": ["heaven"]}, "stages"),
        ({"title": "x", "type": "video", "format": "video"}, "video_url"),
        (
            {"title": "x", "type": "video", "format": "video", "video_url": "javascript:1"},
            "video_url",
        ),
    ):
        refused = api.post("/api/v1/content", json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["code"] == "invalid_input" and refused.json()["field"] == field
    taken = api.post("/api/v1/content", json={"title": "y", "type": "case", "key": "kept"})
    assert (taken.status_code, taken.json()["code"]) == (409, "content_key_taken")
    assert api.post("/api/v1/content", json={"type": "case"}).status_code == 422
    bad = api.put(f"/api/v1/content/{item['id']}", json={"title": "new", "type": "poem"})
    assert bad.status_code == 400
    assert api.get(f"/api/v1/content/{item['id']}").json()["title"] == "图数据库选型指南"
    assert api.get("/api/v1/content").json()["total"] == 1
    missing = api.get("/api/v1/content/999999")
    assert (missing.status_code, missing.json()["code"]) == (404, "content_not_found")


def test_a_file_is_uploaded_checked_and_deleted_with_its_item(
    api: TestClient, content_store: Store
) -> None:
    item = make(api)
    url = f"/api/v1/content/{item['id']}/file"
    fake = api.post(url, files={"file": ("paper.pdf", b"MZ\x90\x00", "application/pdf")})
    assert (fake.status_code, fake.json()["field"]) == (400, "file")
    exe = api.post(url, files={"file": ("x.exe", b"MZ\x90\x00", "application/x-msdownload")})
    assert exe.status_code == 400
    big = api.post(url, files={"file": ("big.pdf", PDF + b"0" * 70_000, "application/pdf")})
    assert (big.status_code, big.json()["code"]) == (413, "payload_too_large")
    assert content_store.files() == {}
    good = api.post(url, files={"file": ("白皮书.pdf", PDF, "application/pdf")})
    assert good.status_code == 200, good.text
    assert good.json() == {
        "file_name": "白皮书.pdf",
        "file_type": "application/pdf",
        "file_size": len(PDF),
    }
    [(first, stored)] = content_store.files().items()
    assert stored == PDF and len(first.split("/")[0]) == 32  # <workspace>/<random id>
    again = api.post(url, files={"file": ("v2.pdf", PDF + b"%v2", "application/pdf")})
    assert again.status_code == 200
    assert list(content_store.files().values()) == [PDF + b"%v2"]  # the old version is gone
    assert api.delete(f"/api/v1/content/{item['id']}").status_code == 204
    assert content_store.files() == {}
    assert api.get(f"/api/v1/content/{item['id']}").status_code == 404


def test_the_coverage_matrix_shows_where_content_is_missing(api: TestClient) -> None:
    make(api, stages=["awareness", "engaged"])
    make(api, title="b", type="whitepaper", stages=["awareness"])
    make(api, title="c", type="case", stages=["awareness"], status="draft")  # drafts don't count
    coverage = api.get("/api/v1/content/coverage").json()
    assert coverage["stages"][:3] == ["awareness", "visit", "registered"]
    assert "company_intro" in coverage["types"] and "feature_guide" in coverage["types"]
    cells = {(c["stage"], c["type"]): c["items"] for c in coverage["cells"]}
    assert cells[("awareness", "whitepaper")] == 2 and cells[("engaged", "whitepaper")] == 1
    assert cells[("awareness", "case")] == 0
    assert coverage["missing"] == len(cells) - 2


def test_the_taxonomy_is_the_workspaces_to_edit(api: TestClient) -> None:
    taxonomy = api.get("/api/v1/content/taxonomy").json()
    names = [c["name_zh"] for c in taxonomy["categories"]]
    assert names == ["品牌教育", "观点", "产品", "商务", "服务"]
    make(api, type="whitepaper")
    opinion = taxonomy["categories"][1]
    opinion["types"].append({"key": "podcast", "name_zh": "播客", "name_en": "Podcast"})
    assert api.put("/api/v1/content/taxonomy", json=taxonomy).status_code == 200
    make(api, title="播客一期", type="podcast")
    opinion["types"] = [t for t in opinion["types"] if t["key"] != "whitepaper"]
    refused = api.put("/api/v1/content/taxonomy", json=taxonomy)
    assert refused.status_code == 400 and "whitepaper" in refused.json()["message"]


def test_the_links_api_makes_links_to_a_content_item(api: TestClient) -> None:
    guide = make(api)
    made = api.post(
        "/api/v1/links",
        json={"content_id": guide["id"], "channel": "wechat-group-3", "campaign": "graph"},
    )
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["token"] == link["code"] and link["url"].endswith(f"/l/{link['token']}")
    assert link["qr_png_url"].endswith(f"/links/{link['token']}/qr.png")
    viewer = str(guide["viewer_url"])
    assert link["target"].startswith(viewer.split("?")[0]) and "ch=wechat-group-3" in link["target"]
    assert (link["channel"], link["campaign"], link["content"]) == (
        "wechat-group-3",
        "graph",
        guide["key"],
    )
    groups = api.post(
        "/api/v1/links:bulk", json={"content_id": guide["id"], "channels": ["g1", "g2"]}
    )
    assert [x["channel"] for x in groups.json()["items"]] == ["g1", "g2"]
    for bad in (
        {"channel": "g1"},  # neither a URL nor an item
        {"channel": "g1", "content_id": guide["id"], "url": "https://example.cn/"},  # both
    ):
        assert api.post("/api/v1/links", json=bad).status_code == 422
    missing = api.post("/api/v1/links", json={"content_id": 999_999_999, "channel": "g1"})
    assert missing.status_code == 404
    assert len(api.get("/api/v1/links").json()["items"]) == 3
