"""PDF slips printed at the desk (reportlab): the hold slip, whose shelf side carries the hold-shelf
identifier in large type and never the patron's name [001], and the transit slip naming the branch
the copy goes to. Receipt-printer width (80 mm)."""
from __future__ import annotations

import io

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.circulation.models import Branch, Hold, Item
from app.i18n import format_day

WIDTH, HEIGHT = 80 * mm, 120 * mm
MARGIN = 6 * mm


def _canvas(buffer: io.BytesIO, title: str) -> Canvas:
    canvas = Canvas(buffer, pagesize=(WIDTH, HEIGHT), invariant=1, pageCompression=0)  # tiny; text stays searchable
    canvas.setTitle(title)
    canvas.setAuthor("Kuulo")
    return canvas


def _fit(canvas: Canvas, text: str, font: str, size: float, y: float) -> None:
    """Draw ``text`` centred, shrinking the type until it fits the slip's width."""
    while size > 8 and canvas.stringWidth(text, font, size) > WIDTH - 2 * MARGIN:
        size -= 1
    canvas.setFont(font, size)
    canvas.drawCentredString(WIDTH / 2, y, text)


def _lines(canvas: Canvas, lines: list[str], y: float, size: float = 10) -> float:
    canvas.setFont("Helvetica", size)
    for line in lines:
        while canvas.stringWidth(line, "Helvetica", size) > WIDTH - 2 * MARGIN and len(line) > 4:
            line = line[:-2] + "…"
        canvas.drawString(MARGIN, y, line)
        y -= size * 1.4
    return y


def hold_slip(hold: Hold, item: Item, pickup: Branch) -> bytes:
    buffer = io.BytesIO()
    canvas = _canvas(buffer, _("Hold slip"))
    _fit(canvas, _("HOLD"), "Helvetica-Bold", 14, HEIGHT - 14 * mm)
    _fit(canvas, hold.hold_identifier or "", "Helvetica-Bold", 40, HEIGHT - 34 * mm)
    _fit(canvas, _("Last pickup day %(day)s", day=format_day(hold.last_pickup_day)), "Helvetica", 12,
         HEIGHT - 46 * mm)
    canvas.setDash(3, 3)
    canvas.line(MARGIN, HEIGHT - 54 * mm, WIDTH - MARGIN, HEIGHT - 54 * mm)
    canvas.setDash()
    _lines(canvas, [item.title, _("Barcode %(barcode)s", barcode=item.barcode),
                    _("Pickup at %(branch)s", branch=pickup.name)], HEIGHT - 62 * mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def transit_slip(hold: Hold, item: Item, destination: Branch, here: Branch | None) -> bytes:
    buffer = io.BytesIO()
    canvas = _canvas(buffer, _("Transit slip"))
    _fit(canvas, _("SEND TO"), "Helvetica-Bold", 14, HEIGHT - 14 * mm)
    _fit(canvas, destination.name, "Helvetica-Bold", 24, HEIGHT - 30 * mm)
    canvas.line(MARGIN, HEIGHT - 38 * mm, WIDTH - MARGIN, HEIGHT - 38 * mm)
    lines = [item.title, _("Barcode %(barcode)s", barcode=item.barcode), _("For a hold (no. %(id)s)", id=hold.id)]
    if here is not None:
        lines.append(_("From %(branch)s", branch=here.name))
    _lines(canvas, lines, HEIGHT - 46 * mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def barcode_labels(items: list[Item]) -> bytes:
    """Spine/cover labels: one 50 × 25 mm label per copy with its Code 128 barcode, the barcode in
    digits and the title (reportlab's barcode module)."""
    from reportlab.graphics.barcode import code128

    width, height = 50 * mm, 25 * mm
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=0)
    canvas.setTitle(_("Barcode labels"))
    canvas.setAuthor("Kuulo")
    for item in items:
        symbol = code128.Code128(item.barcode, barHeight=11 * mm, barWidth=0.3 * mm, humanReadable=False)
        symbol.drawOn(canvas, max(1 * mm, (width - symbol.width) / 2), 10 * mm)
        canvas.setFont("Helvetica", 8)
        canvas.drawCentredString(width / 2, 6.5 * mm, item.barcode)
        title = item.title
        while canvas.stringWidth(title, "Helvetica", 6) > width - 4 * mm and len(title) > 4:
            title = title[:-2] + "…"
        canvas.setFont("Helvetica", 6)
        canvas.drawCentredString(width / 2, 2.5 * mm, title)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
