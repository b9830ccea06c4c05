"""Items at the desk (``/staff/desk/items``): find copies by barcode, by their catalogue record (the record
key holds are placed on: "isbn:978…", "cn:…", or a bare ISBN) or by title; add copies to a record (barcode,
branch, shelf location, material type, price); change the status of chosen copies (missing, withdrawn,
damaged, in repair, back on the shelf); print their Code 128 barcode labels as one PDF.

The catalogue links to these pages (``?record_key=…&title=…``): the catalogue may use circulation, never
the other way round, so the record's key and title arrive in the link.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from wtforms import DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app import audit, clock, db
from app.accounts.auth import staff_required
from app.circulation import service
from app.circulation.desk import slips
from app.circulation.desk.ops_common import DESK_ROLES, desk_branch, download, storable
from app.circulation.desk.ops_models import ItemShelf
from app.circulation.models import Branch, CircLibrary, Hold, Item, Loan
from app.circulation.money import Money
from app.circulation.service_common import policy_of
from app.circulation.service_holds import route_item
from app.errors import DomainError
from app.navigation import StaffLink, add_staff_link
from app.platform.bodies import is_storable

SEARCH_LIMIT = 50
LABELS_AT_ONCE = 200
# The statuses a desk sets by hand; "lost" is the core's word for a copy missing from the shelf.
STATUS_CHOICES = ("available", "lost", "damaged", "in_repair", "withdrawn")
STATUS_LABELS: dict[str, Any] = {
    "available": _l("Available (back on the shelf)"), "lost": _l("Missing"), "damaged": _l("Damaged"),
    "in_repair": _l("In repair"), "withdrawn": _l("Withdrawn"), "on_loan": _l("On loan"),
    "in_transit": _l("In transit"), "on_hold_shelf": _l("On the hold shelf"),
}
BARCODE = re.compile(r"[A-Za-z0-9\-]{3,40}")
ISBN = re.compile(r"(97[89])?\d{9}[\dXx]")

bp = Blueprint("desk_items", __name__, url_prefix="/staff/desk/items")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_staff_link(StaffLink("desk_items.items_page", _l("Items: copies, statuses, labels"), DESK_ROLES))


# -- the rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyLine:
    item_id: int
    barcode: str
    title: str
    record_key: str
    material_type: str
    status: str
    branch: str
    shelf_location: str
    price: Money


def _key_candidates(query: str) -> list[str]:
    compact = query.replace("-", "").replace(" ", "")
    keys = [query]
    if ISBN.fullmatch(compact):
        keys.append(f"isbn:{compact.upper()}")
    return keys


def find_copies(session: Session, query: str, library_id: int | None) -> list[CopyLine]:
    """Copies whose barcode or record key is ``query`` (a bare ISBN finds "isbn:…"), or whose title
    contains it; one query (branch and shelf joined), at most SEARCH_LIMIT."""
    query = query.strip()
    if not query:
        return []
    pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = (select(Item, Branch.name, ItemShelf.shelf_location)
            .join(Branch, Branch.id == Item.home_branch_id)
            .outerjoin(ItemShelf, ItemShelf.item_id == Item.id)
            .where(or_(Item.barcode == query, Item.record_key.in_(_key_candidates(query)),
                       func.lower(Item.title).like(pattern, escape="\\")))
            .order_by(Item.title, Item.record_key, Item.barcode).limit(SEARCH_LIMIT))
    if library_id is not None:
        stmt = stmt.where(Item.library_id == library_id)
    return [CopyLine(item.id, item.barcode, item.title, item.record_key, item.material_type, item.status, branch,
                     shelf or "", Money(item.replacement_price_minor, item.currency))
            for item, branch, shelf in session.execute(stmt)]


def add_copy(session: Session, *, library: CircLibrary, barcode: str, record_key: str, title: str, branch_id: int,
             shelf_location: str, material_type: str, price: Money, now: datetime, actor: Any) -> Item:
    """A new copy of the record ``record_key`` on the shelf of ``branch_id``. Refused: barcode-taken (409),
    not-found (branch of another library), unknown-material-type and invalid-amount (422). The title
    defaults to the one the record's other copies carry."""
    if session.scalar(select(Item.id).where(Item.barcode == barcode)) is not None:
        raise DomainError("barcode-taken", 409, barcode=barcode)
    branch = session.get(Branch, branch_id)
    if branch is None or branch.library_id != library.id:
        raise DomainError("not-found", 404, what="branch")
    if not title:
        title = session.scalar(select(Item.title).where(Item.record_key == record_key).limit(1)) or ""
    if not title:
        raise DomainError("title-needed", 422)
    item = service.add_item(session, library_code=library.code, barcode=barcode, record_key=record_key,
                            title=title[:300], material_type=material_type, home_branch=f"{library.code}/{branch.code}",
                            replacement_price=price, now=now)
    if shelf_location:
        session.add(ItemShelf(item_id=item.id, shelf_location=shelf_location[:100], updated_at=now))
        session.flush()
    audit.record(session, actor=actor, action="circulation.item_added", now=now, record_type="circ_item",
                 record_id=item.id, record_key=record_key, branch=branch.code, material_type=material_type)
    return item


