"""The media store: one interface over a local directory (default) and an S3-compatible bucket.

Keys are relative paths like ``audiobooks/42/track-01.mp3``. Writes are atomic: a local file is
written under a temporary name and renamed; an S3 object appears whole or not at all.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from flask import Flask, current_app


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


class MediaStore(Protocol):
    def put_file(self, key: str, source: Path, content_type: str = "application/octet-stream") -> StoredObject: ...
    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject: ...
    def get_bytes(self, key: str) -> bytes: ...
    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]: ...
    def size(self, key: str) -> int | None: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def presigned_url(self, key: str, seconds: int) -> str | None: ...
    def local_path(self, key: str) -> Path | None: ...


def _safe_key(key: str) -> str:
    parts = [p for p in key.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise ValueError(f"bad media key {key!r}")
    return "/".join(parts)


class LocalStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def _write(self, key: str, writer: Any) -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                writer(out)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredObject(_safe_key(key), path.stat().st_size)

    def put_file(self, key: str, source: Path, content_type: str = "application/octet-stream") -> StoredObject:
        def copy(out: IO[bytes]) -> None:
            with open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)

        return self._write(key, copy)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        return self._write(key, lambda out: out.write(data))

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Yield bytes start..end inclusive in 256 KiB chunks."""
        with open(self._path(key), "rb") as f:
            f.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = f.read(min(262144, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)

    def presigned_url(self, key: str, seconds: int) -> str | None:
        return None  # local files are streamed by the app (with Range support)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


class S3Store:
    def __init__(self, config: dict[str, Any]) -> None:
        import boto3

        self.bucket = config["S3_BUCKET"]
        self.client = boto3.client(
            "s3", endpoint_url=config.get("S3_ENDPOINT_URL") or None, region_name=config.get("S3_REGION"),
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None)

    def put_file(self, key: str, source: Path, content_type: str = "application/octet-stream") -> StoredObject:
        key = _safe_key(key)
        self.client.upload_file(str(source), self.bucket, key, ExtraArgs={"ContentType": content_type})
        return StoredObject(key, source.stat().st_size)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        key = _safe_key(key)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return StoredObject(key, len(data))

    def get_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=_safe_key(key))["Body"].read()

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        obj = self.client.get_object(Bucket=self.bucket, Key=_safe_key(key), Range=f"bytes={start}-{end}")
        yield from obj["Body"].iter_chunks(262144)

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=_safe_key(key))["ContentLength"])
        except ClientError:
            return None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_safe_key(key))

    def delete_prefix(self, prefix: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=_safe_key(prefix) + "/"):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    def presigned_url(self, key: str, seconds: int) -> str | None:
        return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": _safe_key(key)},
                                                  ExpiresIn=seconds)

    def local_path(self, key: str) -> Path | None:
        return None


def make_store(config: dict[str, Any]) -> MediaStore:
    if config.get("MEDIA_BACKEND") == "s3":
        return S3Store(config)
    return LocalStore(config["MEDIA_ROOT"])


def init_app(app: Flask) -> None:
    app.extensions["kuulo.media"] = make_store(app.config)


def store(app: Flask | None = None) -> MediaStore:
    return (app or current_app).extensions["kuulo.media"]
