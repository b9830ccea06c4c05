"""Reports at the desk (``/staff/desk/reports``): loans, returns, holds placed, fees charged and fees paid per
branch and per day or month over a chosen period, and the overdue list; each as a table, a CSV download,
and a chart (inline SVG with its title and description, the table beside it).

Each figure is one grouped query: rows are counted (or summed) per branch and per UTC hour in SQL, and the
hours are folded into the branch's local days or months here — exact for the whole-hour offsets of the
libraries' timezones and the same on SQLite and PostgreSQL. Fees count at the branch of their loan, and at
the patron's home branch when they have no loan (a card fee, a payment).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session
from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, ValidationError

from app import clock, db
from app.accounts.auth import staff_required
from app.accounts.models import Patron
from app.circulation.desk.ops_common import DESK_ROLES, branches, desk_branch, download, library
from app.circulation.models import Branch, CircLibrary, FeeEntry, Hold, Item, Loan, PatronCirculation
from app.circulation.money import Money
from app.circulation.service_common import policy_of
from app.navigation import StaffLink, add_staff_link

MAX_DAYS = 366
OVERDUE_LIMIT = 500
FIGURES = ("loans", "returns", "holds", "fees_charged", "fees_paid")
FIGURE_LABELS: dict[str, Any] = {"loans": _l("Loans"), "returns": _l("Returns"), "holds": _l("Holds placed"),
                                 "fees_charged": _l("Fees charged"), "fees_paid": _l("Fees paid")}

bp = Blueprint("desk_reports", __name__, url_prefix="/staff/desk/reports")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_staff_link(StaffLink("desk_reports.reports_page", _l("Circulation reports"), DESK_ROLES))


# -- the figures ------------------------------------------------------------------------------------


@dataclass
class Row:
    period: str  # "2026-12-03" or "2026-12"
    branch_id: int
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))


@dataclass
class Report:
    start: date
    end: date
    grain: str
    currency: str
    branch_names: dict[int, str]
    rows: list[Row]
    totals: dict[str, int]
    by_period: list[tuple[str, dict[str, int]]]


def _hour(session: Session, column: Any) -> Any:
    """The UTC hour of a UTCDateTime column as text "YYYY-MM-DD HH" (stored naive UTC on both backends)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM-DD HH24'"))  # a literal: GROUP BY matches SELECT
    return func.strftime(literal_column("'%Y-%m-%d %H'"), column)


def _grouped(session: Session, stmt: Select[Any], hour: Any, branch: Any) -> list[tuple[int, str, int]]:
    rows = session.execute(stmt.group_by(branch, hour))
    return [(int(b), str(h), int(v or 0)) for b, h, v in rows if b is not None and h is not None]


