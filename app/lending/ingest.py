"""Ingest audiobooks from audio files: read and check everything, upload, then write the rows.

A source is one book: an MP3/M4A/M4B file, or a folder of audio tracks (a DAISY 2.02 folder when
it has an ``ncc.html``). Nothing is half stored:

1. ``read_source`` reads and checks every file first (app/audio.py); one bad file refuses the
   whole book, naming the file and the reason, before anything is uploaded.
2. ``ingest`` uploads the tracks under a new version prefix
   ``audiobooks/<identifier hash>/<content hash>/`` that no row points to yet (a failed upload
   deletes what it wrote), then writes or updates the rows in the caller's transaction.
3. After the commit the caller calls ``finish`` (deletes the previous version's files); if the
   commit fails, ``discard`` deletes the new ones. ``ingest_committed`` does all of this.

**Identity of a book** (so re-ingesting updates instead of duplicating): an explicit identifier
(``--identifier``), else the ISBN tag (``urn:isbn:…``), else ``urn:uuid:`` + a UUID5 of the
normalised title, author and narrator read from the files (the NCC for DAISY). Re-encoding a
book, fixing its chapters or renaming its folder keeps its identity; another narration is
another book. Identical content (same files, same NCC/SMIL) is recognised and left unchanged.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.audio import AudioError, AudioInfo, Cover, cover_image, language_tag, read_audio, read_cover
from app.lending import daisy
from app.lending.models import Audiobook, AudiobookTrack
from app.storage import MediaStore

AUDIO_SUFFIXES = (".mp3", ".m4a", ".m4b")
COVER_FILES = ("cover.jpg", "cover.jpeg", "cover.png", "folder.jpg", "folder.png")  # beside the tracks
COVER_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png"}
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://kuulo.fi/audiobooks")
Progress = Callable[[int], Any]


class IngestError(Exception):
    """The source was refused; ``problems`` name each bad file and why."""

    def __init__(self, source: str, problems: list[AudioError]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.source, self.problems = source, problems


@dataclass(frozen=True)
class SourceTrack:
    path: Path
    info: AudioInfo
    sha256: str


@dataclass(frozen=True)
class SourceBook:
    source: Path
    tracks: tuple[SourceTrack, ...]
    identifier: str
    title: str
    author: str
    narrator: str
    language: str
    toc: list[dict[str, Any]]
    content_hash: str
    cover: Cover | None = None  # a cover image file in the folder, else the art embedded in the first track

    @property
    def size(self) -> int:
        return sum(t.info.size for t in self.tracks)

    @property
    def duration(self) -> float:
        return round(sum(t.info.duration for t in self.tracks), 3)


@dataclass(frozen=True)
class IngestResult:
    book_id: int
    identifier: str
    title: str
    status: str  # "created" | "updated" | "unchanged"
    new_prefix: str | None  # uploaded by this ingest and not referenced before it
    old_prefix: str | None  # the previous version, to delete after the commit


def natural_key(path: Path) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name.lower())]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def book_identifier(title: str, author: str, narrator: str, isbn: str = "", explicit: str = "") -> str:
    if explicit:
        return explicit
    digits = re.sub(r"[^0-9Xx]", "", isbn).upper()
    if len(digits) in (10, 13):
        return f"urn:isbn:{digits}"
    return "urn:uuid:" + str(uuid.uuid5(NAMESPACE, "|".join(_normalise(x) for x in (title, author, narrator))))


def _source_files(path: Path) -> tuple[list[Path], list[Path]]:
    """(audio files, other files that shape the book: the NCC and SMIL files)."""
    if path.is_dir():
        visible = sorted((p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")), key=natural_key)
        audio = [p for p in visible if p.suffix.lower() in AUDIO_SUFFIXES]
        extra = [p for p in visible if p.suffix.lower() == ".smil" or p.name.lower() in ("ncc.html", *COVER_FILES)]
        if not audio:
            raise IngestError(path.name, [AudioError("unsupported", path.name, "no MP3, M4A or M4B files")])
        return audio, extra
    if path.is_file():
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            raise IngestError(path.name, [AudioError("unsupported", path.name, "not an .mp3, .m4a or .m4b file")])
        return [path], []
    raise IngestError(path.name, [AudioError("unreadable", path.name, "no such file or folder")])


def _chapters_toc(tracks: list[SourceTrack], book_title: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for number, track in enumerate(tracks, 1):
        chapters = track.info.chapters
        if chapters:
            entries += [{"title": c.title, "track": number, "start": c.start, "children": []} for c in chapters]
        else:
            title = track.info.tags.title or (book_title if len(tracks) == 1 else track.path.stem)
            entries.append({"title": title, "track": number, "start": 0.0, "children": []})
    return entries


def read_source(path: Path | str, identifier: str = "") -> SourceBook:
    """Read and check one book; raises IngestError naming every refused file."""
    path = Path(path)
    if identifier and not URI.match(identifier):
        raise ValueError("an identifier must be a URI, e.g. urn:isbn:9789510000000")
    audio_files, extra_files = _source_files(path)
    tracks, problems = [], []
    for file in audio_files:
        try:
            tracks.append(SourceTrack(file, read_audio(file), _sha256(file)))
        except AudioError as problem:
            problems.append(problem)
    if problems:
        raise IngestError(path.name, problems)
    ncc_path = daisy.find_ncc(path) if path.is_dir() else None
    ncc = daisy.read_ncc(ncc_path) if ncc_path else daisy.Ncc()
    first = tracks[0].info.tags
    single = len(tracks) == 1
    title = ncc.get("dc:title") or ((first.title or first.album) if single else (first.album or first.title))
    title = title or path.stem
    author = ncc.get("dc:creator") or first.author
    narrator = ncc.get("ncc:narrator") or first.narrator
    language = language_tag(ncc.get("dc:language")) or first.language
    toc = daisy.toc_from_ncc(path, ncc, {t.path.name: n for n, t in enumerate(tracks, 1)}) if ncc_path else []
    content = hashlib.sha256()
    for track in tracks:
        content.update(f"{track.path.name}\0{track.sha256}\n".encode())
    for extra in extra_files:
        content.update(f"{extra.name}\0{_sha256(extra)}\n".encode())
    return SourceBook(path, tuple(tracks), book_identifier(title, author, narrator, first.isbn, identifier),
                      title[:300], author[:300], narrator[:300], language, toc or _chapters_toc(tracks, title),
                      content.hexdigest(), _cover(extra_files, tracks[0].path))


def _cover(extra_files: list[Path], first_track: Path) -> Cover | None:
    for name in COVER_FILES:  # in order of preference
        for file in extra_files:
            if file.name.lower() == name and (cover := cover_image(file.read_bytes())) is not None:
                return cover
    return read_cover(first_track)


def _stored_intact(store: MediaStore, book: Audiobook) -> bool:
    return all(store.size(t.storage_key) == t.size for t in book.tracks) and \
        (book.cover_key is None or store.size(book.cover_key) is not None)


def _upload(store: MediaStore, source: SourceBook, prefix: str, progress: Progress | None) -> list[str]:
    keys: list[str] = []
    try:
        for number, track in enumerate(source.tracks, 1):
            key = f"{prefix}/{number:03d}{track.path.suffix.lower()}"
            store.put_file(key, track.path, track.info.media_type)
            keys.append(key)
            if progress:
                progress(track.info.size)
        if source.cover is not None:
            key = f"{prefix}/cover{COVER_SUFFIXES[source.cover.media_type]}"
            store.put_bytes(key, source.cover.data, source.cover.media_type)
            keys.append(key)
    except BaseException:
        for key in keys:
            store.delete(key)
        raise
    return keys


def _write_rows(session: Session, book: Audiobook | None, source: SourceBook, keys: list[str], prefix: str,
                now: datetime) -> Audiobook:
    if book is None:
        book = Audiobook(identifier=source.identifier, added_at=now)
        session.add(book)
    book.title, book.author, book.narrator, book.language = source.title, source.author, source.narrator, \
        source.language
    book.duration, book.size, book.toc, book.updated_at = source.duration, source.size, source.toc, now
    book.storage_prefix, book.content_hash, book.source_name = prefix, source.content_hash, source.source.name
    book.cover_key = keys[-1] if source.cover is not None else None
    book.cover_type = source.cover.media_type if source.cover is not None else None
    rows = {t.number: t for t in book.tracks}
    for number, (track, key) in enumerate(zip(source.tracks, keys[:len(source.tracks)], strict=True), 1):
        row = rows.pop(number, None) or AudiobookTrack(number=number)
        if row.id is None:
            book.tracks.append(row)
        row.title = (track.info.tags.title or track.path.stem)[:300]
        row.storage_key, row.media_type, row.sha256 = key, track.info.media_type, track.sha256
        row.duration, row.bitrate, row.size = track.info.duration, track.info.bitrate, track.info.size
    for surplus in rows.values():
        book.tracks.remove(surplus)
    session.flush()
    return book


def ingest(session: Session, store: MediaStore, source: SourceBook, *, now: datetime, actor: Any,
           progress: Progress | None = None) -> IngestResult:
    """Upload (unless unchanged) and write the rows; the caller commits, then ``finish``/``discard``."""
    book = session.scalar(select(Audiobook).where(Audiobook.identifier == source.identifier))
    if book is not None and book.content_hash == source.content_hash and _stored_intact(store, book) \
            and (book.cover_key is None) == (source.cover is None):  # (ingested before covers were kept)
        if progress:
            progress(source.size)
        return IngestResult(book.id, book.identifier, book.title, "unchanged", None, None)
    id_hash = hashlib.sha256(source.identifier.encode()).hexdigest()[:16]
    prefix = f"audiobooks/{id_hash}/{source.content_hash[:16]}"
    old_prefix = book.storage_prefix if book is not None else None
    new_prefix = prefix if prefix != old_prefix else None
    keys = _upload(store, source, prefix, progress)
    status = "created" if book is None else "updated"
    try:
        book = _write_rows(session, book, source, keys, prefix, now)
        audit.record(session, actor=actor, action=f"lending.audiobook_{status}", now=now, record_type="audiobook",
                     record_id=book.id, identifier=book.identifier, tracks=len(source.tracks),
                     source=source.source.name)
        session.flush()
    except BaseException:
        if new_prefix:
            store.delete_prefix(new_prefix)
        raise
    return IngestResult(book.id, book.identifier, book.title, status, new_prefix,
                        old_prefix if old_prefix != prefix else None)


def finish(store: MediaStore, result: IngestResult) -> None:
    """After the commit: the previous version's files are no longer referenced."""
    if result.old_prefix:
        store.delete_prefix(result.old_prefix)


def discard(store: MediaStore, result: IngestResult) -> None:
    """The commit failed: remove what this ingest uploaded."""
    if result.new_prefix:
        store.delete_prefix(result.new_prefix)


def ingest_committed(sm: sessionmaker[Session], store: MediaStore, source: SourceBook, *, now: datetime,
                     actor: Any, progress: Progress | None = None) -> IngestResult:
    """Ingest one book in its own transaction, cleaning the store up whichever way it ends."""
    result: IngestResult | None = None
    try:
        with sm.begin() as session:
            result = ingest(session, store, source, now=now, actor=actor, progress=progress)
    except BaseException:
        if result is not None:
            discard(store, result)
        raise
    finish(store, result)
    return result
