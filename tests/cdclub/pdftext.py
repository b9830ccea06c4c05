"""Text lines of a PDF: with pypdf when it is installed, otherwise from reportlab's uncompressed
content streams (the labels PDF is written without page compression, one Tj per line)."""
from __future__ import annotations

import io
import re

_STRING_SHOW = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> str:
    def repl(m: re.Match[bytes]) -> bytes:
        code = m.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(repl, raw).decode("latin-1")


def text_lines(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF"), "not a complete PDF"
    try:
        from pypdf import PdfReader
    except ImportError:
        return [_unescape(m.group(1)) for m in _STRING_SHOW.finditer(pdf)]
    reader = PdfReader(io.BytesIO(pdf))
    return [line for page in reader.pages for line in (page.extract_text() or "").splitlines()]


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))
