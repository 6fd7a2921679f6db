"""Content files on disk, under ``LEADPOND_CONTENT_FILES_DIR``: one file per item version,
named by the workspace and a random id (never by what the uploader called it), written to a
temporary name first and renamed into place, so a reader never sees half a file.

What a file is, is decided from its first bytes as well as its declared type: a file that
says it is a PDF but does not start like one is refused.
"""

import os
import secrets
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

from leadpond.config import get_settings
from leadpond.kit.errors import InvalidInput, NotFound, PayloadTooLarge

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


def _root() -> Path:
    return Path(get_settings().content_files_dir)


def check(data: bytes, media_type: str) -> str:
    """The media type, when ``data`` is one we accept and looks like it; else an error."""
    media_type = media_type.split(";")[0].strip().lower()
    limit = get_settings().content_max_upload_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is over {limit:,} bytes", limit=limit)
    if not data:
        raise InvalidInput("the file is empty", field="file")
    if media_type not in ACCEPTED:
        raise InvalidInput(
            f"files of type {media_type or 'unknown'} are not accepted "
            f"(PDF, PNG, JPEG, MP4, PowerPoint, Word, Excel)",
            field="file",
        )
    starts = ACCEPTED[media_type]
    if media_type == "video/mp4":
        looks = data[4:8] == b"ftyp"
    else:
        looks = any(data.startswith(prefix) for prefix in starts)
        if looks and media_type.startswith(OFFICE):
            looks = zipfile.is_zipfile(BytesIO(data))
    if not looks:
        raise InvalidInput(f"the file is not a {media_type} file", field="file")
    return media_type


def save(workspace_id: uuid.UUID, data: bytes) -> str:
    """Store the bytes; returns the reference kept on the item."""
    ref = f"{workspace_id.hex}/{secrets.token_hex(16)}"
    path = _root() / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return ref


def path_of(ref: str) -> Path:
    """Where a stored file is; :class:`ContentFileMissing` if it is gone."""
    path = _root() / ref
    if not path.is_file():
        raise ContentFileMissing("the content's file is missing from the store")
    return path


def remove(ref: str | None) -> None:
    """Delete a stored file (a replaced or deleted item's); gone already is fine."""
    if ref:
        (_root() / ref).unlink(missing_ok=True)