def build_report(session: Session, lib: CircLibrary, *, start: date, end: date, grain: str,
                 branch_id: int | None) -> Report:
    """The five figures of ``lib``'s branches (or one branch) from ``start`` to ``end`` (local dates, both
    included), per ``grain`` ("day" or "month"): five grouped queries."""
    names = dict(session.execute(select(Branch.id, Branch.name).where(Branch.library_id == lib.id)).all())
    zones = dict(session.execute(select(Branch.id, Branch.timezone).where(Branch.library_id == lib.id)).all())
    zone = ZoneInfo(next(iter(zones.values()), "Europe/Helsinki"))
    lo = datetime.combine(start, time(0), tzinfo=zone) - timedelta(hours=14)  # widened: each branch folds its own
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone) + timedelta(hours=14)
    wanted = [branch_id] if branch_id is not None else list(names)
    fee_branch = func.coalesce(Loan.branch_id, PatronCirculation.home_branch_id)

    def fees(entry: str) -> Select[Any]:
        amount = func.sum(FeeEntry.amount_minor) if entry == "debit" else -func.sum(FeeEntry.amount_minor)
        stmt = (select(fee_branch, _hour(session, FeeEntry.created_at), amount)
                .outerjoin(Loan, Loan.id == FeeEntry.loan_id)
                .join(PatronCirculation, PatronCirculation.patron_id == FeeEntry.patron_id)
                .where(FeeEntry.library_id == lib.id, FeeEntry.entry == entry, FeeEntry.created_at >= lo,
                       FeeEntry.created_at < hi, fee_branch.in_(wanted)))
        return stmt.where(FeeEntry.kind == "payment") if entry == "credit" else stmt

    figures = {
        "loans": _grouped(session, select(Loan.branch_id, _hour(session, Loan.checked_out_at), func.count())
                          .where(Loan.library_id == lib.id, Loan.checked_out_at >= lo, Loan.checked_out_at < hi,
                                 Loan.branch_id.in_(wanted)), _hour(session, Loan.checked_out_at), Loan.branch_id),
        "returns": _grouped(session, select(Loan.return_branch_id, _hour(session, Loan.returned_at), func.count())
                            .where(Loan.library_id == lib.id, Loan.returned_at >= lo, Loan.returned_at < hi,
                                   Loan.return_branch_id.in_(wanted)), _hour(session, Loan.returned_at),
                            Loan.return_branch_id),
        "holds": _grouped(session, select(Hold.pickup_branch_id, _hour(session, Hold.placed_at), func.count())
                          .where(Hold.library_id == lib.id, Hold.placed_at >= lo, Hold.placed_at < hi,
                                 Hold.pickup_branch_id.in_(wanted)), _hour(session, Hold.placed_at),
                          Hold.pickup_branch_id),
        "fees_charged": _grouped(session, fees("debit"), _hour(session, FeeEntry.created_at), fee_branch),
        "fees_paid": _grouped(session, fees("credit"), _hour(session, FeeEntry.created_at), fee_branch),
    }
    rows: dict[tuple[str, int], Row] = {}
    for figure, values in figures.items():
        for branch, hour, value in values:
            moment = datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
            local = moment.astimezone(ZoneInfo(zones.get(branch, "Europe/Helsinki"))).date()
            if not start <= local <= end:
                continue
            period = local.isoformat() if grain == "day" else local.isoformat()[:7]
            row = rows.setdefault((period, branch), Row(period, branch))
            row.values[figure] += value
    ordered = [rows[key] for key in sorted(rows, key=lambda k: (k[0], names.get(k[1], "")))]
    totals = dict.fromkeys(FIGURES, 0)
    by_period: dict[str, dict[str, int]] = {}
    for row in ordered:
        per = by_period.setdefault(row.period, dict.fromkeys(FIGURES, 0))
        for figure in FIGURES:
            totals[figure] += row.values[figure]
            per[figure] += row.values[figure]
    return Report(start, end, grain, policy_of(lib).currency, names, ordered, totals, sorted(by_period.items()))


@dataclass(frozen=True)
class Overdue:
    branch: str
    title: str
    barcode: str
    due_at: datetime
    days: int
    card_number: str
    name: str


def overdue_list(session: Session, lib: CircLibrary, *, now: datetime, branch_id: int | None) -> list[Overdue]:
    """Open loans past their due time, longest overdue first (one query, at most OVERDUE_LIMIT)."""
    stmt = (select(Branch.name, Item.title, Item.barcode, Loan.due_at, Patron.card_number, Patron.name)
            .select_from(Loan).join(Item, Item.id == Loan.item_id).join(Branch, Branch.id == Loan.branch_id)
            .join(Patron, Patron.id == Loan.patron_id)
            .where(Loan.library_id == lib.id, Loan.status == "open", Loan.due_at < now)
            .order_by(Loan.due_at, Loan.id).limit(OVERDUE_LIMIT))
    if branch_id is not None:
        stmt = stmt.where(Loan.branch_id == branch_id)
    return [Overdue(b, t, bc, due, max(0, (now - due).days), card or "", name or "")
            for b, t, bc, due, card, name in session.execute(stmt)]


# -- output -----------------------------------------------------------------------------------------


def _amount(minor: int, currency: str) -> str:
    return str(Money(minor, currency).to_decimal())


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period", "branch", "loans", "returns", "holds", f"fees_charged_{report.currency}",
                     f"fees_paid_{report.currency}"])
    for row in report.rows:
        writer.writerow([row.period, _safe(report.branch_names.get(row.branch_id, "")), row.values["loans"],
                         row.values["returns"], row.values["holds"], _amount(row.values["fees_charged"], report.currency),
                         _amount(row.values["fees_paid"], report.currency)])
    return out.getvalue()


