"""PDF slips printed at the desk (reportlab): the hold slip, whose shelf side carries the hold-shelf
identifier in large type and never the patron's name [001], and the transit slip naming the branch
the copy goes to. Receipt-printer width (80 mm)."""
from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.circulation.models import Branch, Hold, Item
from app.i18n import format_day, format_moment

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


def payment_receipt(record: Any, *, patron_name: str, card_number: str, library: str, branch: str,
                    money: Any) -> bytes:
    """A payment receipt for the receipt printer: what was paid, for which fees, and any refund.
    ``money`` formats an amount (the desk's locale)."""
    lines = [library, branch, "", _("Receipt number: %(number)s", number=record.id),
             format_moment(record.booked_at), _("Patron: %(name)s (card %(card)s)", name=patron_name, card=card_number),
             ""]
    lines += [f"{line.reason}: {money(line.amount)}" for line in record.lines]
    lines += ["", _("Paid: %(amount)s", amount=money(record.amount))]
    if record.means:
        lines.append({"cash": _("In cash"), "card": _("By card")}.get(record.means, record.means))
    if record.refunded.is_positive:
        lines.append(_("Refunded: %(amount)s", amount=money(record.refunded)))
    height = max(HEIGHT, (len(lines) * 14 + 40) * 1.0 + 20 * mm)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH, height), invariant=1, pageCompression=0)
    canvas.setTitle(_("Payment receipt"))
    canvas.setAuthor("Kuulo")
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawCentredString(WIDTH / 2, height - 14 * mm, _("Payment receipt"))
    _lines(canvas, lines, height - 24 * mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def welcome_letter(*, patron_name: str, postal_address: str, card_number: str, library: str, home_branch: str,
                   has_email: bool, issued_on: Any) -> bytes:
    """The welcome letter for a new patron (A4, window-envelope address block): the card number, the
    home branch, how to choose the PIN (never the PIN itself) and where the rules are."""
    from reportlab.lib.pagesizes import A4

    width, height = A4
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    canvas.setTitle(_("Welcome letter"))
    canvas.setAuthor("Kuulo")
    left = 25 * mm
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(left, height - 20 * mm, library)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(width - 70 * mm, height - 20 * mm, format_day(issued_on))
    y = height - 50 * mm  # the address block of a C5/DL window envelope
    for line in [patron_name, *[part.strip() for part in postal_address.splitlines() if part.strip()]][:6]:
        canvas.drawString(left, y, line)
        y -= 5 * mm
    y = height - 100 * mm
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(left, y, _("Welcome to the library, %(name)s!", name=patron_name))
    canvas.setFont("Helvetica", 11)
    y -= 12 * mm
    paragraphs = [
        _("Your library card number is %(card)s.", card=card_number),
        _("Your home library is %(branch)s: holds are picked up there unless you choose another branch.",
          branch=home_branch),
        (_("To log in to the web library and the self-service machines you need a PIN. We have emailed you a "
           "link for choosing it.") if has_email else
         _("To log in to the web library and the self-service machines you need a PIN. Choose it at the "
           "library desk; bring an identity document.")),
        _("The library never asks for your PIN by email or phone."),
        _("The rules of use are on the library's website and at every library desk. Tell us when your "
          "contact details change."),
    ]
    for text in paragraphs:
        words, line = text.split(), ""
        for word in words:
            candidate = f"{line} {word}".strip()
            if canvas.stringWidth(candidate, "Helvetica", 11) > width - 2 * left:
                canvas.drawString(left, y, line)
                y -= 6 * mm
                line = word
            else:
                line = candidate
        canvas.drawString(left, y, line)
        y -= 10 * mm
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
