"""Followers' unionid, on both databases: a follow (real signatures, safe mode) queues a
``user/info`` call that runs after the callback's transaction, through the account's cached
token (a stale one fetched again), and joins the unionid to the follower — so what the same
person does elsewhere under the unionid (a mini program, another app) lands on them. A scan by
a follower who has none asks again; one who has it is not asked. WeChat's refusals end the job
with the refusal kept; a busy WeChat fails it to be tried again."""

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadpond.acquisition.wechat_unionid import FETCH_UNIONID
from leadpond.db.engine import read_only
from leadpond.jobs.models import FINISHED, Job
from leadpond.jobs.runner import JobRunner
from leadpond.pipeline import worker
from leadpond.workspaces.service import NewWorkspace
from tests.acquisition.test_wechat_followers import account, event_xml, fake, follower
from tests.channels.fakes import wechat
from tests.channels.fakes.wechat import FakeWeChat
from tests.channels.test_wechat_callback import WeChat
from tests.conftest import Tracker

__all__ = ["account", "fake"]  # the fixtures, shared with the followers' tests


def jobs(workspace: NewWorkspace) -> list[Job]:
    with read_only() as session:
        found = session.scalars(
            select(Job)
            .where(Job.workspace_id == workspace.workspace_id, Job.kind == FETCH_UNIONID)
            .order_by(Job.id)
        )
        return list(found)


def run_jobs(workspace: NewWorkspace) -> int:
    """Run the pending jobs; how many of this workspace's fetches ended (other tests' callbacks
    may have left fetches of their own workspaces in the shared job table)."""
    ended = {j.id for j in jobs(workspace) if j.state in FINISHED}
    JobRunner().run_pending()
    return len({j.id for j in jobs(workspace) if j.state in FINISHED} - ended)


def unionids(person: dict[str, Any]) -> list[str]:
    return [i["value"] for i in person["identifiers"] if i["type"] == "wechat_unionid"]


def test_a_new_followers_unionid_is_fetched_after_the_callback_and_joins_them(
    api: TestClient, account: WeChat, fake: FakeWeChat, workspace: NewWorkspace, track: Tracker
) -> None:
    assert api.post("/api/v1/wechat/qrcodes", json={"channel": "booth"}).status_code == 201
    fake.followers.add("o-new-1")
    fake.unionids["o-new-1"] = "u-new-1"
    follow = event_xml("o-new-1", "subscribe", "qrscene_booth")
    for _ in range(2):  # WeChat posts again when slow: one job all the same
        assert account.post_safe(follow).text == "success"
    [queued] = jobs(workspace)
    assert queued.state == "queued" and queued.payload == {
        "app_id": wechat.APP_ID,
        "openid": "o-new-1",
    }
    assert fake.info_asked == []  # nobody called WeChat inside the callback
    worker.drain()
    assert unionids(follower(api, "o-new-1")) == []

    fake.expire_tokens()  # the cached token went stale meanwhile: fetched again, once
    assert run_jobs(workspace) == 1
    assert fake.token_fetches == 2
    [done] = jobs(workspace)
    assert (done.state, done.result) == ("succeeded", {"unionid": "u-new-1", "recorded": True})
    assert fake.info_asked == ["o-new-1"]
    worker.drain()
    person = follower(api, "o-new-1")
    assert unionids(person) == ["u-new-1"]

    # The same person in a mini program: another openid, the same unionid — one person.
    track.track(
        "Mini Program Opened",
        anonymousId="mp-openid-1",
        context={"externalIds": [{"id": "u-new-1", "type": "wechat_unionid", "encoding": "none"}]},
    )
    assert follower(api, "mp-openid-1")["id"] == follower(api, "o-new-1")["id"]


def test_a_scan_asks_again_only_for_a_follower_without_one(
    api: TestClient, account: WeChat, fake: FakeWeChat, workspace: NewWorkspace
) -> None:
    now = int(time.time())
    account.post_plain(event_xml("o-follower-2", "subscribe", None, now))
    assert run_jobs(workspace) == 1  # not bound to the Open Platform yet: no unionid
    assert jobs(workspace)[0].result == {"unionid": None, "subscribed": True}
    worker.drain()
    assert unionids(follower(api, "o-follower-2")) == []

    fake.unionids["o-follower-2"] = "u-follower-2"  # the account is bound now
    account.post_plain(event_xml("o-follower-2", "SCAN", "poster", now + 1))
    assert run_jobs(workspace) == 1
    worker.drain()
    assert unionids(follower(api, "o-follower-2")) == ["u-follower-2"]

    account.post_plain(event_xml("o-follower-2", "SCAN", "poster", now + 2))
    assert len(jobs(workspace)) == 2 and fake.info_asked == ["o-follower-2"] * 2


def test_refusals_are_kept_and_a_busy_wechat_is_tried_again(
    api: TestClient, account: WeChat, fake: FakeWeChat, workspace: NewWorkspace
) -> None:
    now = int(time.time())
    fake.answers.append(48001)  # an unverified account may not call user/info
    account.post_plain(event_xml("o-follower-1", "subscribe", None, now))
    fake.answers.append(-1)  # system busy
    account.post_plain(event_xml("o-gone", "subscribe", None, now))
    JobRunner().run_pending()
    refused, busy = jobs(workspace)
    assert refused.state == "succeeded"
    assert refused.result is not None and "48001" in refused.result["refused"]
    assert busy.state == "queued" and busy.attempts == 1 and "-1" in str(busy.last_error)
    worker.drain()
    assert unionids(follower(api, "o-follower-1")) == []
