"""Content files in an S3-compatible bucket (AWS S3, MinIO, Ceph, Aliyun OSS, Tencent COS…),
configured by ``LEADPOND_CONTENT_S3_*``. Uploads go up with boto3's managed transfer
(multipart past 8 MB, read from the stream chunk by chunk); downloads stream the object's body
through leadpond, so the store may sit on a private network and every download is recorded.
"""

from collections.abc import Iterator
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from leadpond.config import Settings
from leadpond.content.storage import CHUNK_BYTES, ContentFileMissing, StoredFile

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

MISSING = {"NoSuchKey", "404", "NotFound"}


@lru_cache(maxsize=8)
def _client(
    endpoint_url: str | None, region: str | None, key_id: str | None, secret: str | None
) -> "S3Client":
    # A custom endpoint (MinIO, Ceph…) usually has no per-bucket host names: path style.
    style: Literal["path", "auto"] = "path" if endpoint_url else "auto"
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=key_id or None,
        aws_secret_access_key=secret or None,
        config=Config(s3={"addressing_style": style}, retries={"mode": "standard"}),
    )


class S3Store:
    """Objects named ``<prefix><workspace>/<random id>`` in one bucket."""

    def __init__(self, client: "S3Client", bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Store":
        """The store ``LEADPOND_CONTENT_S3_*`` describes."""
        client = _client(
            settings.content_s3_endpoint_url,
            settings.content_s3_region,
            settings.content_s3_access_key_id,
            settings.content_s3_secret_access_key,
        )
        return cls(client, settings.content_s3_bucket, settings.content_s3_prefix)

    def put(self, ref: str, stream: IO[bytes], media_type: str) -> None:
        self.client.upload_fileobj(
            stream, self.bucket, self.prefix + ref, ExtraArgs={"ContentType": media_type}
        )

    def open(self, ref: str) -> StoredFile:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + ref)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING:
                raise ContentFileMissing("the content's file is missing from the store") from None
            raise
        return StoredFile(answer["ContentLength"], _read_through(answer))

    def delete(self, ref: str) -> None:
        # S3 answers a delete of a missing key with success, as "gone already is fine" wants.
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + ref)


def _read_through(answer: "GetObjectOutputTypeDef") -> Iterator[bytes]:
    body = answer["Body"]
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()
