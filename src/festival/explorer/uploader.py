"""Putting a lineup file under the stack's upload prefix: the explorer's one S3 call.

It needs the uploader policy's s3:PutObject and nothing else (browsing needs the reader
policy only); tests/unit/test_template.py checks both.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import IO, Any

from lineup_ingest import schema


class UploadNameError(ValueError):
    """A file name the upload cannot use (the message says why)."""


@dataclass(frozen=True)
class Uploaded:
    key: str
    etag: str


def upload_name(filename: str) -> str:
    """The object's name under the prefix: the file's own name, its folders dropped.

    Only .csv files are loaded; the suffix is written in lower case so that the stack's
    notification (a case-sensitive suffix filter) sees it.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in name):
        raise UploadNameError("the file name holds control characters: rename the file")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or suffix.lower() != "csv":
        raise UploadNameError(f"{name or 'the file'} is not a .csv file: only CSV files load")
    return f"{stem}.csv"


@dataclass
class S3Uploader:
    s3: Any  # a boto3 S3 client
    bucket: str
    prefix: str

    def key_for(self, filename: str) -> str:
        key = self.prefix + upload_name(filename)
        if len(key.encode("utf-8")) > schema.S3_KEY_MAX_BYTES:
            raise UploadNameError(
                f"the file name is too long for S3 (at most {schema.S3_KEY_MAX_BYTES} bytes"
                " with the prefix): rename the file"
            )
        return key

    def put(self, key: str, body: IO[bytes]) -> Uploaded:
        """Upload the file as one object; its ETag names the load that follows."""
        response = self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="text/csv"
        )
        return Uploaded(key, str(response["ETag"]).strip('"'))
