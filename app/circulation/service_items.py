"""Copies in bulk: create or update many items at once, as a catalogue import describes them (barcode,
home branch, record key, title, material type, replacement price, age rating).

``plan_items`` checks every copy against its library's preset with a few queries for the whole batch (the
items by barcode, the branches by code) and says which are refused and why; ``apply_items`` then writes the
accepted ones with one multi-row INSERT and one executemany UPDATE — no ORM object per copy. A caller that
must drop more than the refused copies (the catalogue skips a whole record when one of its copies is
refused) passes the indexes to leave out. Like every service: takes ``session`` and ``now``, never commits.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.circulation.models import Branch, CircLibrary, Item
from app.circulation.money import Money
from app.circulation.presets import load_preset
from app.errors import DomainError

# The columns an import may change on an existing copy (its status, loans and holds are circulation's).
UPDATED = ("record_key", "title", "material_type", "replacement_price_minor", "age_rating", "home_branch_id",
           "current_branch_id")

INSERTED = ("barcode", "record_key", "title", "library_id", "material_type", "age_rating", "is_childrens_material",
            "holdable", "transportable", "replacement_price_minor", "currency", "home_branch_id", "current_branch_id",
            "status")


class ItemUpsert(NamedTuple):
    """One copy as an import describes it. ``material_type`` is used if the library's preset lends it, else
    ``fallback_material_type``; ``price`` is the replacement price as written ("29,90", "29.90", "" = 0)."""

    barcode: str
    home_branch: str  # branch code
    record_key: str
    title: str
    material_type: str = ""
    fallback_material_type: str = ""
    price: str = ""
    age_rating: int | None = None


@dataclass
class ItemPlan:
    """What ``apply_items`` will write: new rows, changed rows (by item id), and the refused copies by their
    index in the list given to ``plan_items``."""

    inserts: dict[int, dict[str, Any]] = field(default_factory=dict)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    unchanged: set[int] = field(default_factory=set)
    refused: dict[int, DomainError] = field(default_factory=dict)


def driver_value(session: Session, column: Any, value: Any) -> Any:
    """``value`` as the driver takes it for ``column`` (its type's bind processing: a UTC datetime becomes
    what SQLite or PostgreSQL stores), for ``insert_rows``; compute it once for a value every row shares."""
    process = column.type.bind_processor(session.get_bind().dialect)
    return process(value) if process else value


def insert_rows(session: Session, table: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Many rows in the session's transaction, with the least work per row: one driver-level executemany on
    SQLite, COPY on PostgreSQL. Values must already be as the driver takes them (JSON as text, datetimes
    through ``driver_value``); column defaults are not applied."""
    if not rows:
        return
    conn = session.connection()
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cursor, \
                cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})",
                         list(rows))


def _branches(session: Session, codes: set[str], library_code: str | None) -> dict[str, list[tuple[Any, ...]]]:
    query = (select(Branch.id, Branch.code, CircLibrary.id, CircLibrary.code, CircLibrary.preset)
             .join(CircLibrary, CircLibrary.id == Branch.library_id).where(Branch.code.in_(sorted(codes))))
    if library_code:
        query = query.where(CircLibrary.code == library_code)
    out: dict[str, list[tuple[Any, ...]]] = {}
    for row in session.execute(query):
        out.setdefault(row[1], []).append(tuple(row))
    return out


