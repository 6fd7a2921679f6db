"""Content files: on disk under ``LEADPOND_CONTENT_FILES_DIR``, or in an S3-compatible bucket
when ``LEADPOND_CONTENT_S3_BUCKET`` is set (``content/s3_store.py``). One file per item
version, named by the workspace and a random id (never by what the uploader called it).
Uploads are streamed into the store and downloads streamed out of it, in chunks, so a large
file never sits in memory whole.

What a file is, is decided from its first bytes as well as its declared type: a file that
says it is a PDF but does not start like one is refused.
"""

import os
import secrets
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from leadpond.config import get_settings
from leadpond.kit.errors import InvalidInput, NotFound, PayloadTooLarge

CHUNK_BYTES = 64 * 1024
OFFICE = "application/vnd.openxmlformats-officedocument"
# Accepted media types and how their files start.
ACCEPTED: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "video/mp4": (),  # checked by its ftyp box
    f"{OFFICE}.presentationml.presentation": (b"PK\x03\x04",),
    f"{OFFICE}.wordprocessingml.document": (b"PK\x03\x04",),
    f"{OFFICE}.spreadsheetml.sheet": (b"PK\x03\x04",),
}


class ContentFileMissing(NotFound):
    code = "content_file_missing"


@dataclass(frozen=True)
class StoredFile:
    """A stored file opened for reading: its size and its bytes, chunk by chunk (the
    iterator closes the file, or the store's response, when it ends)."""

    size: int
    chunks: Iterator[bytes]


class ContentStore(Protocol):
    """Where content files live."""

    def put(self, ref: str, stream: IO[bytes], media_type: str) -> None:
        """Store the stream's bytes under ``ref``, all or nothing."""

    def open(self, ref: str) -> StoredFile:
        """The file under ``ref``; :class:`ContentFileMissing` if there is none."""

    def delete(self, ref: str) -> None:
        """Remove the file under ``ref``; gone already is fine."""


class DiskStore:
    """Files under a directory, written to a temporary name then renamed into place, so a
    reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, ref: str, stream: IO[bytes], media_type: str) -> None:
        path = self.root / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        with temporary.open("wb") as out:
            shutil.copyfileobj(stream, out, CHUNK_BYTES)
        os.replace(temporary, path)

    def open(self, ref: str) -> StoredFile:
        try:
            handle = (self.root / ref).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ContentFileMissing("the content's file is missing from the store") from None
        return StoredFile(os.fstat(handle.fileno()).st_size, _read_through(handle))

    def delete(self, ref: str) -> None:
        (self.root / ref).unlink(missing_ok=True)


def _read_through(handle: IO[bytes]) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def store() -> ContentStore:
    """The configured store: the S3 bucket when one is set, else the directory."""
    settings = get_settings()
    if settings.content_s3_bucket:
        from leadpond.content.s3_store import S3Store  # boto3 loads only when it is used

        return S3Store.from_settings(settings)
    return DiskStore(Path(settings.content_files_dir))


def check(stream: IO[bytes], size: int, media_type: str) -> str:
    """The media type, when the file is one we accept and looks like it; else an error.
    The stream is left at its start."""
    media_type = media_type.split(";")[0].strip().lower()
    limit = get_settings().content_max_upload_bytes
    if size > limit:
        raise PayloadTooLarge(f"the file is over {limit:,} bytes", limit=limit)
    if size <= 0:
        raise InvalidInput("the file is empty", field="file")
    if media_type not in ACCEPTED:
        raise InvalidInput(
            f"files of type {media_type or 'unknown'} are not accepted "
            f"(PDF, PNG, JPEG, MP4, PowerPoint, Word, Excel)",
            field="file",
        )
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    if media_type == "video/mp4":
        looks = head[4:8] == b"ftyp"
    else:
        looks = any(head.startswith(prefix) for prefix in ACCEPTED[media_type])
        if looks and media_type.startswith(OFFICE):
            looks = zipfile.is_zipfile(stream)
            stream.seek(0)
    if not looks:
        raise InvalidInput(f"the file is not a {media_type} file", field="file")
    return media_type


def size_of(stream: IO[bytes]) -> int:
    """How many bytes a seekable stream holds (it is left at its start)."""
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    return size


def save(workspace_id: uuid.UUID, stream: IO[bytes], media_type: str) -> str:
    """Store the stream's bytes; returns the reference kept on the item."""
    ref = f"{workspace_id.hex}/{secrets.token_hex(16)}"
    store().put(ref, stream, media_type)
    return ref


def open_file(ref: str) -> StoredFile:
    """A stored file, to stream out; :class:`ContentFileMissing` if it is gone."""
    return store().open(ref)


def remove(ref: str | None) -> None:
    """Delete a stored file (a replaced or deleted item's); gone already is fine."""
    if ref:
        store().delete(ref)
