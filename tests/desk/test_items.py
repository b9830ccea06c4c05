"""Items at the desk: find copies by barcode, record key or ISBN; add copies to a record; change the status of
chosen copies (in repair: not lent, the hold waits and is filled when it comes back); Code 128 labels."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.audit import AuditEvent
from app.circulation import service
from app.circulation.desk.ops_models import ItemShelf
from app.circulation.models import Branch, Hold, Item
from tests.circulation.helpers import borrower, item
from tests.desk.conftest import login

pytestmark = pytest.mark.usefixtures("desk")


def copy(sm: Any, now: Any, **kw: Any) -> str:
    with sm.begin() as s:
        return item(s, now, "lumme", **kw)


def mikkeli(sm: Any) -> int:
    with sm.begin() as s:
        return s.scalar(select(Branch.id).where(Branch.code == "mikkeli"))


def add(client: Any, sm: Any, **extra: Any) -> Any:
    data = {"record_key": "isbn:9789510000001", "title": "Sinuhe egyptiläinen", "barcode": "L-000777",
            "branch": str(mikkeli(sm)), "shelf_location": "Aikuisten romaanit, W", "material_type": "book",
            "price": "24.90", **extra}
    return client.post("/staff/desk/items/add", data=data)


def test_a_copy_added_to_a_record_is_found_by_isbn_and_lends(client, sm, now):
    login(client, "clerk@test.kuulo")
    page = client.get("/staff/desk/items?record_key=isbn:9789510000001&title=Sinuhe")
    assert page.status_code == 200 and 'value="Sinuhe"' in page.text  # the catalogue's link fills the form
    resp = add(client, sm)
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert "Copy L-000777 of “Sinuhe egyptiläinen” added." in page.text
    assert "Aikuisten romaanit, W" in page.text and "24,90" in page.text.replace("24.90", "24,90")
    found = client.get("/staff/desk/items?q=978-951-000000-1")
    assert "L-000777" in found.text and "1 copy found." in found.text
    # A second copy takes the record's title when none is given.
    assert add(client, sm, barcode="L-000778", title="").status_code == 302
    with sm.begin() as s:
        second = s.scalar(select(Item).where(Item.barcode == "L-000778"))
        assert second.title == "Sinuhe egyptiläinen" and second.replacement_price_minor == 2490
        assert s.get(ItemShelf, second.id).shelf_location == "Aikuisten romaanit, W"
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "circulation.item_added")) is not None
        patron = borrower(s, now, "lumme")
        assert service.checkout(s, patron_id=patron, item_barcode="L-000777", branch="mikkeli", now=now,
                                actor="test").loan is not None


def test_a_taken_barcode_or_a_bad_price_is_refused_in_words(client, sm, now):
    taken = copy(sm, now)
    login(client, "clerk@test.kuulo")
    resp = add(client, sm, barcode=taken)
    assert resp.status_code == 409 and "This barcode is already on another copy." in resp.text
    resp = add(client, sm, price="12.345")
    assert resp.status_code == 422 and "Give the price with at most two decimals." in resp.text
    resp = add(client, sm, material_type="spaceship", barcode="L-1\x00")
    assert resp.status_code == 422 and "There is a problem" in resp.text
    resp = add(client, sm, barcode="L-000900", title="", record_key="isbn:9789510009999")
    assert resp.status_code == 422 and "The record has no copies yet: give the title." in resp.text


def test_in_repair_is_not_lent_keeps_holds_waiting_and_fills_them_when_back(client, sm, now):
    barcode = copy(sm, now, record_key="isbn:9789510000002")
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
    login(client, "clerk@test.kuulo")
    page = client.post("/staff/desk/items/status", data={"item": barcode, "status": "in_repair", "q": barcode})
    assert page.status_code == 200 and f"{barcode}:\n      saved." in page.text and "In repair" in page.text
    with sm.begin() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == barcode)) == "in_repair"
        refused = service.checkout(s, patron_id=patron, item_barcode=barcode, branch="mikkeli", now=now, actor="t")
        assert not refused.decision.allowed and refused.decision.reason == "item_not_available"
        placed = service.place_hold(s, patron_id=patron, record_key="isbn:9789510000002", now=now, actor="t")
        assert placed.decision.allowed and placed.hold.state == "waiting" and placed.hold.item_id is None
    page = client.post("/staff/desk/items/status", data={"item": barcode, "status": "available", "q": barcode})
    assert "A hold waits for it here: put it on the hold shelf" in page.text
    with sm.begin() as s:
        hold = s.scalar(select(Hold).where(Hold.patron_id == patron))
        assert hold.state == "ready" and s.scalar(select(Item.status).where(Item.barcode == barcode)) == "on_hold_shelf"


def test_a_copy_on_loan_keeps_its_status_and_missing_is_lost(client, sm, now):
    lent, shelf = copy(sm, now), copy(sm, now)
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        service.checkout(s, patron_id=patron, item_barcode=lent, branch="mikkeli", now=now, actor="t")
    login(client, "clerk@test.kuulo")
    page = client.post("/staff/desk/items/status", data={"item": [lent, shelf], "status": "lost"})
    assert "not changed: the copy is on loan. Check it in first." in page.text
    with sm.begin() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == lent)) == "on_loan"
        assert s.scalar(select(Item.status).where(Item.barcode == shelf)) == "lost"
    assert client.post("/staff/desk/items/status", data={"item": shelf, "status": "sold"}).status_code == 302


def test_labels_are_one_pdf_with_a_code128_label_per_chosen_copy(client, sm, now):
    first, second = copy(sm, now), copy(sm, now)
    login(client, "clerk@test.kuulo")
    resp = client.post("/staff/desk/items/labels", data={"item": [first, second, "<script>"]})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF") and resp.data.count(b"/Type /Page\n") + resp.data.count(b"/Type /Page ") >= 2
    assert first.encode() in resp.data and second.encode() in resp.data
    assert client.post("/staff/desk/items/labels", data={}).status_code == 302


def test_patrons_and_other_staff_cannot_use_the_items_pages(client, sm, now):
    assert client.get("/staff/desk/items").status_code == 302
    resp = client.post("/staff/desk/items/add", data={})
    assert resp.status_code in (302, 400)
