"""The desk's scan path stays lean: a checkout writes its loan in one INSERT (the notice day included, no
read of notices a new loan cannot have had), a return reads no row it has just written, and routing a
returned copy asks for its holds once — with the same answers as before."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from app import db
from app.circulation import service
from app.circulation.models import Hold, Loan
from tests.circulation.helpers import borrower, item

pytestmark = pytest.mark.usefixtures("desk")


def counted(app: Any, sm: Any, work: Any) -> tuple[Any, list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any, seen: list[str] = statements) -> None:
        verb = statement.split()[0].upper() if statement.split() else ""
        table = re.search(r"(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement)
        seen.append(f"{verb} {table.group(1) if table else ''}".strip())

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        with sm.begin() as s:
            result = work(s)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return result, statements


def test_checkout_and_return_with_a_waiting_hold(app, sm, now):
    with sm.begin() as s:
        first, second = borrower(s, now, "lumme"), borrower(s, now, "lumme")
        barcode = item(s, now, "lumme", record_key="isbn:42")
    loan_id, statements = counted(app, sm, lambda s: service.checkout(
        s, patron_id=first, item_barcode=barcode, branch="mikkeli", now=now, actor="t").loan.id)
    assert [x for x in statements if x.startswith(("INSERT", "UPDATE circ_loans"))] == ["INSERT circ_loans"]
    assert not any("circ_notices_sent" in x for x in statements)
    with sm.begin() as s:
        loan = s.get(Loan, loan_id)
        assert loan.next_notice_on == loan.due_at.date() + timedelta(days=7)  # Lumme: the first notice at 7 d [001]
        placed = service.place_hold(s, patron_id=second, record_key="isbn:42", now=now, actor="t")
        assert placed.hold.state == "waiting"
    result, statements = counted(app, sm, lambda s: service.checkin(
        s, item_barcode=barcode, branch="mikkeli", now=now + timedelta(days=3), actor="t"))
    assert result.routing.action == "hold_shelf"
    routing = statements[:statements.index("UPDATE circ_items")]  # up to claiming the copy for the hold
    assert routing.count("SELECT circ_holds") == 1 and routing.count("SELECT circ_loans") == 1
    with sm.begin() as s:
        loan = s.get(Loan, loan_id)
        assert loan.status == "returned" and loan.return_method == "desk" and loan.next_notice_on is None
        assert s.scalar(select(Hold.state).where(Hold.patron_id == second)) == "ready"
