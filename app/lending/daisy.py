"""DAISY 2.02 talking books: the NCC (``ncc.html``) gives the title, creator, narrator and the
headings; each heading points into a SMIL file whose ``<audio src clip-begin>`` says where in which
MP3 it starts. Only what a table of contents needs is read; anything unreadable is skipped, and a
book whose NCC yields no usable heading falls back to the tracks' own chapters.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


@dataclass
class Heading:
    level: int
    text: str = ""
    href: str = ""


@dataclass
class Ncc:
    meta: dict[str, str] = field(default_factory=dict)
    headings: list[Heading] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.meta.get(name.lower(), "").strip()


class _NccParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ncc = Ncc()
        self.current: Heading | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta" and values.get("name"):
            self.ncc.meta[values["name"].lower()] = values.get("content", "")
        elif tag in HEADINGS:
            self.current = Heading(HEADINGS[tag])
        elif tag == "a" and self.current is not None and not self.current.href:
            self.current.href = values.get("href", "")

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.current.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag in HEADINGS and self.current is not None:
            self.current.text = " ".join(self.current.text.split())
            if self.current.text and self.current.href:
                self.ncc.headings.append(self.current)
            self.current = None


def _decode(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):  # DAISY 2.02 books are often Windows-1252
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def find_ncc(folder: Path) -> Path | None:
    return next((p for p in sorted(folder.iterdir()) if p.name.lower() == "ncc.html"), None)


def read_ncc(path: Path) -> Ncc:
    parser = _NccParser()
    parser.feed(_decode(path.read_bytes()))
    parser.close()
    return parser.ncc


def clock_value(text: str) -> float:
    """SMIL clock values: "npt=12.5s", "12.5s", "0:01:02.5", "62.5"."""
    value = text.strip().removeprefix("npt=").strip()
    if value.endswith("ms"):
        return float(value[:-2]) / 1000
    value = value.rstrip("s")
    seconds = 0.0
    for part in value.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _audio_at(smil: ET.Element, fragment: str) -> tuple[str, float] | None:
    """The first audio clip at or after the element with id ``fragment`` (document order)."""
    ordered = list(smil.iter())
    start = next((i for i, el in enumerate(ordered) if el.get("id") == fragment), 0) if fragment else 0
    for el in ordered[start:]:
        if _local(el.tag) == "audio" and el.get("src"):
            try:
                return unquote(el.get("src", "")), clock_value(el.get("clip-begin", "0"))
            except ValueError:
                return unquote(el.get("src", "")), 0.0
    return None


def _load_smil(folder: Path, name: str, cache: dict[str, ET.Element | None]) -> ET.Element | None:
    if name not in cache:
        path = (folder / name).resolve()
        inside = path.parent == folder.resolve()  # SMIL files sit beside the NCC; nothing else is read
        try:
            cache[name] = ET.fromstring(path.read_bytes()) if inside and path.is_file() else None
        except (ET.ParseError, OSError):
            cache[name] = None
    return cache[name]


def toc_from_ncc(folder: Path, ncc: Ncc, track_numbers: dict[str, int]) -> list[dict[str, Any]]:
    """Nested toc entries {"title", "track", "start", "children"} from the NCC headings.

    ``track_numbers`` maps audio file names (case-insensitive) to track numbers.
    """
    by_name = {name.lower(): number for name, number in track_numbers.items()}
    cache: dict[str, ET.Element | None] = {}
    flat: list[tuple[int, dict[str, Any]]] = []
    for heading in ncc.headings:
        target, _, fragment = heading.href.partition("#")
        target = unquote(target)
        clip: tuple[str, float] | None = None
        if target.lower().endswith(".smil"):
            smil = _load_smil(folder, target, cache)
            clip = _audio_at(smil, fragment) if smil is not None else None
        elif target.lower() in by_name:  # a heading pointing straight at an audio file (#t=…)
            match = re.match(r"t=([\d.:]+)", fragment)
            clip = (target, clock_value(match.group(1)) if match else 0.0)
        if clip is None or clip[0].lower() not in by_name:
            continue
        flat.append((heading.level, {"title": heading.text, "track": by_name[clip[0].lower()],
                                     "start": round(clip[1], 3), "children": []}))
    return nest(flat)


def nest(flat: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Headings with levels → a tree: an h2 after an h1 becomes the h1's child."""
    root: list[dict[str, Any]] = []
    stack: list[tuple[int, dict[str, Any]]] = []
    for level, entry in flat:
        while stack and stack[-1][0] >= level:
            stack.pop()
        (stack[-1][1]["children"] if stack else root).append(entry)
        stack.append((level, entry))
    return root
