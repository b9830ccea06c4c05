"""Holds: pickup branch, queue position, routing on return, the hold shelf, expiry fee, cancelling."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.circulation import service
from app.circulation.models import Hold, Item, PatronCirculation
from app.notify.models import OutboxMessage
from tests.circulation.helpers import borrower, count_outbox, fees, item, lend
from tests.circulation.jobs_helpers import nightly

pytestmark = pytest.mark.usefixtures("libraries")


def test_queue_positions_and_default_pickup_at_the_home_branch(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "tampere", branch="arvo")
        lend(s, now, "tampere", borrower(s, now, "tampere"), barcode, branch="arvo")
        first, second = borrower(s, now, "tampere"), borrower(s, now, "tampere")
        a = service.place_hold(s, patron_id=first, item_barcode=barcode, now=now, actor="p")
        b = service.place_hold(s, patron_id=second, item_barcode=barcode, now=now + timedelta(minutes=1), actor="p")
        assert (a.decision.details["queue_position"], b.decision.details["queue_position"]) == (1, 2)
        assert s.get(Hold, a.hold.id).pickup_branch_id == s.get(PatronCirculation, first).home_branch_id  # [003]
        assert service.place_hold(s, patron_id=first, item_barcode=barcode, now=now,
                                  actor="p").decision.reason == "already_on_hold"
        lines = service.patron_account_summary(s, second, now=now).holds
        assert [(h.state, h.queue_position) for h in lines] == [("waiting", 2)]


def test_return_routes_the_copy_to_the_pickup_branch_then_the_hold_shelf(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "lumme", branch="savonlinna")
        borrower_id = borrower(s, now, "lumme")
        lend(s, now - timedelta(days=3), "lumme", borrower_id, barcode, branch="savonlinna")
        waiting = borrower(s, now, "lumme")
        service.set_notice_preferences(s, waiting, now=now, actor="p", hold_nickname="Kirjamato")
        hold = service.place_hold(s, patron_id=waiting, item_barcode=barcode, pickup_branch="mikkeli", now=now,
                                  actor="p").hold
        returned = service.checkin(s, item_barcode=barcode, branch="savonlinna", now=now, actor="t")
        assert (returned.routing.action, returned.routing.branch_code) == ("transit", "mikkeli")
        arrived = service.checkin(s, item_barcode=barcode, branch="mikkeli", now=now + timedelta(days=1), actor="t")
        assert arrived.routing.action == "hold_shelf"
        hold = s.get(Hold, hold.id)
        assert hold.state == "ready" and hold.hold_identifier == "Kirjamato"  # the patron's nickname [001]
        assert hold.last_pickup_day == date(2026, 12, 1)  # 7 days (CHOSEN), an open day
        message = s.scalar(select(OutboxMessage).where(OutboxMessage.key == f"circ:hold-ready:{hold.id}"))
        assert "Kirjamato" in message.body and message.channel == "email"
        other = borrower(s, now, "lumme")
        assert service.checkout(s, patron_id=other, item_barcode=barcode, branch="mikkeli", now=now,
                                actor="t").decision.reason == "item_not_available"
        assert service.checkout(s, patron_id=waiting, item_barcode=barcode, branch="mikkeli", now=now,
                                actor="t").decision.allowed
        assert s.get(Hold, hold.id).state == "collected"


def test_a_free_copy_is_taken_at_once_from_whichever_branch_has_one(sm, now):
    with sm.begin() as s:
        item(s, now, "lumme", branch="savonlinna", record_key="isbn:1")
        patron = borrower(s, now, "lumme")
        hold = service.place_hold(s, patron_id=patron, record_key="isbn:1", now=now, actor="p").hold
        assert hold.state == "in_transit" and s.get(Item, hold.item_id).status == "in_transit"


def test_express_loans_cannot_be_reserved(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "lumme", material="express_loan")
        assert service.place_hold(s, patron_id=borrower(s, now, "lumme"), item_barcode=barcode, now=now,
                                  actor="p").decision.reason == "not_holdable"


def test_uncollected_hold_costs_1_eur_at_tampere_and_the_copy_goes_to_the_next(sm, now, ctx):
    with sm.begin() as s:
        barcode = item(s, now, "tampere")
        lend(s, now - timedelta(days=5), "tampere", borrower(s, now, "tampere"), barcode)
        first, second = borrower(s, now, "tampere"), borrower(s, now, "tampere")
        hold1 = service.place_hold(s, patron_id=first, item_barcode=barcode, now=now, actor="p").hold.id
        hold2 = service.place_hold(s, patron_id=second, item_barcode=barcode, now=now, actor="p").hold.id
        service.checkin(s, item_barcode=barcode, branch="linna", now=now, actor="t")
        assert s.get(Hold, hold1).state == "ready"
    nightly(ctx, sm, now + timedelta(days=9))
    with sm.begin() as s:
        assert s.get(Hold, hold1).state == "expired"
        assert fees(s, first) == [("uncollected_hold", 100)]  # [003]
        assert s.get(Hold, hold2).state == "ready"
    nightly(ctx, sm, now + timedelta(days=9))  # twice: nothing more
    with sm.begin() as s:
        assert fees(s, first) == [("uncollected_hold", 100)]
        assert count_outbox(s, "circ:hold-ready:") == 2


def test_patron_cannot_cancel_a_ready_hold_the_library_can_for_free(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "tampere")
        patron = borrower(s, now, "tampere")
        hold = service.place_hold(s, patron_id=patron, item_barcode=barcode, now=now, actor="p").hold
        service.checkin(s, item_barcode=barcode, branch="linna", now=now, actor="t")
        assert s.get(Hold, hold.id).state == "ready"
        refused = service.cancel_hold(s, hold.id, by="patron", patron_id=patron, now=now, actor="p")
        assert refused.reason == "ready_hold_cancelled_by_library"  # [003]
        assert service.cancel_hold(s, hold.id, by="library", now=now, actor="staff").allowed
        assert fees(s, patron) == []
        assert s.get(Item, hold.item_id).status == "available"
        visible = service.patron_account_summary(s, patron, now=now + timedelta(days=2)).holds
        gone = service.patron_account_summary(s, patron, now=now + timedelta(days=4)).holds
        assert [h.state for h in visible] == ["cancelled"] and gone == []  # visible a few days [003]


def test_patron_cancels_a_waiting_hold(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "outi")
        lend(s, now, "outi", borrower(s, now, "outi"), barcode)
        patron = borrower(s, now, "outi")
        hold = service.place_hold(s, patron_id=patron, item_barcode=barcode, now=now, actor="p").hold
        assert service.cancel_hold(s, hold.id, by="patron", patron_id=patron, now=now, actor="p").allowed
        assert service.cancel_hold(s, hold.id, by="patron", patron_id=patron, now=now,
                                   actor="p").reason == "hold_not_active"


def test_billing_ban_refuses_holds(sm, now):
    with sm.begin() as s:
        barcode = item(s, now, "tampere")
        patron = borrower(s, now, "tampere")
        s.get(PatronCirculation, patron).in_collection = True
        assert service.place_hold(s, patron_id=patron, item_barcode=barcode, now=now,
                                  actor="p").decision.reason == "billing_ban"
