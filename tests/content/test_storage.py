"""The content stores themselves, the directory and a real S3-compatible server alike: a file
larger than a chunk goes in and comes out whole, a missing file is a 404 for the reader, and
deleting twice is fine."""

import uuid
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadpond.content import storage
from tests.content.conftest import Store
from tests.content.test_content_api import PDF, make

WORKSPACE = uuid.UUID(int=7)


def test_a_file_larger_than_a_chunk_round_trips(content_store: Store) -> None:
    data = PDF + bytes(range(256)) * 1024  # 256 KiB: several chunks each way
    ref = storage.save(WORKSPACE, BytesIO(data), "application/pdf")
    opened = storage.open_file(ref)
    chunks = list(opened.chunks)
    assert opened.size == len(data) and b"".join(chunks) == data and len(chunks) > 1
    assert content_store.files() == {ref: data}
    storage.remove(ref)
    storage.remove(ref)  # gone already is fine
    assert content_store.files() == {}
    with pytest.raises(storage.ContentFileMissing):
        storage.open_file(ref)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=0, max_size=3 * storage.CHUNK_BYTES // 2))
def test_what_is_stored_is_what_is_read_back(content_store: Store, data: bytes) -> None:
    ref = storage.save(WORKSPACE, BytesIO(data), "application/octet-stream")
    opened = storage.open_file(ref)
    assert (opened.size, b"".join(opened.chunks)) == (len(data), data)
    storage.remove(ref)


def test_a_file_gone_from_the_store_is_a_404_for_the_reader(
    api: TestClient, content_store: Store
) -> None:
    paper = make(api, format="file")
    upload = f"/api/v1/content/{paper['id']}/file"
    assert api.post(upload, files={"file": ("p.pdf", PDF, "application/pdf")}).status_code == 200
    [ref] = content_store.files()
    storage.remove(ref)
    path = str(paper["viewer_url"]).split("://", 1)[-1].split("/", 1)[1]
    gone = api.get(f"/{path}/download")
    assert (gone.status_code, gone.json()["code"]) == (404, "content_file_missing")
