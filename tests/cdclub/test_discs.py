"""Disc counts from the audio: size against an MP3 CD, or duration against an audio CD."""
from __future__ import annotations

import pytest

from app.cdclub.discs import MEBIBYTE, AudioMeasure, DiscCapacity, disc_count, estimated_bytes

MP3_CD = DiscCapacity()
AUDIO_CD = DiscCapacity(kind="audio")


def test_an_mp3_cd_holds_700_megabytes():
    assert disc_count(AudioMeasure(total_bytes=700 * MEBIBYTE), MP3_CD) == 1
    assert disc_count(AudioMeasure(total_bytes=700 * MEBIBYTE + 1), MP3_CD) == 2
    assert disc_count(AudioMeasure(total_bytes=2000 * MEBIBYTE), MP3_CD) == 3


def test_size_is_estimated_from_duration_and_bitrate_when_unknown():
    ten_hours_64k = AudioMeasure(duration_seconds=36000, bitrate_bps=64000)
    assert estimated_bytes(ten_hours_64k) == 288_000_000
    assert disc_count(ten_hours_64k, MP3_CD) == 1
    assert disc_count(AudioMeasure(duration_seconds=36000, bitrate_bps=192000), MP3_CD) == 2


def test_an_audio_cd_holds_80_minutes():
    assert disc_count(AudioMeasure(duration_seconds=80 * 60), AUDIO_CD) == 1
    assert disc_count(AudioMeasure(duration_seconds=10 * 3600), AUDIO_CD) == 8
    assert disc_count(AudioMeasure(duration_seconds=10 * 3600), DiscCapacity(kind="audio", capacity_minutes=74)) == 9


def test_a_book_needs_at_least_one_disc_and_capacities_are_checked():
    assert disc_count(AudioMeasure(), MP3_CD) == 1
    assert disc_count(AudioMeasure(), AUDIO_CD) == 1
    with pytest.raises(ValueError):
        DiscCapacity(kind="dvd")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DiscCapacity(capacity_mb=0)