def plan_items(session: Session, items: Sequence[ItemUpsert], *, library_code: str | None = None) -> ItemPlan:
    """Check each copy: its branch must exist (once, or once in ``library_code``), its library's preset must
    lend its material type, its price must be money in the library's currency, and a known barcode must
    belong to the same library. The last description of a barcode in the list wins."""
    plan = ItemPlan()
    if not items:
        return plan
    branches = _branches(session, {i.home_branch for i in items}, library_code)
    columns = (Item.id, Item.barcode, Item.library_id, Item.record_key, Item.title, Item.material_type,
               Item.replacement_price_minor, Item.age_rating, Item.home_branch_id, Item.current_branch_id, Item.status)
    existing = {row.barcode: row for row in session.execute(
        select(*columns).where(Item.barcode.in_(sorted({i.barcode for i in items}))))}
    last = {item.barcode: n for n, item in enumerate(items)}
    policies: dict[str, Any] = {}
    prices: dict[tuple[str, str], Money | None] = {}  # the same few prices recur on thousands of copies
    for n, item in enumerate(items):
        found = branches.get(item.home_branch, [])
        if len(found) != 1:
            plan.refused[n] = DomainError("catalogue-unknown-branch" if not found else "branch-ambiguous", 422,
                                          branch=item.home_branch)
            continue
        branch_id, _code, library_id, _library_code, preset = found[0]
        if preset not in policies:
            policies[preset] = load_preset(preset)
        policy = policies[preset]
        lent = policy.material_types
        if item.material_type and item.material_type in lent:
            material = item.material_type
        elif item.fallback_material_type in lent:
            material = item.fallback_material_type
        else:
            plan.refused[n] = DomainError("unknown-material-type", 422,
                                          material_type=item.material_type or item.fallback_material_type)
            continue
        price_key = (item.price, policy.currency)
        if price_key not in prices:
            try:
                prices[price_key] = Money.parse(item.price.replace(",", ".") or "0", policy.currency)
            except ValueError:
                prices[price_key] = None
        price = prices[price_key]
        if price is None:
            plan.refused[n] = DomainError("invalid-amount", 422, currency=policy.currency)
            continue
        old = existing.get(item.barcode)
        if old is not None and old.library_id != library_id:
            plan.refused[n] = DomainError("catalogue-barcode-in-other-library", 422, barcode=item.barcode)
            continue
        if last[item.barcode] != n:
            plan.unchanged.add(n)  # described again later in the list: that one is written
            continue
        wanted = {"record_key": item.record_key, "title": item.title[:300], "material_type": material,
                  "replacement_price_minor": price.minor, "age_rating": item.age_rating}
        if old is None:
            plan.inserts[n] = wanted | {
                "barcode": item.barcode, "library_id": library_id, "currency": price.currency,
                "home_branch_id": branch_id, "current_branch_id": branch_id, "status": "available",
                "is_childrens_material": False, "holdable": True, "transportable": True}
            continue
        row = {k: getattr(old, k) for k in UPDATED}
        new = dict(row) | wanted
        if old.home_branch_id != branch_id:
            if old.status == "available" and old.current_branch_id == old.home_branch_id:
                new["current_branch_id"] = branch_id  # on its old home shelf: it is now at the new home
            new["home_branch_id"] = branch_id
        if new != row:
            plan.updates[n] = new | {"item_id": old.id}
        else:
            plan.unchanged.add(n)
    return plan


def apply_items(session: Session, plan: ItemPlan, *, now: datetime, leave_out: Collection[int] = ()) -> tuple[int, int]:
    """Write the plan's new and changed copies, except those at ``leave_out`` indexes: (created, updated)."""
    skip = set(leave_out)
    created_at = driver_value(session, Item.__table__.c.created_at, now)
    inserts = [tuple(row[k] for k in INSERTED) + (created_at,) for n, row in plan.inserts.items() if n not in skip]
    updates = [{f"new_{k}": v for k, v in row.items()} for n, row in plan.updates.items() if n not in skip]
    insert_rows(session, Item.__table__, (*INSERTED, "created_at"), inserts)
    if updates:
        table = Item.__table__
        session.execute(update(table).where(table.c.id == bindparam("new_item_id"))
                        .values({k: bindparam(f"new_{k}") for k in UPDATED}), updates)
    return len(inserts), len(updates)


def upsert_items(session: Session, items: Sequence[ItemUpsert], *, now: datetime,
                 library_code: str | None = None) -> tuple[int, int, dict[int, DomainError]]:
    """Create or update the copies; refused ones are left out: (created, updated, refused by index)."""
    plan = plan_items(session, items, library_code=library_code)
    created, updated = apply_items(session, plan, now=now)
    return created, updated, plan.refused
