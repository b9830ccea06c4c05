"""`flask media ingest`: the sample books, DAISY tables of contents, re-ingest, and refusals that store nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mutagen.id3 import ID3, TIT2
from sqlalchemy import func, select

from app import storage
from app.audit import AuditEvent
from app.lending import ingest
from app.lending.models import Audiobook, AudiobookTrack
from tests.lending.conftest import DAISY_BOOK, M4B_BOOK, MP3_BOOK, ingest_path


def media_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def count(sm, model) -> int:
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_cli_ingests_the_three_sample_books_with_a_progress_bar(app, sm):
    result = app.test_cli_runner().invoke(args=["media", "ingest", str(MP3_BOOK), str(M4B_BOOK), str(DAISY_BOOK)])
    assert result.exit_code == 0, result.output
    assert result.output.count("created:") == 3 and result.output.startswith("Pieni tarina")  # the bar's label
    with sm.begin() as s:
        books = {b.title: b for b in s.scalars(select(Audiobook))}
        assert set(books) == {"Pieni tarina", "A Small Voyage", "En liten saga"}
        saga = books["En liten saga"]
        assert (saga.author, saga.narrator, saga.language) == ("Sven Författare", "eSpeak NG", "sv")
        assert [t.number for t in saga.tracks] == [1, 2, 3] and saga.tracks[1].title == "Första kapitlet"
        assert abs(saga.duration - sum(t.duration for t in saga.tracks)) < 0.01
        for book in books.values():
            for track in book.tracks:
                assert storage.store(app).size(track.storage_key) == track.size
    assert len(media_files(app)) == 6  # 1 + 1 + 3 tracks and the saga's cover; nothing else


def test_daisy_headings_become_a_nested_toc_with_smil_clip_times(app, sm):
    book_id = ingest_path(app, DAISY_BOOK).book_id
    with sm.begin() as s:
        toc = s.get(Audiobook, book_id).toc
    assert [e["title"] for e in toc] == ["En liten saga – inledning", "Första kapitlet", "Andra kapitlet"]
    assert [(e["track"], e["start"]) for e in toc] == [(1, 0.0), (2, 0.0), (3, 0.0)]
    child = toc[1]["children"][0]
    assert child["title"] == "Boken som ville bli lyssnad på" and child["track"] == 2 and 2 < child["start"] < 3


def test_a_folder_without_ncc_uses_track_titles(app, sm, tmp_path):
    folder = tmp_path / "tracks-only"
    folder.mkdir()
    for mp3 in DAISY_BOOK.glob("*.mp3"):
        shutil.copy(mp3, folder / mp3.name)
    book_id = ingest_path(app, folder).book_id
    with sm.begin() as s:
        book = s.get(Audiobook, book_id)
        assert book.title == "En liten saga"  # the album tag
        assert [e["title"] for e in book.toc] == ["Inledning", "Första kapitlet", "Andra kapitlet"]


def test_mp3_chapters_become_the_toc(app, sm):
    book_id = ingest_path(app, MP3_BOOK).book_id
    with sm.begin() as s:
        toc = s.get(Audiobook, book_id).toc
    assert [e["title"] for e in toc] == ["Luku 1: Kirjasto", "Luku 2: Kuuntelijat", "Luku 3: Loppu"]
    assert toc[0]["start"] == 0 and toc[1]["start"] == pytest.approx(6.472)


def test_reingesting_the_same_book_changes_nothing(app, sm):
    first = ingest_path(app, M4B_BOOK)
    files = media_files(app)
    again = app.test_cli_runner().invoke(args=["media", "ingest", str(M4B_BOOK)])
    assert again.exit_code == 0 and "unchanged:" in again.output
    assert count(sm, Audiobook) == 1 and media_files(app) == files
    assert ingest_path(app, M4B_BOOK).book_id == first.book_id


def test_reingesting_a_corrected_book_updates_it_in_place(app, sm, tmp_path):
    first = ingest_path(app, MP3_BOOK)
    old_files = media_files(app)
    fixed = tmp_path / "renamed-folder" / "pieni-tarina-korjattu.mp3"
    fixed.parent.mkdir()
    shutil.copy(MP3_BOOK, fixed)
    tags = ID3(fixed)
    chap = tags["CHAP:ch1"]
    chap.sub_frames.setall("TIT2", [TIT2(encoding=3, text="Luku 1: Korjattu")])
    tags.save(fixed)
    second = ingest_path(app, fixed)
    assert second.status == "updated" and second.book_id == first.book_id and second.identifier == first.identifier
    assert count(sm, Audiobook) == 1 and count(sm, AudiobookTrack) == 1
    with sm.begin() as s:
        book = s.get(Audiobook, first.book_id)
        assert book.toc[0]["title"] == "Luku 1: Korjattu" and book.source_name == fixed.name
        key = book.tracks[0].storage_key
    assert media_files(app) != old_files and len(media_files(app)) == 1  # the old version was deleted
    assert storage.store(app).size(key) == fixed.stat().st_size


def test_a_book_that_loses_tracks_keeps_its_identity_and_drops_the_rows(app, sm, tmp_path):
    folder = tmp_path / "liten-saga"
    shutil.copytree(DAISY_BOOK, folder)
    first = ingest_path(app, folder)
    (folder / "03_spar.mp3").unlink()
    second = ingest_path(app, folder)
    assert second.book_id == first.book_id
    with sm.begin() as s:
        assert [t.number for t in s.get(Audiobook, first.book_id).tracks] == [1, 2]


def test_explicit_identifier_wins(app, sm):
    result = app.test_cli_runner().invoke(args=["media", "ingest", "--identifier", "urn:isbn:9789510000001",
                                                str(M4B_BOOK)])
    assert result.exit_code == 0, result.output
    with sm.begin() as s:
        assert s.scalar(select(Audiobook.identifier)) == "urn:isbn:9789510000001"
    bad = app.test_cli_runner().invoke(args=["media", "ingest", "--identifier", "not a uri", str(M4B_BOOK)])
    assert bad.exit_code != 0


def test_identifier_is_stable_and_separates_narrations():
    assert ingest.book_identifier("Pieni  tarina", "Aino", "X") == ingest.book_identifier("pieni tarina", "AINO", "x")
    assert ingest.book_identifier("Pieni tarina", "Aino", "X") != ingest.book_identifier("Pieni tarina", "Aino", "Y")
    assert ingest.book_identifier("T", "A", "N", isbn="978-951-0-00000-1") == "urn:isbn:9789510000001"


def refused_cli(app, *paths: Path):
    result = app.test_cli_runner().invoke(args=["media", "ingest", *map(str, paths)])
    assert result.exit_code != 0
    return result.output


def assert_nothing_stored(app, sm):
    assert count(sm, Audiobook) == 0 and count(sm, AudiobookTrack) == 0
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("lending.%"))) == 0
    assert media_files(app) == []


def test_truncated_mp3_is_refused_naming_the_file_and_nothing_is_stored(app, sm, tmp_path):
    cut = tmp_path / "katkennut.mp3"
    cut.write_bytes(MP3_BOOK.read_bytes()[:30_001])
    output = refused_cli(app, cut)
    assert "katkennut.mp3" in output and "truncated" in output and "nothing was stored" in output
    assert_nothing_stored(app, sm)


def test_text_file_renamed_mp3_is_refused_and_nothing_is_stored(app, sm, tmp_path):
    fake = tmp_path / "readme.mp3"
    fake.write_text("not audio at all")
    output = refused_cli(app, fake)
    assert "readme.mp3" in output and "not a supported audio file" in output
    assert_nothing_stored(app, sm)


def test_one_bad_track_refuses_the_whole_folder_and_the_other_books(app, sm, tmp_path):
    folder = tmp_path / "saga"
    shutil.copytree(DAISY_BOOK, folder)
    (folder / "02_spar.mp3").write_bytes(b"")
    output = refused_cli(app, MP3_BOOK, folder)
    assert "02_spar.mp3" in output and "empty" in output
    assert_nothing_stored(app, sm)


def test_unsupported_and_missing_paths_are_refused(app, sm, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert "notes.txt" in refused_cli(app, notes)
    assert "nowhere" in refused_cli(app, tmp_path / "nowhere")
    empty_folder = tmp_path / "empty-folder"
    empty_folder.mkdir()
    assert "empty-folder" in refused_cli(app, empty_folder)
    assert_nothing_stored(app, sm)


class FailingStore:
    """A media store whose second upload fails (a full disk, a dropped S3 connection)."""

    def __init__(self, inner) -> None:
        self.inner, self.puts = inner, 0

    def put_file(self, key, source, content_type="application/octet-stream"):
        self.puts += 1
        if self.puts == 2:
            raise OSError("disk full")
        return self.inner.put_file(key, source, content_type)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_failed_upload_deletes_what_was_uploaded(app, sm):
    source = ingest.read_source(DAISY_BOOK)
    with app.app_context(), pytest.raises(OSError):
        ingest.ingest_committed(sm, FailingStore(storage.store(app)), source, now=source_now(), actor="test")
    assert_nothing_stored(app, sm)


def test_a_failed_commit_deletes_the_uploaded_version(app, sm, monkeypatch):
    source = ingest.read_source(MP3_BOOK)

    def broken_audit(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ingest.audit, "record", broken_audit)
    with app.app_context(), pytest.raises(RuntimeError):
        ingest.ingest_committed(sm, storage.store(app), source, now=source_now(), actor="test")
    monkeypatch.undo()
    assert_nothing_stored(app, sm)


def source_now():
    from tests.conftest import FIXED_NOW

    return FIXED_NOW


def test_media_list_shows_the_books(app, books):
    result = app.test_cli_runner().invoke(args=["media", "list"])
    assert result.exit_code == 0 and "A Small Voyage" in result.output and "urn:uuid:" in result.output


def test_demo_loads_the_samples_once(app, sm):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    files = media_files(app)
    assert count(sm, Audiobook) == 3 and len(files) == 6  # 5 tracks, 1 cover
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert count(sm, Audiobook) == 3 and media_files(app) == files
