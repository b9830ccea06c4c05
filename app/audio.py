"""Audio files → ``AudioInfo`` (duration, bitrate, tags, chapters), refusing files Kuulo cannot serve.

The format is decided by the content, not the file name: MP3 (MPEG audio, optionally behind an ID3v2
tag) or MP4 audio (M4A/M4B: AAC or ALAC). Anything else is ``unsupported``. Beyond what mutagen
reads, two structural checks catch files that would break half way through listening:

- MP3: every MPEG frame is walked; a last frame cut short, or fewer frames than the Xing/Info
  header promises, is ``truncated``; undecodable data in the middle is ``corrupt``.
- MP4: the top-level boxes must tile the file exactly; a box running past the end is ``truncated``.

Tags follow the common audiobook conventions (as Audiobookshelf reads them): title = title tag
(album for multi-track books is the caller's business), author = artist, narrator = a NARRATOR
tag or else the composer, language = TLAN / a LANGUAGE tag, as a BCP 47 tag.
"""
from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mutagen
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4

REASONS = ("empty", "truncated", "corrupt", "unsupported", "unreadable")
MEDIA_TYPES = {"mp3": "audio/mpeg", "mp4": "audio/mp4"}
# ISO 639-2 (as in ID3 TLAN) → the shortest BCP 47 tag, for the languages Kuulo's libraries meet.
ISO639_2 = {"fin": "fi", "swe": "sv", "eng": "en", "sme": "se", "est": "et", "rus": "ru", "deu": "de",
            "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it", "nor": "no", "nob": "nb",
            "dan": "da", "ces": "cs", "cze": "cs", "pol": "pl", "ara": "ar", "som": "so", "ukr": "uk"}
BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class AudioError(Exception):
    """A refused file: ``reason`` is one of REASONS, ``file_name`` names it, ``detail`` says why."""

    def __init__(self, reason: str, file_name: str, detail: str = "") -> None:
        super().__init__(f"{file_name}: {reason}" + (f" ({detail})" if detail else ""))
        self.reason, self.file_name, self.detail = reason, file_name, detail


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float  # seconds from the start of the file
    end: float | None = None


@dataclass(frozen=True)
class AudioTags:
    title: str = ""
    author: str = ""
    narrator: str = ""
    language: str = ""  # BCP 47, e.g. "fi"
    album: str = ""
    track_number: int | None = None
    isbn: str = ""


@dataclass(frozen=True)
class AudioInfo:
    file_name: str
    format: str  # "mp3" | "mp4"
    media_type: str  # "audio/mpeg" | "audio/mp4"
    duration: float  # seconds
    bitrate: int  # kbps (average)
    size: int  # bytes
    tags: AudioTags = field(default_factory=AudioTags)
    chapters: tuple[Chapter, ...] = ()


