"""Cover images: taken from the audio (ID3 APIC, MP4 covr) or a cover file in the book's folder, stored
beside the tracks, served at /library/books/{id}/cover and announced in OPDS (images) and the Readium
manifest (resources, rel cover)."""
from __future__ import annotations

import shutil
import struct
import zlib

from mutagen.id3 import APIC, ID3
from mutagen.mp4 import MP4, MP4Cover

from app import db, storage
from app.lending.models import Audiobook
from tests.lending.conftest import DAISY_BOOK, M4B_BOOK, MP3_BOOK, ingest_path
from tests.lending.test_opds import assert_publication


def png(width: int = 2, height: int = 3) -> bytes:
    """A real PNG image (what a scanner or a publisher's file would give), built byte by byte."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def mp3_with_art(tmp_path, *pictures):
    path = tmp_path / "with-cover.mp3"
    shutil.copy(MP3_BOOK, path)
    tags = ID3(path)
    for kind, mime, data in pictures:
        tags.add(APIC(encoding=3, mime=mime, type=kind, desc=f"picture {kind}", data=data))
    tags.save(path)
    return path


def stored_book(app, book_id):
    with db.get_sessionmaker(app)() as session:
        return session.get(Audiobook, book_id)


def test_embedded_front_cover_is_stored_served_and_announced(app, client, tmp_path, reader):
    image = png()
    source = mp3_with_art(tmp_path, (4, "image/png", png(5, 5)), (3, "image/png", image))  # back, front
    book_id = ingest_path(app, source).book_id
    book = stored_book(app, book_id)
    assert book.cover_type == "image/png" and book.cover_key.startswith(book.storage_prefix + "/cover")
    assert storage.store(app).get_bytes(book.cover_key) == image  # the front cover, not the first picture

    resp = client.get(f"/library/books/{book_id}/cover")
    assert resp.status_code == 200 and resp.mimetype == "image/png" and resp.data == image
    page = client.get(f"/library/books/{book_id}").text
    assert f'<img class="cover" src="/library/books/{book_id}/cover" alt="">' in page  # decoration beside the title
    assert "public" in resp.headers["Cache-Control"]
    again = client.get(f"/library/books/{book_id}/cover", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""

    publication = client.get(f"/opds/books/{book_id}").json
    assert_publication(publication)
    assert publication["images"] == [{"href": f"http://localhost/library/books/{book_id}/cover", "type": "image/png"}]
    assert reader.post(f"/api/v1/books/{book_id}/borrow").status_code == 201
    manifest = reader.get(f"/api/v1/books/{book_id}/manifest").json
    assert manifest["resources"] == [{**publication["images"][0], "rel": "cover"}]


def test_mp4_cover_and_a_cover_file_beside_the_tracks(app, client, tmp_path):
    m4b = tmp_path / "voyage.m4b"
    shutil.copy(M4B_BOOK, m4b)
    tags = MP4(m4b)
    tags["covr"] = [MP4Cover(JPEG, imageformat=MP4Cover.FORMAT_JPEG)]
    tags.save()
    assert client.get(f"/library/books/{ingest_path(app, m4b).book_id}/cover").data == JPEG

    folder = tmp_path / "saga"
    shutil.copytree(DAISY_BOOK, folder)
    (folder / "cover.png").write_bytes(png())
    book_id = ingest_path(app, folder).book_id
    resp = client.get(f"/library/books/{book_id}/cover")
    assert resp.mimetype == "image/png" and resp.data == png()


def test_books_without_a_usable_image_have_no_cover(app, client, tmp_path):
    plain = ingest_path(app, MP3_BOOK).book_id
    assert client.get(f"/library/books/{plain}/cover").status_code == 404
    assert "images" not in client.get(f"/opds/books/{plain}").json
    not_an_image = mp3_with_art(tmp_path, (3, "image/png", b"<html>not a picture</html>"))
    book_id = ingest_path(app, not_an_image).book_id
    assert stored_book(app, book_id).cover_key is None  # ignored, and the book is still ingested


def test_a_book_ingested_before_covers_gets_its_cover_when_ingested_again(app, client, tmp_path):
    source = mp3_with_art(tmp_path, (3, "image/png", png()))
    first = ingest_path(app, source)
    with db.get_sessionmaker(app).begin() as session:  # as a database from before migration 0070 holds it
        session.get(Audiobook, first.book_id).cover_key = None
    again = ingest_path(app, source)
    assert (again.book_id, again.status) == (first.book_id, "updated")
    assert client.get(f"/library/books/{first.book_id}/cover").data == png()
    assert ingest_path(app, source).status == "unchanged"