@dataclass(frozen=True)
class StatusResult:
    barcode: str
    done: bool
    reason: str = ""  # on_loan | held | unchanged | other_library | not_found
    routed_to: str = ""  # back on the shelf: "shelf", "hold_shelf" or "transit"


def change_status(session: Session, barcodes: list[str], status: str, *, library_id: int | None, now: datetime,
                  actor: Any) -> list[StatusResult]:
    """Set ``status`` on each chosen copy. A copy on loan, in transit or on the hold shelf is refused (check
    it in first). A copy that comes back (available) is routed like a return: a waiting hold claims it."""
    if status not in STATUS_CHOICES:
        raise DomainError("unknown-status", 422, status=status)
    items = {i.barcode: i for i in session.scalars(select(Item).where(Item.barcode.in_(barcodes)))}
    open_loans = set(session.scalars(select(Loan.item_id).where(
        Loan.item_id.in_([i.id for i in items.values()]), Loan.status == "open")))
    held = set(session.scalars(select(Hold.item_id).where(
        Hold.item_id.in_([i.id for i in items.values()]), Hold.state.in_(("in_transit", "ready")))))
    results = []
    for barcode in barcodes:
        item = items.get(barcode)
        if item is None or (library_id is not None and item.library_id != library_id):
            results.append(StatusResult(barcode, False, "not_found"))
        elif item.status == "on_loan" or item.id in open_loans:
            results.append(StatusResult(barcode, False, "on_loan"))
        elif item.status in ("in_transit", "on_hold_shelf") or item.id in held:
            results.append(StatusResult(barcode, False, "held"))
        elif item.status == status:
            results.append(StatusResult(barcode, False, "unchanged"))
        else:
            old = item.status
            routed = ""
            if status == "available":
                branch = session.get(Branch, item.current_branch_id)
                assert branch is not None
                routed = route_item(session, item, branch, now=now, actor=actor).action
            else:
                item.status = status
                session.flush()
            audit.record(session, actor=actor, action="circulation.item_status", now=now, record_type="circ_item",
                         record_id=item.id, old=old, new=status)
            results.append(StatusResult(barcode, True, routed_to=routed))
    return results


# -- forms ------------------------------------------------------------------------------------------


REQUIRED = DataRequired(message=_l("This field is required."))


class FindForm(FlaskForm):
    class Meta:
        csrf = False  # a search: changes nothing

    q = StringField(_l("Barcode, record key, ISBN or title"), [REQUIRED, Length(max=200), storable],
                    description=_l("Scan the barcode, or type the record key (isbn:978…), an ISBN or part of the title."))


def _cents(_form: Any, field: Any) -> None:
    if isinstance(field.data, Decimal) and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError(_l("Give the price with at most two decimals."))


class AddCopyForm(FlaskForm):
    record_key = StringField(_l("Record key"), [REQUIRED, Length(max=80), storable],
                             description=_l("The catalogue record the copy belongs to, e.g. isbn:9789510000000."))
    title = StringField(_l("Title"), [Optional(), Length(max=300), storable],
                        description=_l("Leave empty to use the title of the record's other copies."))
    barcode = StringField(_l("Barcode"), [REQUIRED, Regexp(BARCODE.pattern + "$", message=_l(
        "A barcode has 3–40 letters, digits or hyphens."))])
    branch = SelectField(_l("Branch"), coerce=int, validate_choice=True)
    shelf_location = StringField(_l("Shelf location"), [Optional(), Length(max=100), storable])
    material_type = SelectField(_l("Material type"), validate_choice=True)
    price = DecimalField(_l("Replacement price"), [REQUIRED, NumberRange(min=0, max=100000, message=_l(
        "Give a price between 0 and 100000.")), _cents], places=None, description=_l("In the library's currency, e.g. 24.90."))


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=[(s, STATUS_LABELS[s]) for s in STATUS_CHOICES])


class LabelsForm(FlaskForm):
    pass


# -- pages ------------------------------------------------------------------------------------------


def _library() -> CircLibrary | None:
    return service.desk_library(db.session(), current_user._get_current_object())


