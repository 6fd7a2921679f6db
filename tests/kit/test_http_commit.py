"""A write's answer starts only after its commit: a client that reads right after a 2xx finds
what it wrote, and a commit that fails cannot follow a 2xx already sent."""

from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from leadpond.app import create_app
from leadpond.channels.service import get_template
from leadpond.db.engine import read_only
from leadpond.kit.errors import NotFound
from leadpond.workspaces.service import NewWorkspace


def test_a_write_is_committed_before_its_answer_starts(workspace: NewWorkspace) -> None:
    app = create_app()
    committed_when_answered: list[bool] = []

    def stored() -> bool:
        with read_only() as session:
            try:
                get_template(session, workspace.workspace_id, "welcome")
            except NotFound:
                return False
            return True

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("method") == "POST":
                committed_when_answered.append(stored())
            await send(message)

        await app(scope, receive, answer)

    headers = {"Authorization": f"Bearer {workspace.api_key}"}
    template = {"key": "welcome", "channel": "email", "subject": "s", "body": "<p>b</p>"}
    with TestClient(watched) as client:
        created = client.post("/api/v1/templates", json=template, headers=headers)
    assert created.status_code == 201, created.text
    assert committed_when_answered == [True]
