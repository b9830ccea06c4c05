"""Uploaded documents (the signed consent): checked by size and by content, then kept in the media store.

The type is read from the file's first bytes, not from its name or the browser's claim: a PDF,
JPEG or PNG is accepted, anything else is refused. Nothing is stored until the whole form is
valid, and a stored file is deleted again if the database write fails (see ``StoredUploads``).
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from app.storage import MediaStore

SIGNATURES = ((b"%PDF-", "application/pdf", "pdf"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
              (b"\x89PNG\r\n\x1a\n", "image/png", "png"))
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class InvalidDocument(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "document_empty" | "document_too_large" | "document_type"


@dataclass(frozen=True)
class Upload:
    """A checked upload, still only in memory."""

    filename: str
    content_type: str
    extension: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def safe_filename(name: str) -> str:
    base = re.sub(r"[^\w.\- ]+", "_", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return base[:150] or "document"


def check_upload(filename: str, data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Upload:
    if not data:
        raise InvalidDocument("document_empty")
    if len(data) > max_bytes:
        raise InvalidDocument("document_too_large")
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return Upload(safe_filename(filename), content_type, extension, data)
    raise InvalidDocument("document_type")


def read_limited(stream: object, max_bytes: int) -> bytes:
    """Read at most ``max_bytes + 1`` bytes, so an oversized upload is known without reading it all."""
    return stream.read(max_bytes + 1)  # type: ignore[attr-defined]


@dataclass
class StoredUploads:
    """Keys written to the media store during one request, to delete if the transaction fails."""

    store: MediaStore
    keys: list[str] = field(default_factory=list)

    def put(self, application_id: int, upload: Upload) -> str:
        key = f"institutions/applications/{application_id}/{uuid.uuid4().hex}.{upload.extension}"
        self.store.put_bytes(key, upload.data, upload.content_type)
        self.keys.append(key)
        return key

    def discard(self) -> None:
        for key in self.keys:
            self.store.delete(key)
        self.keys.clear()

    @contextmanager
    def kept_only_on_success(self) -> Iterator[StoredUploads]:
        """Wrap the database work (flush and commit): on any failure the stored files go too."""
        try:
            yield self
        except BaseException:
            self.discard()
            raise