def overdue_csv(rows: list[Overdue]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["branch", "title", "barcode", "due_at", "days_overdue", "card_number", "name"])
    for r in rows:
        writer.writerow([_safe(r.branch), _safe(r.title), _safe(r.barcode), r.due_at.isoformat(), r.days,
                         _safe(r.card_number), _safe(r.name)])
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def chart_svg(report: Report, *, title: str, description: str, table_id: str) -> Markup:
    """Loans and returns per period as bars (loans solid, returns hatched: not colour alone), with its title
    and description for screen readers, pointing at the table that carries the same numbers."""
    periods = report.by_period
    width, height, left, bottom, top = 640, 260, 44, 40, 16
    peak = max([1] + [max(v["loans"], v["returns"]) for _p, v in periods])
    slot = (width - left - 10) / max(1, len(periods))
    bar = max(1.0, min(18.0, slot / 2 - 2))
    scale = (height - bottom - top) / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="chart-title chart-desc" aria-describedby="{escape(table_id)}" class="report-chart">',
             f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(description)}</desc>',
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
             '<rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#1a5e20" '
             'stroke-width="3"/></pattern></defs>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 6}" y2="{height - bottom}" stroke="#222"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak}</text>',
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="11">0</text>']
    every = max(1, len(periods) // 12)
    for i, (period, values) in enumerate(periods):
        x = left + i * slot + 2
        for j, (figure, fill) in enumerate((("loans", "#0b3d91"), ("returns", "url(#hatch)"))):
            h = values[figure] * scale
            parts.append(f'<rect x="{x + j * (bar + 1):.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{fill}" stroke="#1a1a1a" stroke-width="0.5"/>')
        if i % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="10">{escape(period)}</text>')
    legend_y = height - 8
    parts.append(f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" fill="#0b3d91"/>'
                 f'<text x="{left + 14}" y="{legend_y}" font-size="11">{escape(str(FIGURE_LABELS["loans"]))}</text>'
                 f'<rect x="{left + 110}" y="{legend_y - 9}" width="10" height="10" fill="url(#hatch)" stroke="#1a1a1a"/>'
                 f'<text x="{left + 124}" y="{legend_y}" font-size="11">{escape(str(FIGURE_LABELS["returns"]))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# -- the page ---------------------------------------------------------------------------------------


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a report (GET): changes nothing

    start = DateField(_l("From"), [DataRequired(message=_l("Give a date as 2026-12-01."))])
    end = DateField(_l("To"), [DataRequired(message=_l("Give a date as 2026-12-31."))])
    grain = SelectField(_l("Per"), choices=[("day", _l("Day")), ("month", _l("Month"))], default="day")
    branch = SelectField(_l("Branch"), choices=[("", _l("All branches"))], default="")

    def validate_end(self, field: Any) -> None:
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_l("The end comes before the start."))
            if (field.data - self.start.data).days >= MAX_DAYS:
                raise ValidationError(_l("Choose a period of at most a year."))


@bp.get("")
@db.read_only
@staff_required(*DESK_ROLES)
def reports_page() -> Any:
    session = db.session()
    now = clock.now()
    lib = library()
    here = desk_branch()
    if lib is None and here is not None:
        lib = session.get(CircLibrary, here.library_id)
    choices = [b for b in branches() if lib is not None and b.library_id == lib.id]
    today = now.astimezone(ZoneInfo(here.timezone if here else "Europe/Helsinki")).date()
    form = ReportForm(request.args) if request.args else ReportForm(
        formdata=None, start=today.replace(day=1), end=today, grain="day")
    form.branch.choices = [("", _("All branches"))] + [(str(b.id), b.name) for b in choices]
    report = overdue = None
    status = 200
    if lib is not None and form.validate():
        branch_id = int(form.branch.data) if form.branch.data else None
        report = build_report(session, lib, start=form.start.data, end=form.end.data, grain=form.grain.data,
                              branch_id=branch_id)
        overdue = overdue_list(session, lib, now=now, branch_id=branch_id)
        what = request.args.get("download")
        if what in ("figures", "overdue"):
            session.commit()
            if what == "figures":
                return download(report_csv(report), f"circulation-{report.start}-{report.end}.csv", "text/csv")
            return download(overdue_csv(overdue), f"overdue-{today.isoformat()}.csv", "text/csv")
    elif request.args:
        status = 422
    session.commit()
    chart = None
    if report is not None:
        chart = chart_svg(report, title=_("Loans and returns per day") if report.grain == "day"
                          else _("Loans and returns per month"),
                          description=_("%(loans)d loans and %(returns)d returns from %(start)s to %(end)s; the numbers "
                                        "are in the table next to the chart.", loans=report.totals["loans"],
                                        returns=report.totals["returns"], start=report.start.isoformat(),
                                        end=report.end.isoformat()),
                          table_id="report-table")
    return render_template("desk/reports/index.html", form=form, report=report, overdue=overdue, chart=chart,
                           labels=FIGURE_LABELS, figures=FIGURES, branch=here, no_library=lib is None,
                           query={k: v for k, v in request.args.items() if k != "download"},
                           money_of=lambda minor, currency: Money(minor, currency)), status
