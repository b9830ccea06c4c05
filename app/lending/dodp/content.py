"""A borrowed book as the files a DAISY player downloads: a DAISY 2.02 fileset built from the stored tracks.

The audio files are the stored tracks themselves; ``ncc.html`` (the navigation centre: title, creator,
narrator and one heading per chapter) and one SMIL file per track (one ``par`` per chapter starting in that
track) are written from the book's table of contents, deterministically, so their sizes are known before
they are asked for. A position (track, seconds) is a bookmark ``URI`` ("003.smil#p3_2") plus a timeOffset
from the start of that ``par``; the same mapping reads a player's lastmark back into a position.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any

from app.lending.daisy import clock_value
from app.lending.models import Audiobook, AudiobookTrack

EXTENSIONS = {"audio/mpeg": "mp3", "audio/mp4": "m4a"}
NCC = "ncc.html"
TEXT_TYPES = {"html": "text/html", "smil": "application/smil"}


@dataclass(frozen=True)
class Chapter:
    number: int  # 1-based over the whole book (heading h_<number> in the NCC)
    level: int
    title: str
    track: int
    start: float


@dataclass(frozen=True)
class Fileset:
    """What the player downloads: generated documents (name → bytes) and the tracks (name → track)."""

    documents: dict[str, bytes]
    tracks: dict[str, AudiobookTrack]
    chapters: tuple[Chapter, ...]

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.documents.values()) + sum(t.size for t in self.tracks.values())

    def names(self) -> list[str]:
        return [NCC, *sorted(n for n in self.documents if n != NCC), *self.tracks]


def audio_name(track: AudiobookTrack) -> str:
    return f"{track.number:03d}.{EXTENSIONS.get(track.media_type, 'mp3')}"


def smil_name(track_number: int) -> str:
    return f"{track_number:03d}.smil"


def chapters_of(book: Audiobook) -> tuple[Chapter, ...]:
    flat: list[tuple[int, dict[str, Any]]] = []

    def walk(entries: list[dict[str, Any]], level: int) -> None:
        for entry in entries:
            flat.append((level, entry))
            walk(entry.get("children") or [], level + 1)

    walk(book.toc or [], 1)
    numbers = {t.number for t in book.tracks}
    chapters = [(min(level, 6), str(e.get("title") or ""), int(e.get("track", 0)), float(e.get("start", 0) or 0))
                for level, e in flat if int(e.get("track", 0)) in numbers]
    starts = {(c[2], round(c[3], 3)) for c in chapters}
    # Every track needs a heading that starts it, so that a player can reach all of the audio.
    for track in book.tracks:
        if (track.number, 0.0) not in starts:
            chapters.append((1, track.title or f"{track.number}", track.number, 0.0))
    chapters.sort(key=lambda c: (c[2], c[3]))
    return tuple(Chapter(i, level, title, track, start) for i, (level, title, track, start) in enumerate(chapters, 1))


def clock(seconds: float) -> str:
    """A SMIL full clock value: 0:01:02.500."""
    millis = int(round(max(seconds, 0) * 1000))
    return f"{millis // 3_600_000}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def fileset(book: Audiobook) -> Fileset:
    """The book's files; the generated documents are remembered per exact input (players poll resources)."""
    chapters = chapters_of(book)
    tracks = tuple((t.number, t.title, t.duration, audio_name(t)) for t in book.tracks)
    documents = _documents(book.title, book.author, book.narrator, book.language, book.identifier, book.duration,
                           tracks, chapters)
    return Fileset(documents, {audio_name(t): t for t in book.tracks}, chapters)


