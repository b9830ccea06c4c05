"""Mailing labels for a run: address lines as Posti expects them, a CSV file and a printable PDF.

Posti's address order: the recipient's name; a c/o or other extra line; the street address (or PO
box); the postal code and post office on one line, the post office in capitals; for mail abroad
the country, in capitals and in English, on the last line. The sender (where undeliverable CDs
return) goes top left in small type, with the free-postage marking for literature for the blind
(UPU "Cécogrammes"; Posti: "Näkövammaisten kirjoitus"). The PDF is an A4 sheet of 3 × 7 labels
(70 × 42.3 mm, the common self-adhesive sheet); printing may start at any label of a part-used sheet.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import TimeStamp
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
              "country", "club", "period", "titles", "discs", "hours")


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


@dataclass(frozen=True)
class CsvFormat:
    """``standard``: comma-separated, decimal point. ``fi``: what Finnish spreadsheet programs open
    directly: semicolon-separated, decimal comma."""

    delimiter: str = ","
    decimal: str = "."

    def number(self, value: float) -> str:
        return f"{value:.1f}".replace(".", self.decimal)


CSV_FORMATS = {"standard": CsvFormat(), "fi": CsvFormat(delimiter=";", decimal=",")}


def labels_csv(run: ProductionRun, recipients: Sequence[RunRecipient], *, club_name: str,
               fmt: CsvFormat = CSV_FORMATS["standard"]) -> bytes:
    """UTF-8 with a byte order mark, so spreadsheet programs show ä and ö right."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=fmt.delimiter, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    discs = sum(t.discs for t in run.titles)
    hours = sum(t.duration_seconds for t in run.titles) / 3600
    for number, r in enumerate(recipients, start=1):
        writer.writerow([number, r.recipient_name, r.address_extra, r.street_address, r.postal_code,
                         r.city.upper(), r.country, country_name(r.country) if r.country != HOME_COUNTRY else "",
                         club_name, run.period, len(run.titles), discs, fmt.number(hours)])
    return out.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class Sheet:
    """What every label of a run carries besides its recipient, and where printing starts."""

    sender: tuple[str, ...] = ()
    marking: str = ""
    start_at: int = 1  # the first free label of a part-used sheet (1 = top left)
    title: str = ""
    created: datetime | None = None  # the PDF's creation date (now); None only in tests of layout


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


def _canvas(buffer: io.BytesIO, sheet: Sheet, subject: str) -> Any:
    """A PDF with true metadata: its title, creator Kuulo and the moment it was made."""
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0, invariant=1)
    if sheet.created is not None:  # reportlab takes the wall clock or a fixed 2000-01-01: give it ours
        stamp = TimeStamp(invariant=1)
        utc = sheet.created.astimezone(UTC)
        stamp.t, stamp.lt = utc.timestamp(), utc.timetuple()
        stamp.YMDhms = tuple(utc.timetuple())[:6]
        pdf._doc._timeStamp = stamp
    pdf.setTitle(sheet.title)
    pdf.setAuthor("Kuulo")
    pdf.setCreator("Kuulo")
    pdf.setProducer("Kuulo")
    pdf.setSubject(subject)
    return pdf


