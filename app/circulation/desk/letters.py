"""The letters queue at the desk (``/staff/desk/letters``): notices that go by post — letters by the rules
go to the postal address on file, and with no address on file they still join this queue with an address
block telling staff to look the address up (``service_notices``) — printed as one PDF batch per day, one
letter a page with the address in the envelope window (C5/E5 window envelope, SFS 2487 / DIN 5008 place).

Printing a day's batch marks its letters printed (the outbox's "sent" for letters) in the same
transaction, once: a letter joins one batch only (a conditional UPDATE of its status and the batch-letter
primary key), so printing twice, or two desks at once, never marks a letter twice nor puts it in two
batches. A printed batch is reprinted from its own list of letters, changing nothing.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit, clock, db
from app.accounts.auth import staff_required
from app.circulation.desk.ops_common import DESK_ROLES, desk_branch, download, staff
from app.circulation.desk.ops_models import LetterBatch, LetterBatchLetter
from app.navigation import StaffLink, add_staff_link
from app.notify.models import OutboxMessage

DEFAULT_TIMEZONE = "Europe/Helsinki"
BATCHES_SHOWN = 30
LETTERS_PER_BATCH = 2000
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
BOLD_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf")
# The address window of a C5/E5 window envelope: 20 mm from the left, its top 45 mm from the top, 90 × 40 mm.
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH, WINDOW_LINES = 20 * mm, 45 * mm, 90 * mm, 6
MARGIN = 20 * mm

bp = Blueprint("desk_letters", __name__, url_prefix="/staff/desk/letters")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_staff_link(StaffLink("desk_letters.letters_page", _l("Letters queue: print the day's letters"),
                             (*DESK_ROLES, "librarian")))


# -- the rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    pending: int


def _zone() -> str:
    branch = desk_branch()
    return branch.timezone if branch is not None else DEFAULT_TIMEZONE


def _bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def pending_days(session: Session, timezone: str) -> list[Day]:
    """The days (local dates of their creation) with letters waiting to be printed, oldest first."""
    created = session.scalars(select(OutboxMessage.created_at).where(
        OutboxMessage.channel == "letter", OutboxMessage.status == "pending"))
    zone = ZoneInfo(timezone)
    counts: dict[date, int] = {}
    for moment in created:
        day = moment.astimezone(zone).date()
        counts[day] = counts.get(day, 0) + 1
    return [Day(day, count) for day, count in sorted(counts.items())]


def print_batch(session: Session, day: date, *, timezone: str, now: datetime, actor: Any) -> LetterBatch | None:
    """Put the letters of ``day`` still waiting into one new batch and mark them printed; None when none wait
    (already printed: the caller shows the existing batch)."""
    start, end = _bounds(day, timezone)
    candidates = list(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.channel == "letter", OutboxMessage.status == "pending", OutboxMessage.created_at >= start,
        OutboxMessage.created_at < end).order_by(OutboxMessage.created_at, OutboxMessage.id).limit(LETTERS_PER_BATCH)))
    claimed = []
    for message_id in candidates:  # one conditional UPDATE each: a letter another desk took is skipped
        done = session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                           OutboxMessage.status == "pending")
                               .values(status="printed", sent_at=now).execution_options(synchronize_session=False))
        if done.rowcount == 1:
            claimed.append(message_id)
    if not claimed:
        return None
    batch = LetterBatch(day=day, letter_count=len(claimed), printed_at=now, printed_by=audit.actor_label(actor))
    session.add(batch)
    session.flush()
    session.add_all([LetterBatchLetter(message_id=m, batch_id=batch.id, position=i) for i, m in enumerate(claimed)])
    session.flush()
    audit.record(session, actor=actor, action="letter.batch_printed", now=now, record_type="letter_batch",
                 record_id=batch.id, day=day.isoformat(), letters=len(claimed))
    return batch


def latest_batch_of(session: Session, day: date) -> LetterBatch | None:
    return session.scalar(select(LetterBatch).where(LetterBatch.day == day)
                          .order_by(LetterBatch.id.desc()).limit(1))


def recent_batches(session: Session) -> list[LetterBatch]:
    return list(session.scalars(select(LetterBatch).order_by(LetterBatch.printed_at.desc(), LetterBatch.id.desc())
                                .limit(BATCHES_SHOWN)))


def batch_letters(session: Session, batch_id: int) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).join(
        LetterBatchLetter, LetterBatchLetter.message_id == OutboxMessage.id).where(
        LetterBatchLetter.batch_id == batch_id).order_by(LetterBatchLetter.position)))


# -- the PDF ----------------------------------------------------------------------------------------


def _font(paths: tuple[str, ...], name: str, fallback: str) -> str:
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    for path in paths:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont(name, path))
            return name
    return fallback


def letters_pdf(letters: list[OutboxMessage], *, title: str) -> bytes:
    """One letter a page (a long letter continues on the next): the recipient's block in the envelope
    window, the date, the subject in bold, the text. Unicode fonts (Czech, Finnish, Swedish letters)."""
    regular = _font(FONTS, "KuuloLetter", "Helvetica")
    bold = _font(BOLD_FONTS, "KuuloLetterBold", "Helvetica-Bold")
    width, height = A4
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=0)
    canvas.setTitle(title)
    canvas.setAuthor("Kuulo")
    canvas.setCreator("Kuulo")
    for letter in letters:
        with force_locale(letter.language or "fi"):
            continued = _("(continued)")
        y = height - WINDOW_TOP
        canvas.setFont(regular, 11)
        for line in letter.recipient.splitlines()[:WINDOW_LINES]:
            for part in simpleSplit(line, regular, 11, WINDOW_WIDTH)[:2]:
                canvas.drawString(WINDOW_LEFT, y, part)
                y -= 13
        canvas.drawRightString(width - MARGIN, height - WINDOW_TOP, letter.created_at.date().isoformat())
        y = height - 100 * mm
        canvas.setFont(bold, 12)
        for part in simpleSplit(letter.subject, bold, 12, width - 2 * MARGIN):
            canvas.drawString(MARGIN, y, part)
            y -= 15
        y -= 6
        canvas.setFont(regular, 10.5)
        for paragraph in letter.body.splitlines():
            for part in simpleSplit(paragraph, regular, 10.5, width - 2 * MARGIN) or [""]:
                if y < MARGIN:
                    canvas.showPage()
                    canvas.setFont(regular, 9)
                    canvas.drawString(MARGIN, height - MARGIN, continued)
                    canvas.setFont(regular, 10.5)
                    y = height - MARGIN - 20
                canvas.drawString(MARGIN, y, part)
                y -= 13.5
        canvas.showPage()
    if not letters:
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# -- pages ------------------------------------------------------------------------------------------


class PrintForm(FlaskForm):
    pass


@bp.get("")
@db.read_only
@staff_required(*DESK_ROLES, "librarian")
def letters_page() -> Any:
    session = db.session()
    timezone = _zone()
    days, batches = pending_days(session, timezone), recent_batches(session)
    branch = desk_branch()
    session.commit()
    return render_template("desk/letters/index.html", days=days, batches=batches, form=PrintForm(), branch=branch,
                           timezone=timezone)


def _day_arg(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        abort(404)


@bp.post("/<day>/print")
@staff_required(*DESK_ROLES, "librarian")
def print_day(day: str) -> Any:
    wanted = _day_arg(day)
    if not PrintForm().validate():
        flash(_("The form had expired: try again."), "error")
        return redirect(url_for("desk_letters.letters_page"))
    session = db.session()
    batch = print_batch(session, wanted, timezone=_zone(), now=clock.now(), actor=staff())
    if batch is None:  # printed already (a second click, another desk): the batch as it was printed
        batch = latest_batch_of(session, wanted)
        if batch is None:
            session.commit()
            flash(_("No letters of that day wait for printing."), "error")
            return redirect(url_for("desk_letters.letters_page"))
    session.commit()
    return redirect(url_for("desk_letters.batch_pdf", batch_id=batch.id))


@bp.get("/batches/<int:batch_id>.pdf")
@db.read_only
@staff_required(*DESK_ROLES, "librarian")
def batch_pdf(batch_id: int) -> Any:
    session = db.session()
    batch = session.get(LetterBatch, batch_id)
    if batch is None:
        abort(404)
    letters = batch_letters(session, batch.id)
    session.commit()
    body = letters_pdf(letters, title=_("Letters of %(day)s", day=batch.day.isoformat()))
    return download(body, f"letters-{batch.day.isoformat()}-{batch.id}.pdf", "application/pdf", inline=True)