@lru_cache(maxsize=256)
def _documents(title: str, author: str, narrator: str, language: str, identifier: str, duration: float,
               tracks: tuple[tuple[int, str, float, str], ...], chapters: tuple[Chapter, ...]) -> dict[str, bytes]:
    lang = escape(language or "und")
    total = clock(duration).split(".")[0]
    files = 1 + 2 * len(tracks)
    meta = [("dc:title", title), ("dc:creator", author), ("dc:identifier", identifier), ("dc:format", "Daisy 2.02"),
            ("dc:language", language), ("ncc:narrator", narrator), ("ncc:totalTime", total),
            ("ncc:files", str(files)), ("ncc:charset", "utf-8"), ("ncc:multimediaType", "audioNcc"),
            ("ncc:tocItems", str(len(chapters))), ("ncc:generator", "Kuulo")]
    head = "".join(f'<meta name="{escape(n)}" content="{escape(v)}" />\n' for n, v in meta if v)
    headings = []
    for c in chapters:
        tag = "h1" if c.level == 1 else f"h{c.level}"
        cls = ' class="title"' if c.number == 1 else ""
        headings.append(f'<{tag}{cls} id="h_{c.number}"><a href="{smil_name(c.track)}#p_{c.number}">'
                        f'{escape(c.title)}</a></{tag}>\n')
    ncc = ('<?xml version="1.0" encoding="utf-8"?>\n'
           '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
           '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
           f'<html xmlns="http://www.w3.org/1999/xhtml" lang="{lang}" xml:lang="{lang}">\n<head>\n'
           f'<title>{escape(title)}</title>\n'
           '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />\n'
           f'{head}</head>\n<body>\n{"".join(headings)}</body>\n</html>\n')
    documents = {NCC: ncc.encode()}
    for number, _title, track_duration, name in tracks:
        own = [c for c in chapters if c.track == number]
        pars = []
        for i, c in enumerate(own):
            end = own[i + 1].start if i + 1 < len(own) else track_duration
            pars.append(f'<par endsync="last" id="p_{c.number}">\n'
                        f'<text src="ncc.html#h_{c.number}" id="t_{c.number}" />\n'
                        f'<audio src="{name}" clip-begin="npt={c.start:.3f}s" clip-end="npt={end:.3f}s" '
                        f'id="a_{c.number}" />\n</par>\n')
        smil = ('<?xml version="1.0" encoding="utf-8"?>\n'
                '<!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 1.0//EN" "http://www.w3.org/TR/REC-smil/SMIL10.dtd">\n'
                '<smil>\n<head>\n<meta name="dc:format" content="Daisy 2.02" />\n'
                f'<meta name="dc:title" content="{escape(title)}" />\n'
                f'<meta name="dc:identifier" content="{escape(identifier)}" />\n'
                f'<meta name="ncc:timeInThisSmil" content="{clock(track_duration)}" />\n'
                '<layout><region id="txtView" /></layout>\n</head>\n<body>\n'
                f'<seq dur="{track_duration:.3f}s">\n{"".join(pars)}</seq>\n</body>\n</smil>\n')
        documents[smil_name(number)] = smil.encode()
    return documents


def media_type(name: str) -> str:
    return TEXT_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")


# -- positions as bookmarks --------------------------------------------------------------------------

URI = re.compile(r"^(\d{1,4})\.smil(?:#p_(\d{1,6}))?$")


def position_to_mark(chapters: tuple[Chapter, ...], track: int, offset: float) -> tuple[str, str, str]:
    """(ncxRef, URI, timeOffset) for a position."""
    own = [c for c in chapters if c.track == track and c.start <= offset + 0.0005] or \
        [c for c in chapters if c.track == track]
    chapter = own[-1]
    return (f"ncc.html#h_{chapter.number}", f"{smil_name(track)}#p_{chapter.number}",
            clock(max(offset - chapter.start, 0)))


def mark_to_position(chapters: tuple[Chapter, ...], uri: str, time_offset: str) -> tuple[int, float] | None:
    """(track, seconds) for a bookmark's URI and timeOffset, or None when they point at nothing of ours."""
    match = URI.match(uri.strip())
    if match is None:
        return None
    track = int(match.group(1))
    start = 0.0
    if match.group(2):
        chapter = next((c for c in chapters if c.number == int(match.group(2))), None)
        if chapter is None or chapter.track != track:
            return None
        start = chapter.start
    elif not any(c.track == track for c in chapters):
        return None
    try:
        offset = clock_value(time_offset) if time_offset.strip() else 0.0
    except ValueError:
        return None
    if offset != offset or offset < 0 or offset > 10**7:  # NaN, negative or absurd
        return None
    return track, start + offset
