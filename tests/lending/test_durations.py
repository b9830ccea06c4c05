"""Durations are what a player plays (issue 16): the M4B sample's manifest duration used to be 47 ms longer
than its audio, because the MP4 media header counts the AAC priming and padding samples."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from mutagen.mp4 import MP4

from app.audio import _presented, mp4_presented_duration, read_audio
from tests.lending.conftest import DAISY_BOOK, M4B_BOOK, MP3_BOOK


def test_m4b_duration_leaves_out_priming_and_padding():
    header_length = MP4(M4B_BOOK).info.length  # what mutagen reports: 14.2546 s
    info = read_audio(M4B_BOOK)
    assert info.duration == 14.208  # the edit list: 14 208 ms presented
    assert header_length - info.duration > 0.04
    assert info.chapters[-1].end == info.duration


def test_edit_list_arithmetic():
    # 22 050 Hz media of 314 314 samples, 1024 priming samples, a 14 208 ms segment on a 1000 Hz movie clock
    assert _presented(1000, 22050, 314314, [(14208, 1024)]) == 14.208
    assert _presented(1000, 22050, 314314, [(0, 1024)]) == pytest.approx((314314 - 1024) / 22050)  # open segment
    assert _presented(1000, 22050, 314314, [(0, -1)]) is None  # only an empty edit: unknown
    assert _presented(1000, 22050, 314314, []) is None


def test_without_an_edit_list_itunsmpb_gives_the_sample_count(tmp_path):
    copy = tmp_path / "no-edits.m4b"
    data = bytearray(M4B_BOOK.read_bytes())
    for at in range(len(data)):  # rename every edts box so no edit list is found
        at = data.find(b"edts", at)
        if at < 0:
            break
        data[at:at + 4] = b"skip"
    copy.write_bytes(bytes(data))
    audio = MP4(copy)
    audio.tags["----:com.apple.iTunes:iTunSMPB"] = [
        b" 00000000 00000400 000002B6 000000000004C448 00000000 00000000 00000000 00000000"]
    audio.save()
    assert mp4_presented_duration(copy, MP4(copy)) == pytest.approx(0x4C448 / 22050)


def ffprobe_seconds(path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=duration",
                          "-of", "json", str(path)], capture_output=True, text=True, timeout=30, check=True)
    return float(json.loads(out.stdout)["streams"][0]["duration"])


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (apt package ffmpeg) is not installed")
@pytest.mark.parametrize("path", [M4B_BOOK, MP3_BOOK, *sorted(DAISY_BOOK.glob("*.mp3"))], ids=lambda p: p.name)
def test_durations_agree_with_ffprobe(path):
    assert read_audio(path).duration == pytest.approx(ffprobe_seconds(path), abs=0.002)
