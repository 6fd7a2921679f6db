"""``/api/v1/forms``: make, read, change, list and delete forms; what cannot be saved is a
422 naming the field, and nothing is saved; both databases."""

from typing import Any

from fastapi.testclient import TestClient

from tests.engage.forms_helpers import TRIAL, make_form


def _refused(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post("/api/v1/forms", json=body)
    assert answer.status_code == 422, answer.text
    return dict(answer.json())


def test_a_form_is_made_read_changed_and_deleted(api: TestClient) -> None:
    made = make_form(api)
    assert made["key"] == "trial" and made["status"] == "published"
    assert made["url"].endswith("/f/trial?ws=" + made["url"].rsplit("=", 1)[1])
    assert "embed.js" in made["embed_script"] and made["embed_script"].startswith("<script")
    assert [f["key"] for f in made["fields"]][:3] == ["name", "mobile", "email"]
    again = api.post("/api/v1/forms", json=TRIAL)
    assert (again.status_code, again.json()["code"]) == (409, "form_exists")
    make_form(api, key="demo", name_zh="预约演示")
    listed = api.get("/api/v1/forms", params={"limit": 1}).json()
    assert listed["total"] == 2 and [f["key"] for f in listed["items"]] == ["demo"]
    body = {k: v for k, v in TRIAL.items() if k != "key"}
    changed = api.put(
        "/api/v1/forms/trial", json={**body, "name_zh": "免费试用", "progressive_max": 3}
    )
    assert changed.status_code == 200, changed.text
    read = api.get("/api/v1/forms/trial").json()
    assert (read["name_zh"], read["progressive_max"]) == ("免费试用", 3)
    assert api.delete("/api/v1/forms/trial").status_code == 204
    gone = api.get("/api/v1/forms/trial")
    assert (gone.status_code, gone.json()["code"]) == (404, "form_not_found")
    assert api.get("/api/v1/forms/trial/submissions").status_code == 404


def test_what_cannot_be_saved_names_its_field(api: TestClient) -> None:
    fields = TRIAL["fields"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"redirect_url": "javascript:alert(1)"}, "redirect_url"),
        ({"redirect_url": "//evil.cn/x"}, "redirect_url"),
        ({"fields": [*fields, {"key": "name", "label_zh": "再来"}]}, "fields[8].key"),
        ({"fields": [{"key": "p", "type": "select", "label_zh": "产品"}]}, "fields[0].options"),
        (
            {
                "fields": [
                    {"key": "m2", "type": "text", "label_zh": "电话", "maps_to": "phone"},
                    {"key": "m", "type": "mobile", "label_zh": "手机"},
                ]
            },
            "fields[1].maps_to",
        ),
        ({"fields": [{"key": "x", "type": "text"}]}, "fields[0].label_zh"),
        (
            {"consents": [{"key": "name", "channel": "sms", "wording_zh": "同意"}]},
            "consents[0].key",
        ),
    ]
    for change, field in cases:
        body = _refused(api, {**TRIAL, **change})
        assert (body["code"], body["field"]) == ("invalid_form", field), (change, body)
    typed = _refused(api, {**TRIAL, "key": "Bad Key"})
    assert typed["code"] == "invalid_request" and "key" in typed["message"]
    wrong_type = _refused(api, {**TRIAL, "fields": [{"key": "a", "type": "photo"}]})
    assert "fields.0.type" in wrong_type["message"]
    assert api.get("/api/v1/forms").json()["total"] == 0  # nothing was saved
    body = {k: v for k, v in TRIAL.items() if k != "key"}
    make_form(api)
    bad = api.put("/api/v1/forms/trial", json={**body, "redirect_url": "ftp://x.cn/"})
    assert (bad.status_code, bad.json()["field"]) == (422, "redirect_url")
    assert api.get("/api/v1/forms/trial").json()["redirect_url"] is None
