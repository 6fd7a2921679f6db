"""The content tests' files go to a directory of their own; the file tests run against the
directory and against a real S3-compatible server (moto's, on a local port)."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from leadpond.config import get_settings
from leadpond.content.s3_store import S3Store


@pytest.fixture(autouse=True)
def content_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``LEADPOND_CONTENT_FILES_DIR`` in the test's temp dir, 64 KiB uploads at most."""
    folder = tmp_path / "content-files"
    monkeypatch.setenv("LEADPOND_CONTENT_FILES_DIR", str(folder))
    monkeypatch.setenv("LEADPOND_CONTENT_MAX_UPLOAD_BYTES", str(64 * 1024))
    get_settings.cache_clear()
    yield folder
    monkeypatch.undo()
    get_settings.cache_clear()


class Store:
    """The store a test writes to, and what it holds (reference → bytes)."""

    def __init__(self, kind: str, folder: Path, bucket: str = "", prefix: str = "") -> None:
        self.kind, self.folder, self.bucket, self.prefix = kind, folder, bucket, prefix

    def files(self) -> dict[str, bytes]:
        """Every stored file by its reference."""
        if self.kind == "disk":
            found = (
                [p for p in self.folder.rglob("*") if p.is_file()] if self.folder.exists() else []
            )
            return {p.relative_to(self.folder).as_posix(): p.read_bytes() for p in found}
        client = S3Store.from_settings(get_settings()).client
        listed = client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {
            o["Key"].removeprefix(self.prefix): client.get_object(Bucket=self.bucket, Key=o["Key"])[
                "Body"
            ].read()
            for o in listed
        }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server on a free local port (moto's), for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["disk", "s3"])
def content_store(
    request: pytest.FixtureRequest, content_files: Path, monkeypatch: pytest.MonkeyPatch
) -> Store:
    """Each file test runs against the directory and against an S3 bucket of its own."""
    if request.param == "disk":
        return Store("disk", content_files)
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"lp-{uuid.uuid4().hex[:12]}"
    for name, value in {
        "BUCKET": bucket,
        "ENDPOINT_URL": endpoint,
        "REGION": "us-east-1",
        "ACCESS_KEY_ID": "leadpond",
        "SECRET_ACCESS_KEY": "leadpond-secret",
        "PREFIX": "content/",
    }.items():
        monkeypatch.setenv(f"LEADPOND_CONTENT_S3_{name}", value)
    get_settings.cache_clear()
    S3Store.from_settings(get_settings()).client.create_bucket(Bucket=bucket)
    return Store("s3", content_files, bucket, "content/")
