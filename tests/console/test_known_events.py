"""The event names the segment and journey builders offer: the workspace's newest track events
(read from the log backwards, at most ``RECENT_EVENTS``) and the playbook's own."""

import pytest

from leadpond.console.pages import segment_atoms
from leadpond.console.pages.segment_atoms import known_events
from leadpond.db.engine import unit_of_work
from leadpond.playbooks.service import start_workspace
from leadpond.workspaces.service import NewWorkspace
from tests.conftest import Tracker


def test_the_newest_track_events_and_the_playbooks_are_offered(
    track: Tracker, workspace: NewWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    track.batch(
        [
            {"type": "track", "event": "Old Custom Event", "anonymousId": "a1"},
            {"type": "page", "name": "Pricing", "anonymousId": "a1"},
            {"type": "track", "event": "Webinar Joined", "anonymousId": "a1"},
            {"type": "track", "event": "Quote Asked", "anonymousId": "a2"},
        ]
    )
    with unit_of_work() as session:  # another workspace's events are not offered
        other = start_workspace(session, f"other-{workspace.workspace_id.hex[:6]}")
    playbook = {"tag_rules": [{"on": {"event": "Whitepaper Downloaded"}}]}
    with unit_of_work() as session:
        offered = known_events(session, workspace.workspace_id, playbook)
        assert {"Old Custom Event", "Webinar Joined", "Quote Asked"} <= set(offered)
        assert "Whitepaper Downloaded" in offered
        assert "Pricing" not in offered  # a page's name is not an event
        assert offered == sorted(offered)
        assert known_events(session, other.workspace_id, {}) == []
    monkeypatch.setattr(segment_atoms, "RECENT_EVENTS", 2)
    with unit_of_work() as session:  # only the newest two track events of the log
        assert known_events(session, workspace.workspace_id, {}) == [
            "Quote Asked",
            "Webinar Joined",
        ]
