"""Link tokens: exactly itsdangerous's tokens (read by its stock loader), bound to a purpose
and a workspace, and a signer that pickles (the email sender's process signs click links)."""

import pickle
import uuid
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from leadpond.db.engine import read_only, unit_of_work
from leadpond.workspaces import signing
from leadpond.workspaces.service import NewWorkspace
from leadpond.workspaces.signing import BadToken, signer, unsign

DATA = st.dictionaries(
    st.sampled_from(["m", "u", "p", "c"]),
    st.one_of(st.integers(), st.text(alphabet=st.characters(codec="utf-8"), max_size=40)),
    max_size=4,
)


@settings(suppress_health_check=[HealthCheck.too_slow])  # a busy CI machine
@given(data=DATA)
def test_a_token_is_the_one_itsdangerous_makes_and_reads(data: dict[str, object]) -> None:
    secret, now = "s" * 64, 1_800_000_000
    reference = URLSafeTimedSerializer(secret, salt="click")
    with (
        mock.patch.object(signing, "_secret", lambda _session, _ws: secret),
        mock.patch.object(signing.time, "time", lambda: now),
        mock.patch.object(TimestampSigner, "get_timestamp", lambda _self: now),
    ):
        sign = signer(None, uuid.uuid4(), "click")  # type: ignore[arg-type]
        body = pickle.loads(pickle.dumps(sign))(data).partition(".")[2]
        expected = reference.dumps(data)
    if not expected.startswith("."):  # the stock one zlib-compresses when that is shorter
        assert body == expected
    assert reference.loads(body) == data


def test_a_token_opens_only_for_its_purpose_and_workspace(workspace: NewWorkspace) -> None:
    with unit_of_work() as session:
        token = signer(session, workspace.workspace_id, "click")({"m": 1, "u": "https://a.cn/"})
    with read_only() as session:
        assert unsign(session, token, "click") == (
            workspace.workspace_id,
            {"m": 1, "u": "https://a.cn/"},
        )
        for purpose, forged in (
            ("open", token),
            ("click", uuid.uuid4().hex + token[32:]),
            ("click", token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        ):
            try:
                unsign(session, forged, purpose)
            except BadToken:
                continue
            raise AssertionError(f"{purpose} opened {forged}")