def read_audio(path: Path | str) -> AudioInfo:
    """Read and check one audio file; raises AudioError with a reason code and the file name."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise AudioError("unreadable", name, exc.strerror or "") from None
    if size == 0:
        raise AudioError("empty", name, "the file has no content")
    kind = sniff(head)
    if kind is None:
        raise AudioError("unsupported", name, "the content is not MP3 or MP4 (M4A/M4B) audio")
    if kind == "mp3":
        frames = check_mpeg_frames(path, name)
        audio: Any = _load(MP3, path, name)
        duration = frames.duration or float(audio.info.length)
    else:
        check_mp4_boxes(path, name)
        audio = _load(MP4, path, name)
        codec = str(getattr(audio.info, "codec", ""))
        if not codec.startswith(("mp4a", "alac")):
            raise AudioError("unsupported", name, f"MP4 without AAC/ALAC audio ({codec or 'no audio track'})")
        duration = mp4_presented_duration(path, audio) or float(audio.info.length)
    if duration <= 0:
        raise AudioError("corrupt", name, "no playable audio")
    bitrate = max(1, round((getattr(audio.info, "bitrate", 0) or size * 8 / duration) / 1000))
    tags = _mp3_tags(audio) if kind == "mp3" else _mp4_tags(audio)
    chapters = _mp3_chapters(audio) if kind == "mp3" else _mp4_chapters(audio)
    return AudioInfo(name, kind, MEDIA_TYPES[kind], round(duration, 3), bitrate, size, tags,
                     _close_chapters(chapters, duration))


def sniff(head: bytes) -> str | None:
    if head[:3] == b"ID3" or (len(head) >= 4 and _mpeg_header(head[:4]) is not None):
        return "mp3"
    if head[4:8] == b"ftyp":
        return "mp4"
    return None


def _load(cls: Any, path: Path, name: str) -> Any:
    try:
        return cls(path)
    except mutagen.MutagenError as exc:
        raise AudioError("corrupt", name, str(exc)) from None


# -- MP3 structure -----------------------------------------------------------------------------------

_BITRATES = {  # kbps by (MPEG-1?, layer)
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_TRAILING_TAGS = (b"TAG", b"APETAGEX", b"LYRICSBEGIN", b"ID3")


@dataclass(frozen=True)
class MpegFrame:
    length: int  # bytes, header included
    samples: int
    sample_rate: int
    side_info: int  # bytes between the header and a Xing/Info tag


@dataclass(frozen=True)
class MpegScan:
    frames: int
    duration: float


def _mpeg_header(b: bytes) -> MpegFrame | None:
    if len(b) < 4 or b[0] != 0xFF or (b[1] & 0xE0) != 0xE0:
        return None
    version, layer_bits = (b[1] >> 3) & 3, (b[1] >> 1) & 3
    bitrate_index, rate_index, padding = b[2] >> 4, (b[2] >> 2) & 3, (b[2] >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or "free format" which audiobooks never use
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    rate = _SAMPLE_RATES[version][rate_index]
    if layer == 1:
        return MpegFrame((12 * bitrate // rate + padding) * 4, 384, rate, 0)
    samples = 1152 if (layer == 2 or mpeg1) else 576
    mono = (b[3] >> 6) == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    return MpegFrame(samples // 8 * bitrate // rate + padding, samples, rate, side + (0 if b[1] & 1 else 2))


def _id3_end(mm: mmap.mmap) -> int:
    pos = 0
    while mm[pos:pos + 3] == b"ID3" and pos + 10 <= len(mm):  # some encoders write two tags
        size = 0
        for byte in mm[pos + 6:pos + 10]:
            size = (size << 7) | (byte & 0x7F)
        pos += 10 + size + (10 if mm[pos + 5] & 0x10 else 0)
    return pos


def _xing_frames(mm: mmap.mmap, pos: int, frame: MpegFrame) -> int | None:
    at = pos + 4 + frame.side_info
    if mm[at:at + 4] not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(mm[at + 4:at + 8], "big")
    return int.from_bytes(mm[at + 8:at + 12], "big") if flags & 1 else None


def check_mpeg_frames(path: Path, name: str) -> MpegScan:
    """Walk every frame: the file must decode from the first frame to the end (or a trailing tag)."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        end = len(mm)
        pos = _id3_end(mm)
        if pos > end:
            raise AudioError("truncated", name, "the ID3 tag runs past the end of the file")
        start = mm.find(b"\xff", pos, min(end, pos + 65536))
        while start != -1 and _mpeg_header(mm[start:start + 4]) is None:
            start = mm.find(b"\xff", start + 1, min(end, pos + 65536))
        if start == -1:
            raise AudioError("corrupt", name, "no MPEG audio frames found")
        first = _mpeg_header(mm[start:start + 4])
        assert first is not None
        promised = _xing_frames(mm, start, first)
        pos = start + (first.length if promised is not None else 0)
        frames = samples = 0
        rate = first.sample_rate
        while pos < end:
            if end - pos < 4:
                raise AudioError("truncated", name, f"a frame header is cut short at byte {end}")
            frame = _mpeg_header(mm[pos:pos + 4])
            if frame is None:
                if any(mm[pos:pos + len(t)] == t for t in _TRAILING_TAGS):
                    break
                raise AudioError("corrupt", name, f"undecodable data at byte {pos}")
            if pos + frame.length > end:
                raise AudioError("truncated", name, f"the last audio frame is cut short at byte {end}")
            frames += 1
            samples += frame.samples
            pos += frame.length
    if frames == 0:
        raise AudioError("corrupt", name, "no MPEG audio frames found")
    if promised is not None and frames < promised:
        raise AudioError("truncated", name, f"{frames} of the {promised} audio frames are present")
    return MpegScan(frames, samples / rate)


