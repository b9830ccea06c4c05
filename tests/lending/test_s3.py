"""The same reader-app session against an S3-compatible server on loopback (moto), plus presigned URLs.

moto does not check presigned signatures or expiry, so the test recomputes the AWS Signature V4
itself from the dummy credentials and checks that the expiry is short and within the loan.
"""
from __future__ import annotations

import hashlib
import hmac
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from sqlalchemy import select

from app import storage
from app.lending import ingest
from app.lending.models import Audiobook, EbookLoan
from tests.conftest import S3_KEY_ID as KEY_ID
from tests.conftest import S3_SECRET as SECRET
from tests.conftest import s3_settings
from tests.lending.conftest import DAISY_BOOK, MP3_BOOK, ingest_path
from tests.lending.test_ingest import FailingStore
from tests.lending.test_reader_api import full_reader_app_session


@pytest.fixture()
def app_config(app_config, s3_endpoint, bucket):
    return {**app_config, **s3_settings(s3_endpoint, bucket[1])}


def object_keys(bucket) -> list[str]:
    client, name = bucket
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", []))


def test_full_reader_app_session_on_s3(app, client, books, reader, now, bucket):
    assert isinstance(storage.store(app), storage.S3Store)
    assert len(object_keys(bucket)) == 6 and not Path(app.config["MEDIA_ROOT"]).exists()  # 5 tracks, 1 cover
    full_reader_app_session(client, books, reader, now)
    assert client.get(f"/library/books/{books['daisy']}/cover").data == (DAISY_BOOK / "cover.png").read_bytes()


def test_ranges_are_streamed_from_s3(books, reader):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    url = f"/api/v1/books/{books['mp3']}/tracks/1"
    data = MP3_BOOK.read_bytes()
    middle = reader.get(url, Range="bytes=1000-1999")
    assert middle.status_code == 206 and middle.data == data[1000:2000]
    assert middle.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    assert reader.get(url).data == data
    assert reader.get(url, Range=f"bytes={len(data)}-").status_code == 416


def test_failed_upload_leaves_nothing_in_the_bucket(app, sm, bucket):
    source = ingest.read_source(DAISY_BOOK)
    with app.app_context(), pytest.raises(OSError):
        ingest.ingest_committed(sm, FailingStore(storage.store(app)), source, now=datetime.now(UTC), actor="test")
    assert object_keys(bucket) == []
    with sm.begin() as s:
        assert s.scalar(select(Audiobook)) is None


def test_reingest_replaces_the_old_version_in_the_bucket(app, bucket, tmp_path):
    first = ingest_path(app, MP3_BOOK)
    before = object_keys(bucket)
    changed = tmp_path / MP3_BOOK.name
    changed.write_bytes(MP3_BOOK.read_bytes() + b"TAG" + bytes(125))  # an ID3v1 tag appended: new content
    second = ingest_path(app, changed)
    assert second.book_id == first.book_id and second.status == "updated"
    after = object_keys(bucket)
    assert len(after) == 1 and after != before


def signature_is_valid(url: str, secret: str) -> bool:
    """AWS Signature V4 for a presigned GET (query authentication, unsigned payload)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    signature = params.pop("X-Amz-Signature")
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    headers = params["X-Amz-SignedHeaders"].split(";")
    assert headers == ["host"]
    canonical = "\n".join(["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])
    key_id, day, region, service, terminal = params["X-Amz-Credential"].split("/")
    scope = f"{day}/{region}/{service}/{terminal}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature) and key_id == KEY_ID


def test_presigned_redirect_is_signed_short_lived_and_bounded_by_the_loan(app, sm, books, reader, now):
    app.config["LENDING_TRACK_DELIVERY"] = "redirect"
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")
    url = f"/api/v1/books/{books['mp3']}/tracks/1"
    resp = reader.get(url)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    params = dict(parse_qsl(urlsplit(location).query))
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and params["X-Amz-Expires"] == "300"
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(signed_at - datetime.now(UTC)) < timedelta(minutes=2)
    assert signature_is_valid(location, SECRET)
    assert not signature_is_valid(location.replace("X-Amz-Expires=300", "X-Amz-Expires=30000"), SECRET)
    assert not signature_is_valid(location, "another-secret")
    request = urllib.request.Request(location, headers={"Range": "bytes=0-99"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 206 and answer.read() == MP3_BOOK.read_bytes()[:100]

    with sm.begin() as s:  # 90 seconds of the loan left: the URL must not outlive it
        s.scalar(select(EbookLoan)).until = now + timedelta(seconds=90)
    params = dict(parse_qsl(urlsplit(reader.get(url).headers["Location"]).query))
    assert params["X-Amz-Expires"] == "90"
