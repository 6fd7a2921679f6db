"""What the console's template screens read and change, over the REST API: a template's
messages, deleting a template (never one a message was written with), and a preview whose
failure names the part and the line."""

from fastapi.testclient import TestClient

from leadpond.channels import service
from leadpond.channels.schemas import TemplateBody
from leadpond.db.engine import read_only
from leadpond.kit.errors import InvalidInput
from leadpond.workspaces.service import NewWorkspace
from tests.channels.conftest import person, send
from tests.channels.conftest import template as save_template
from tests.conftest import Tracker


def test_a_templates_messages_are_listed_newest_first(api: TestClient, track: Tracker) -> None:
    save_template(api, "welcome")
    save_template(api, "other")
    first = person(track, api, "u1", name="张伟", email="zhang.wei@xinghuan.cn")
    second = person(track, api, "u2", email="li.na@xinghuan.cn")
    ids = [send(api, first, "welcome"), send(api, second, "welcome"), send(api, first, "other")]
    listed = api.get("/api/v1/templates/welcome/messages", params={"limit": 1}).json()
    assert listed["total"] == 2
    assert [(m["id"], m["person_id"], m["template"]) for m in listed["items"]] == [
        (ids[1], second, "welcome")
    ]
    assert api.get("/api/v1/templates/nope/messages").status_code == 404


def test_only_a_template_no_message_was_written_with_is_deleted(
    api: TestClient, track: Tracker
) -> None:
    save_template(api, "used")
    save_template(api, "draft")
    send(api, person(track, api, "u1", email="zhang.wei@xinghuan.cn"), "used")
    refused = api.delete("/api/v1/templates/used")
    assert refused.status_code == 409
    assert refused.json()["code"] == "template_in_use"
    assert refused.json()["messages"] == 1
    assert api.get("/api/v1/templates/used").status_code == 200
    assert api.delete("/api/v1/templates/draft").status_code == 204
    assert api.get("/api/v1/templates/draft").status_code == 404
    assert api.delete("/api/v1/templates/draft").status_code == 404


def test_a_preview_that_fails_names_the_part_and_its_line(
    api: TestClient, track: Tracker, workspace: NewWorkspace
) -> None:
    someone = person(track, api, "u1", name="张伟", email="zhang.wei@xinghuan.cn")
    save_template(api, "broken", subject="Hi {{ 1 // 0 }}", body="<p>ok</p>\n<p>{{ [] | first }}")
    answer = api.post("/api/v1/templates/broken:preview", json={"person_id": someone})
    assert answer.status_code == 400
    assert (answer.json()["field"], answer.json()["line"]) == ("subject", 1)
    draft = TemplateBody(
        channel="email", subject="Hi", body="<p>{{ person.traits.name }}</p>\n{{ 1 // 0 }}"
    )
    with read_only() as session:
        try:
            service.preview_draft(session, workspace.workspace_id, draft, someone)
        except InvalidInput as exc:
            assert (exc.details["field"], exc.details["line"]) == ("body", 2)
            assert exc.message.startswith("body: line 2: the template fails for this person")
        else:
            raise AssertionError("a division by zero rendered")
        shown = service.preview_draft(
            session,
            workspace.workspace_id,
            draft.model_copy(update={"body": "<p>{{ person.traits.name }}</p>"}),
            someone,
        )
    assert shown.body == "<p>张伟</p>"
