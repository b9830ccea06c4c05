"""Mailing labels for a run: address lines as Posti expects them, a CSV file and a printable PDF.

Posti's address order: the recipient's name; a c/o or other extra line; the street address (or PO
box); the postal code and post office on one line, the post office in capitals; for mail abroad
the country, in capitals and in English, on the last line. The PDF is an A4 sheet of 3 × 7 labels
(70 × 42.3 mm, the common self-adhesive sheet).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from babel import Locale
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from app.cdclub.models import ClubMember, ProductionRun, RunRecipient

HOME_COUNTRY = "FI"
COLUMNS, ROWS = 3, 7
LABEL_W, LABEL_H = 70 * mm, 42.3 * mm
TOP_MARGIN = (A4[1] - ROWS * LABEL_H) / 2
UNICODE_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "/usr/share/fonts/dejavu/DejaVuSans.ttf")
CSV_FIELDS = ("label", "name", "address_extra", "street_address", "postal_code", "city", "country_code",
              "country", "club", "period", "titles", "discs")


def country_name(code: str) -> str:
    return str(Locale("en").territories.get(code.upper(), code)).upper()


def address_lines(who: RunRecipient | ClubMember) -> list[str]:
    lines = [who.recipient_name, who.address_extra, who.street_address,
             f"{who.postal_code} {who.city.upper()}".strip()]
    if who.country and who.country.upper() != HOME_COUNTRY:
        lines.append(country_name(who.country))
    return [line for line in lines if line]


def reference(run: ProductionRun) -> str:
    """A small line above the address so the packer knows which envelope this is."""
    discs = sum(t.discs for t in run.titles)
    return f"{run.club.code} {run.period} · {len(run.titles)} / {discs} CD"


def labels_csv(run: ProductionRun, recipients: Sequence[RunRecipient]) -> bytes:
    """UTF-8 with a byte order mark, so spreadsheet programs show ä and ö right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    discs = sum(t.discs for t in run.titles)
    for number, r in enumerate(recipients, start=1):
        writer.writerow([number, r.recipient_name, r.address_extra, r.street_address, r.postal_code,
                         r.city.upper(), r.country, country_name(r.country) if r.country != HOME_COUNTRY else "",
                         run.club.code, run.period, len(run.titles), discs])
    return out.getvalue().encode("utf-8-sig")


def _font_for(texts: Sequence[str]) -> str:
    """Helvetica (no embedding) when every text fits its Latin-1 encoding, else an embedded DejaVu Sans."""
    try:
        for text in texts:
            text.encode("latin-1")
        return "Helvetica"
    except UnicodeEncodeError:
        pass
    for path in UNICODE_FONTS:
        if Path(path).is_file():
            if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("DejaVuSans", path))
            return "DejaVuSans"
    return "Helvetica"  # unprintable characters show as boxes; the CSV still has them


def labels_pdf(run: ProductionRun, recipients: Sequence[RunRecipient], *, title: str = "") -> bytes:
    """One label per recipient, in the given order; uncompressed so the text stays searchable."""
    blocks = [address_lines(r) for r in recipients]
    ref = reference(run)
    font = _font_for([ref] + [line for block in blocks for line in block])
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0, invariant=1)
    pdf.setTitle(title or f"{run.club.code} {run.period}")
    pdf.setAuthor("Kuulo")
    pdf.setSubject(ref)
    per_page = COLUMNS * ROWS
    for index, lines in enumerate(blocks):
        if index and index % per_page == 0:
            pdf.showPage()
        slot = index % per_page
        _draw_label(pdf, font, slot % COLUMNS, slot // COLUMNS, ref, lines)
    if not blocks:
        pdf.setFont(font, 10)
        pdf.drawString(20 * mm, A4[1] - 30 * mm, ref)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw_label(pdf: Any, font: str, column: int, row: int, ref: str, lines: list[str]) -> None:
    left = column * LABEL_W + 6 * mm
    top = A4[1] - TOP_MARGIN - row * LABEL_H - 7 * mm
    pdf.setFont(font, 6.5)
    pdf.drawString(left, top, ref)
    pdf.setFont(font, 10)
    y = top - 6 * mm
    for line in lines:
        pdf.drawString(left, y, _fit(pdf, line, font, 10, LABEL_W - 10 * mm))
        y -= 4.6 * mm


def _fit(pdf: Any, text: str, font: str, size: float, width: float) -> str:
    """Shorten a line that would run off the label (the CSV keeps it whole)."""
    while text and pdf.stringWidth(text, font, size) > width:
        text = text[:-4] + "..." if len(text) > 4 else ""
    return text