def labels_pdf(run: ProductionRun, recipients: Sequence[RunRecipient], sheet: Sheet) -> bytes:
    """One label per recipient, in the given order, from label ``sheet.start_at`` of the first sheet on;
    each with the sender and the free-postage marking. Uncompressed so the text stays searchable."""
    blocks = [address_lines(r) for r in recipients]
    ref = reference(run)
    font = _font_for([ref, sheet.marking, *sheet.sender] + [line for block in blocks for line in block])
    buffer = io.BytesIO()
    pdf = _canvas(buffer, sheet, ref)
    per_page = COLUMNS * ROWS
    skip = min(max(sheet.start_at, 1), per_page) - 1
    for index, lines in enumerate(blocks, start=skip):
        if index > skip and index % per_page == 0:
            pdf.showPage()
        slot = index % per_page
        _draw_label(pdf, font, slot % COLUMNS, slot // COLUMNS, ref, lines, sheet)
    if not blocks:
        pdf.setFont(font, 10)
        pdf.drawString(20 * mm, A4[1] - 30 * mm, ref)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw_label(pdf: Any, font: str, column: int, row: int, ref: str, lines: list[str], sheet: Sheet) -> None:
    """Top: the sender in small type (Posti: top left); then the marking; the recipient below them."""
    left = column * LABEL_W + 6 * mm
    width = LABEL_W - 10 * mm
    top = A4[1] - TOP_MARGIN - row * LABEL_H - 5 * mm
    pdf.setFont(font, 6)
    y = top
    for line in sheet.sender[:3]:
        pdf.drawString(left, y, _fit(pdf, line, font, 6, width))
        y -= 2.6 * mm
    if sheet.marking:
        pdf.setFont(font if font != "Helvetica" else "Helvetica-Bold", 6.5)
        pdf.drawString(left, y, _fit(pdf, sheet.marking, font, 6.5, width))
        y -= 2.8 * mm
    pdf.setFont(font, 5.5)
    pdf.drawString(left, y, _fit(pdf, ref, font, 5.5, width))
    pdf.setFont(font, 10)
    y -= 5 * mm
    for line in lines:
        pdf.drawString(left, y, _fit(pdf, line, font, 10, width))
        y -= 4.4 * mm


def packing_slips_pdf(run: ProductionRun, recipients: Sequence[RunRecipient], sheet: Sheet, *,
                      heading: str, labels: dict[str, str]) -> bytes:
    """One A4 page per recipient: which titles and how many discs go into the envelope, with the label
    number to match the envelope. ``labels`` are the translated column words."""
    titles = list(run.titles)
    texts = [heading, *labels.values()] + [t.title for t in titles] + [t.author for t in titles]
    blocks = [address_lines(r) for r in recipients]
    font = _font_for(texts + [line for block in blocks for line in block])
    buffer = io.BytesIO()
    pdf = _canvas(buffer, sheet, reference(run))
    for number, lines in enumerate(blocks, start=1):
        y = A4[1] - 25 * mm
        pdf.setFont(font, 14)
        pdf.drawString(20 * mm, y, _fit(pdf, heading, font, 14, 170 * mm))
        y -= 8 * mm
        pdf.setFont(font, 11)
        pdf.drawString(20 * mm, y, f"{labels['label']} {number}")
        y -= 8 * mm
        for line in lines:
            pdf.drawString(20 * mm, y, _fit(pdf, line, font, 11, 170 * mm))
            y -= 5.5 * mm
        y -= 6 * mm
        pdf.setFont(font, 10)
        pdf.drawString(20 * mm, y, labels["title"])
        pdf.drawString(150 * mm, y, labels["discs"])
        y -= 6 * mm
        for t in titles:
            pdf.drawString(20 * mm, y, _fit(pdf, f"{t.title} ({t.author})" if t.author else t.title, font, 10,
                                            125 * mm))
            pdf.drawString(150 * mm, y, str(t.discs))
            y -= 5.5 * mm
        y -= 3 * mm
        pdf.drawString(20 * mm, y, labels["total"])
        pdf.drawString(150 * mm, y, str(sum(t.discs for t in titles)))
        pdf.showPage()
    if not blocks:
        pdf.setFont(font, 10)
        pdf.drawString(20 * mm, A4[1] - 30 * mm, heading)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fit(pdf: Any, text: str, font: str, size: float, width: float) -> str:
    """Shorten a line that would run off the label (the CSV keeps it whole)."""
    while text and pdf.stringWidth(text, font, size) > width:
        text = text[:-4] + "..." if len(text) > 4 else ""
    return text