def check_mp4_boxes(path: Path, name: str) -> None:
    """The top-level MP4 boxes must cover the file exactly, with a movie header (moov)."""
    end = path.stat().st_size
    seen = set()
    with open(path, "rb") as f:
        pos = 0
        while pos < end:
            f.seek(pos)
            header = f.read(16)
            if len(header) < 8:
                raise AudioError("truncated", name, f"a box header is cut short at byte {pos}")
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if size == 1:
                if len(header) < 16:
                    raise AudioError("truncated", name, f"a box header is cut short at byte {pos}")
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = end - pos
            if size < 8:
                raise AudioError("corrupt", name, f"invalid box size at byte {pos}")
            if pos + size > end:
                raise AudioError("truncated", name, f"the {kind.decode('latin-1')!r} box runs past the end")
            seen.add(kind)
            pos += size
    if b"moov" not in seen or b"mdat" not in seen:
        raise AudioError("corrupt", name, "no movie header or media data")


def mp4_presented_duration(path: Path, audio: Any) -> float | None:
    """What a player plays of an MP4 audio track, in seconds: without the encoder's priming and padding.

    mutagen's ``info.length`` is the media header's duration, which counts the AAC priming samples
    (1024–2112) and the last frame's padding, so it runs tens of milliseconds past the audio. The
    track's edit list says what is presented (ISO/IEC 14496-12 §8.6.6; what ffmpeg and Apple write);
    without one, iTunes' ``iTunSMPB`` tag gives the real sample count. None when neither is there."""
    try:
        from mutagen.mp4 import Atoms

        with open(path, "rb") as f:
            atoms = Atoms(f)

            def payload(atom: Any) -> bytes:
                f.seek(atom.offset + 8)
                return f.read(atom.length - 8)

            movie_scale = _header_scale(payload(atoms[b"moov.mvhd"]))[0]
            for trak in atoms[b"moov"].findall(b"trak"):
                if payload(trak[b"mdia", b"hdlr"])[8:12] != b"soun":
                    continue
                media_scale, media_length = _header_scale(payload(trak[b"mdia", b"mdhd"]))
                edits = [_edit_list(payload(box)) for box in trak.findall(b"edts")]
                presented = _presented(movie_scale, media_scale, media_length, edits[0] if edits else [])
                if presented:
                    return presented
                break
    except (KeyError, IndexError, ValueError, OSError, mutagen.MutagenError, struct.error):
        pass
    return _itunsmpb_duration(audio)


def _header_scale(box: bytes) -> tuple[int, int]:
    """(timescale, duration) of a movie or media header box (version 0 or 1)."""
    return struct.unpack(">IQ", box[20:32]) if box[0] == 1 else struct.unpack(">II", box[12:20])


def _edit_list(edts: bytes) -> list[tuple[int, int]]:
    """(segment duration in the movie's timescale, media time) of each entry of the edts box's elst."""
    if edts[4:8] != b"elst":
        return []
    elst = edts[8:]
    version, count = elst[0], struct.unpack(">I", elst[4:8])[0]
    entry = ">Qq" if version == 1 else ">Ii"
    step = struct.calcsize(entry) + 4  # media rate (16.16) after each entry
    return [struct.unpack(entry, elst[8 + i * step:8 + i * step + struct.calcsize(entry)]) for i in range(count)]


def _presented(movie_scale: int, media_scale: int, media_length: int, edits: list[tuple[int, int]]) -> float | None:
    played = [(segment, start) for segment, start in edits if start >= 0]  # -1: an empty edit (a pause)
    if not played or not movie_scale or not media_scale:
        return None
    start = played[0][1]
    rest = (media_length - start) / media_scale  # everything after the priming
    listed = sum(segment for segment, _ in played) / movie_scale
    return min(listed, rest) if listed > 0 else rest  # 0: a fragmented file leaves the segment open


def _itunsmpb_duration(audio: Any) -> float | None:
    """From ``iTunSMPB`` (" 00000000 00000840 000001CA 00000000003F31F6 …": priming, padding, samples)."""
    values = (audio.tags or {}).get("----:com.apple.iTunes:iTunSMPB") if audio.tags is not None else None
    rate = getattr(audio.info, "sample_rate", 0)
    if not values or not rate:
        return None
    fields = bytes(values[0]).decode("latin-1").split()
    try:
        samples = int(fields[3], 16)
    except (IndexError, ValueError):
        return None
    return samples / rate if samples > 0 else None


# -- tags and chapters -------------------------------------------------------------------------------

def language_tag(value: str) -> str:
    value = value.strip().replace("_", "-")
    value = ISO639_2.get(value.lower(), value)
    return value if BCP47.match(value) else ""


