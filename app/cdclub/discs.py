"""How many CDs an audiobook needs: pure arithmetic, standard library only.

Two kinds of disc are burned for clubs:
- ``mp3``: an MP3 (data) CD holds ``capacity_mb`` megabytes (700 MB = 700 MiB, as CD-R makers
  count); a book needs total size ÷ capacity discs. When the file sizes are unknown, the size is
  estimated from duration × bitrate.
- ``audio``: a Red Book audio CD holds ``capacity_minutes`` (80 min); a book needs duration ÷ capacity.
A book always needs at least one disc.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

DiscKind = Literal["mp3", "audio"]
MEBIBYTE = 1024 * 1024


@dataclass(frozen=True)
class DiscCapacity:
    kind: DiscKind = "mp3"
    capacity_mb: int = 700
    capacity_minutes: int = 80

    def __post_init__(self) -> None:
        if self.kind not in ("mp3", "audio"):
            raise ValueError(f"unknown disc kind {self.kind!r}")
        if self.capacity_mb <= 0 or self.capacity_minutes <= 0:
            raise ValueError("a disc's capacity must be positive")


@dataclass(frozen=True)
class AudioMeasure:
    """What the catalogue knows about a book's audio; any of it may be missing (None)."""

    duration_seconds: float | None = None
    total_bytes: int | None = None
    bitrate_bps: int | None = None  # average bits per second over the tracks


def estimated_bytes(audio: AudioMeasure) -> int | None:
    if audio.total_bytes:
        return audio.total_bytes
    if audio.duration_seconds and audio.bitrate_bps:
        return math.ceil(audio.duration_seconds * audio.bitrate_bps / 8)
    return None


def disc_count(audio: AudioMeasure, capacity: DiscCapacity) -> int:
    """Discs needed for one copy of the book (at least 1)."""
    if capacity.kind == "audio":
        seconds = audio.duration_seconds or 0
        return max(1, math.ceil(seconds / (capacity.capacity_minutes * 60)))
    size = estimated_bytes(audio) or 0
    return max(1, math.ceil(size / (capacity.capacity_mb * MEBIBYTE)))
