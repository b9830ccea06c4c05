"""app/audio.py on the committed sample books and on broken files made from them."""
from __future__ import annotations

import wave

import pytest

from app.audio import AudioError, check_mpeg_frames, language_tag, read_audio
from tests.lending.conftest import DAISY_BOOK, M4B_BOOK, MP3_BOOK


def test_mp3_with_id3_chapters():
    info = read_audio(MP3_BOOK)
    assert (info.format, info.media_type, info.bitrate) == ("mp3", "audio/mpeg", 32)
    assert 15 < info.duration < 25 and info.size == MP3_BOOK.stat().st_size
    assert (info.tags.title, info.tags.author, info.tags.narrator, info.tags.language) == \
        ("Pieni tarina", "Aino Kirjoittaja", "eSpeak NG", "fi")
    assert [c.title for c in info.chapters] == ["Luku 1: Kirjasto", "Luku 2: Kuuntelijat", "Luku 3: Loppu"]
    assert info.chapters[0].start == 0 and info.chapters[-1].end == info.duration
    assert all(a.end == b.start for a, b in zip(info.chapters, info.chapters[1:], strict=False))


def test_m4b_with_chapters():
    info = read_audio(M4B_BOOK)
    assert (info.format, info.media_type) == ("mp4", "audio/mp4")
    assert (info.tags.title, info.tags.author, info.tags.narrator, info.tags.language) == \
        ("A Small Voyage", "Emily Writer", "eSpeak NG", "en")
    assert [c.title for c in info.chapters][1] == "Chapter 2: The storm"
    assert 10 < info.duration < 20 and 0 < info.chapters[1].start < info.chapters[2].start < info.duration


def test_daisy_tracks_have_track_numbers_and_album():
    infos = [read_audio(p) for p in sorted(DAISY_BOOK.glob("*.mp3"))]
    assert [i.tags.track_number for i in infos] == [1, 2, 3]
    assert {i.tags.album for i in infos} == {"En liten saga"} and infos[0].tags.language == "sv"


def refused(path) -> AudioError:
    with pytest.raises(AudioError) as caught:
        read_audio(path)
    assert caught.value.file_name == path.name
    return caught.value


def test_truncated_mp3_cut_inside_a_frame(tmp_path):
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(MP3_BOOK.read_bytes()[:36_001])
    assert refused(cut).reason == "truncated"


def synthetic_mp3(frames: int, with_info: bool = True) -> bytes:
    """MPEG-1 layer III, 128 kbps, 44.1 kHz, mono: 417-byte frames (silence), with a LAME-style Info frame."""
    header = bytes([0xFF, 0xFB, 0x90, 0xC4])
    info = header + bytes(17) + b"Info" + (1).to_bytes(4, "big") + frames.to_bytes(4, "big")
    first = info + bytes(417 - len(info))
    return (first if with_info else b"") + (header + bytes(413)) * frames


def test_synthetic_mp3_reads_and_its_duration_comes_from_the_frames(tmp_path):
    path = tmp_path / "frames.mp3"
    path.write_bytes(synthetic_mp3(100))
    assert check_mpeg_frames(path, path.name).frames == 100
    assert read_audio(path).duration == round(100 * 1152 / 44100, 3)


def test_truncated_mp3_cut_on_a_frame_boundary_is_caught_by_the_info_frame_count(tmp_path):
    cut = tmp_path / "cut-on-boundary.mp3"
    cut.write_bytes(synthetic_mp3(100)[:417 * 61])  # the Info frame and 60 of the 100 audio frames
    err = refused(cut)
    assert err.reason == "truncated" and "60 of the 100" in err.detail


def test_text_file_renamed_mp3_is_unsupported(tmp_path):
    fake = tmp_path / "not-audio.mp3"
    fake.write_text("This is a text file, not an audiobook.\n" * 20)
    assert refused(fake).reason == "unsupported"


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.m4b"
    empty.write_bytes(b"")
    assert refused(empty).reason == "empty"


def test_wav_is_unsupported_even_when_named_mp3(tmp_path):
    path = tmp_path / "tone.mp3"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 8000)
    assert refused(path).reason == "unsupported"


def test_truncated_m4b(tmp_path):
    cut = tmp_path / "cut.m4b"
    cut.write_bytes(M4B_BOOK.read_bytes()[:40_000])
    assert refused(cut).reason == "truncated"


def test_id3_tag_without_audio_is_corrupt(tmp_path):
    data = MP3_BOOK.read_bytes()
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | byte
    tag_only = tmp_path / "tag-only.mp3"
    tag_only.write_bytes(data[:10 + size] + b"\x00" * 2000)
    assert refused(tag_only).reason == "corrupt"


def test_garbage_in_the_middle_is_corrupt(tmp_path):
    data = bytearray(MP3_BOOK.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 3000] = b"\x00" * 3000
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(bytes(data))
    assert refused(broken).reason == "corrupt"


def test_missing_file(tmp_path):
    assert refused(tmp_path / "nowhere.mp3").reason == "unreadable"


def test_language_tags_become_bcp47():
    assert (language_tag("fin"), language_tag("swe"), language_tag("en_GB"), language_tag("??")) == \
        ("fi", "sv", "en-GB", "")