def _text(tags: Any, *keys: str) -> str:
    for key in keys:
        frame = tags.get(key) if tags is not None else None
        if frame is not None:
            values = getattr(frame, "text", frame)
            text = str(values[0] if isinstance(values, list) and values else values).strip()
            if text:
                return text
    return ""


def _number(text: str) -> int | None:
    head = text.split("/")[0].strip()
    return int(head) if head.isdigit() else None


def _mp3_tags(audio: Any) -> AudioTags:
    tags: ID3 | None = audio.tags
    isbn = _text(tags, "TXXX:ISBN", "TXXX:isbn")
    return AudioTags(title=_text(tags, "TIT2"), author=_text(tags, "TPE1", "TPE2"),
                     narrator=_text(tags, "TXXX:NARRATOR", "TXXX:narrator", "TCOM"),
                     language=language_tag(_text(tags, "TLAN", "TXXX:LANGUAGE")), album=_text(tags, "TALB"),
                     track_number=_number(_text(tags, "TRCK")), isbn=isbn)


def _freeform(tags: Any, name: str) -> str:
    for value in (tags or {}).get(f"----:com.apple.iTunes:{name}", []):
        return bytes(value).decode("utf-8", "replace").strip()
    return ""


def _mp4_tags(audio: Any) -> AudioTags:
    tags = audio.tags
    track = (tags or {}).get("trkn")
    return AudioTags(title=_text(tags, "©nam"), author=_text(tags, "©ART", "aART"),
                     narrator=_freeform(tags, "NARRATOR") or _text(tags, "©nrt", "©wrt"),
                     language=language_tag(_freeform(tags, "LANGUAGE")), album=_text(tags, "©alb"),
                     track_number=track[0][0] if track else None, isbn=_freeform(tags, "ISBN"))


# -- cover images ------------------------------------------------------------------------------------

COVER_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Cover:
    data: bytes
    media_type: str  # "image/jpeg" | "image/png" (what OPDS and Readium apps all show)


def image_type(data: bytes) -> str | None:
    """The media type of a JPEG or PNG image, by its content; None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    return None


def cover_image(data: bytes) -> Cover | None:
    kind = image_type(data)
    return Cover(bytes(data), kind) if kind and len(data) <= COVER_MAX_BYTES else None


def read_cover(path: Path | str) -> Cover | None:
    """The cover art embedded in an audio file (ID3 APIC, front cover first; MP4 ``covr``), or None.
    Only JPEG and PNG are taken; an image that is neither (or over 5 MB) is ignored, not an error."""
    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError:
        return None
    tags = getattr(audio, "tags", None)
    if tags is None:
        return None
    if isinstance(tags, ID3):
        pictures = sorted(tags.getall("APIC"), key=lambda frame: frame.type != 3)  # 3 = front cover
        candidates = [frame.data for frame in pictures]
    else:
        candidates = [bytes(cover) for cover in tags.get("covr", [])]
    return next((cover for data in candidates if (cover := cover_image(data)) is not None), None)


def _mp3_chapters(audio: Any) -> list[Chapter]:
    tags = audio.tags
    if tags is None:
        return []
    chaps = {frame.element_id: frame for frame in tags.getall("CHAP")}
    order: list[str] = []
    for toc in tags.getall("CTOC"):
        if toc.flags & 2:  # top-level table of contents
            order = [i for i in toc.child_element_ids if i in chaps]
    frames = [chaps[i] for i in order] or sorted(chaps.values(), key=lambda c: c.start_time)
    result = []
    for n, frame in enumerate(frames, 1):
        title = _text(frame.sub_frames, "TIT2") or f"{n}"
        result.append(Chapter(title, frame.start_time / 1000, frame.end_time / 1000 if frame.end_time else None))
    return result


def _mp4_chapters(audio: Any) -> list[Chapter]:
    return [Chapter(str(c.title or n), float(c.start)) for n, c in enumerate(getattr(audio, "chapters", None) or [], 1)]


def _close_chapters(chapters: list[Chapter], duration: float) -> tuple[Chapter, ...]:
    """Sorted, inside the file, each ending where the next begins."""
    inside = sorted((c for c in chapters if 0 <= c.start < duration), key=lambda c: c.start)
    closed = []
    for i, chapter in enumerate(inside):
        end = inside[i + 1].start if i + 1 < len(inside) else duration
        closed.append(Chapter(chapter.title, round(chapter.start, 3), round(end, 3)))
    return tuple(closed)