def _add_form(library: CircLibrary | None, formdata: Any = None) -> AddCopyForm:
    form = AddCopyForm(formdata=formdata) if formdata is not None else AddCopyForm(
        formdata=None, record_key=request.args.get("record_key", "")[:80],
        title=request.args.get("title", "")[:300])
    staff = current_user._get_current_object()
    branches = service.desk_branches(db.session(), staff)
    form.branch.choices = [(b.id, b.name) for b in branches]
    desk = service.desk_branch(db.session(), staff)
    if formdata is None and desk is not None:
        form.branch.data = desk.id
    materials = sorted(policy_of(library).material_types) if library is not None else []
    form.material_type.choices = [(m, m.replace("_", " ")) for m in materials]
    return form


def _page(find: FindForm, add: AddCopyForm, status_form: StatusForm, copies: list[CopyLine] | None,
          results: list[StatusResult] | None = None, code: int = 200) -> Any:
    branch = desk_branch()
    db.session().commit()  # nothing is left to write: end the transaction before rendering
    return render_template("desk/items/index.html", find=find, add=add, status_form=status_form, copies=copies,
                           results=results, labels=STATUS_LABELS, labels_form=LabelsForm(),
                           labels_at_once=LABELS_AT_ONCE, branch=branch), code


@bp.get("")
@db.read_only
@staff_required(*DESK_ROLES)
def items_page() -> Any:
    library = _library()
    find = FindForm(request.args)
    copies = None
    query = request.args.get("q") or request.args.get("record_key")
    if query is not None:
        if not request.args.get("q"):
            find = FindForm(formdata=None, q=query[:200])
        if find.validate() or (not request.args.get("q") and len(query) <= 200 and is_storable(query)):
            copies = find_copies(db.session(), find.q.data or query, library.id if library else None)
    return _page(find, _add_form(library), StatusForm(formdata=None), copies)


@bp.post("/add")
@staff_required(*DESK_ROLES)
def add() -> Any:
    library = _library()
    form = _add_form(library, request.form)
    if library is None:
        flash(_("Your staff account is not linked to a library: copies cannot be added."), "error")
        return redirect(url_for("desk_items.items_page"))
    if not form.validate():
        return _page(FindForm(formdata=None), form, StatusForm(formdata=None), None, code=422)
    try:
        item = add_copy(db.session(), library=library, barcode=form.barcode.data.strip(),
                        record_key=form.record_key.data.strip(), title=(form.title.data or "").strip(),
                        branch_id=form.branch.data, shelf_location=(form.shelf_location.data or "").strip(),
                        material_type=form.material_type.data,
                        price=Money.parse(str(form.price.data), policy_of(library).currency), now=clock.now(),
                        actor=current_user._get_current_object())
    except DomainError as error:
        db.session().rollback()
        messages = {"barcode-taken": (form.barcode, _("This barcode is already on another copy.")),
                    "title-needed": (form.title, _("The record has no copies yet: give the title."))}
        field, text = messages.get(error.code, (form.record_key, _("The copy could not be added.")))
        field.errors = [*field.errors, text]
        return _page(FindForm(formdata=None), form, StatusForm(formdata=None), None, code=409 if error.status == 409
                     else 422)
    db.session().commit()
    flash(_("Copy %(barcode)s of “%(title)s” added.", barcode=item.barcode, title=item.title), "success")
    return redirect(url_for("desk_items.items_page", record_key=item.record_key))


def _chosen() -> list[str]:
    return [b for b in dict.fromkeys(request.form.getlist("item")) if BARCODE.fullmatch(b)][:LABELS_AT_ONCE]


@bp.post("/status")
@staff_required(*DESK_ROLES)
def change() -> Any:
    form = StatusForm()
    back = request.form.get("q", "")[:200]
    chosen = _chosen()
    if not form.validate() or not chosen:
        flash(_("Choose the copies and one of the statuses listed."), "error")
        return redirect(url_for("desk_items.items_page", q=back or None))
    library = _library()
    results = change_status(db.session(), chosen, form.status.data, library_id=library.id if library else None,
                            now=clock.now(), actor=current_user._get_current_object())
    db.session().commit()
    find = FindForm(formdata=None, q=back)
    copies = find_copies(db.session(), back, library.id if library else None) if back else None
    return _page(find, _add_form(library), StatusForm(formdata=None), copies, results)


@bp.post("/labels")
@staff_required(*DESK_ROLES)
def labels() -> Any:
    form = LabelsForm()
    chosen = _chosen()
    if not form.validate() or not chosen:
        flash(_("Choose the copies whose labels to print."), "error")
        return redirect(url_for("desk_items.items_page", q=request.form.get("q", "")[:200] or None))
    library = _library()
    query = select(Item).where(Item.barcode.in_(chosen)).order_by(Item.barcode)
    if library is not None:
        query = query.where(Item.library_id == library.id)
    items = list(db.session().scalars(query))
    db.session().commit()
    if not items:
        flash(_("Choose the copies whose labels to print."), "error")
        return redirect(url_for("desk_items.items_page"))
    return download(slips.barcode_labels(items), "labels.pdf", "application/pdf", inline=True)
