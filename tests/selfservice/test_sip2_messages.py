"""A kiosk's session over real TCP on loopback: every message the server answers, as a terminal sees it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.accounts.models import Patron
from app.circulation import service
from app.circulation.models import FeeEntry, Hold, Item, Loan
from app.circulation.money import Money
from tests.selfservice.sipclient import STAMP, SipClient, field, fields

ADULT, CHILD = "2000000001", "2000000005"


def patron_info(card: str, pin: str | None = "1234", summary: str = " " * 10) -> str:
    return f"63001{STAMP}{summary}AOlumme|AA{card}|" + (f"AD{pin}|" if pin is not None else "")


def checkout(card: str, barcode: str, pin: str = "1234") -> str:
    return f"11NN{STAMP}{STAMP}AOlumme|AA{card}|AB{barcode}|AC|AD{pin}|"


def checkin(barcode: str, *, book_drop: bool = False) -> str:
    return f"09{'Y' if book_drop else 'N'}{STAMP}{STAMP}APmikkeli|AOlumme|AB{barcode}|AC|"


def patron_id(sm: Any, card: str) -> int:
    with sm.begin() as s:
        return s.scalar(select(Patron.id).where(Patron.card_number == card))


def test_status_and_login(sip: Any) -> None:
    with SipClient(sip.port) as kiosk:
        assert kiosk.send(f"990{'032'}2.00").startswith("98")  # 99 is answered before login
        assert kiosk.login(password="wrong-password") == "940"
        assert kiosk.login(branch="savonlinna") == "940"  # a terminal logs in at its own branch only
        assert kiosk.login() == "941"
        status = kiosk.send("9900302.00")
        assert status.startswith("98YYY")
        supported = field(status, "BX")
        assert supported is not None and len(supported) == 16 and supported.count("Y") == 15
        assert field(status, "AO") == "lumme" and field(status, "AN") == "mikkeli"


def test_nothing_but_login_and_status_is_answered_before_login(sip: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.send_raw((patron_info(ADULT) + "\r").encode())  # ignored: no answer
        assert kiosk.send("9900302.00").startswith("98")  # the next answer is the status's


def test_patron_information_with_summary_lists_and_pin(sip: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        answer = kiosk.send(patron_info(ADULT, summary="  Y       "))  # the charged items
        assert answer.startswith("64")
        got = fields(answer)
        assert got["BL"] == ["Y"] and got["CQ"] == ["Y"] and got["AE"] == ["Maija Meikäläinen"]
        assert sorted(got["AU"]) == ["L0001", "L0004"]
        assert answer[2 + 14 + 3 + 18 + 8:][:4] == "0002"  # charged items count
        assert "AT" not in got  # overdue items not asked for
        wrong = kiosk.send(patron_info(ADULT, pin="9999", summary="  Y       "))
        assert field(wrong, "CQ") == "N" and "AU" not in fields(wrong)  # no lists for a wrong PIN
        assert field(wrong, "AF") == "Väärä kortin numero tai PIN-koodi." or field(wrong, "AF")
        unknown = kiosk.send(patron_info("2999999999"))
        assert field(unknown, "BL") == "N"


def test_checkout_renewal_refusal_and_a_checkin_that_fills_a_hold(sip: Any, sm: Any, now: Any) -> None:
    """The issue's kiosk session: checkout of two items — one refused for a hold — and a checkin that fills one."""
    child = patron_id(sm, CHILD)
    with sm.begin() as s:  # the child reserves the title whose free copy is L0002: it goes in transit to Mikkeli
        result = service.place_hold(s, patron_id=child, record_key="isbn:9789510000011", now=now,
                                    actor="test", pickup_branch="lumme/mikkeli")
        assert result.hold is not None
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        lent = kiosk.send(checkout(ADULT, "L0006"))
        assert lent.startswith("121") and field(lent, "AH", ) and field(lent, "AJ") == "Pikalaina: Uusin dekkari"
        refused = kiosk.send(checkout(ADULT, "L0002"))
        assert refused.startswith("120")
        assert field(refused, "AF")  # the core's refusal, in the terminal's language
        wrong_pin = kiosk.send(checkout(ADULT, "L0003", pin="9999"))
        assert wrong_pin.startswith("120")
        back = kiosk.send(checkin("L0002"))  # the copy arrives at Mikkeli: it fills the child's hold here
        assert back.startswith("101") and field(back, "CV") == "01" and field(back, "CT") == ""
        child = patron_id(sm, CHILD)
        with sm.begin() as s:
            hold = s.scalar(select(Hold).where(Hold.patron_id == child))
            assert hold.state == "ready"
        assert (hold.hold_identifier or str(hold.id)) in (field(back, "AF") or "")
        renewed = kiosk.send(checkout(ADULT, "L0006"))  # the patron has it already: a renewal
        assert renewed.startswith("12") and renewed[3] in "YN"


def test_checkin_reports_return_date_fine_and_transit(sip: Any, sm: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        back = kiosk.send(checkin("L0004"))  # the overdue DVD (40 days, 14-day loan)
        assert back.startswith("101")
        assert field(back, "AA") == ADULT and field(back, "CR") == "20261123"
        assert field(back, "BV") == "5.20" and field(back, "BH") == "EUR"  # 26 days × 0.20
        adult = patron_id(sm, ADULT)
        with sm.begin() as s:
            fines = s.scalars(select(FeeEntry).where(FeeEntry.patron_id == adult)).all()
            assert [f.amount_minor for f in fines] == [520]
        again = kiosk.send(checkin("L0004"))
        assert again.startswith("101") and "AA" not in fields(again)
        transit = kiosk.send(checkin("L0005"))  # home Savonlinna, held by the adult's hold? routed to its pickup
        assert transit.startswith("10")
        unknown = kiosk.send(checkin("NOPE"))
        assert unknown.startswith("100")


def test_renew_renew_all_item_information_and_end_session(sip: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        one = kiosk.send(f"29NN{STAMP}{STAMP}AOlumme|AA{ADULT}|AD1234|ABL0001|")
        assert one.startswith("301Y") and field(one, "AH")
        not_theirs = kiosk.send(f"29NN{STAMP}{STAMP}AOlumme|AA{ADULT}|AD1234|ABL0003|")
        assert not_theirs.startswith("300")
        everything = kiosk.send(f"65{STAMP}AOlumme|AA{ADULT}|AD1234|")
        assert everything.startswith("661")
        assert int(everything[3:7]) + int(everything[7:11]) == 2
        info = kiosk.send(f"17{STAMP}AOlumme|ABL0001|")
        assert info.startswith("1804") and field(info, "AJ") == "Tuntematon sotilas" and field(info, "AH")
        shelf = kiosk.send(f"17{STAMP}AOlumme|ABL0006|")
        assert shelf.startswith("1803") and field(shelf, "CF") == "0"
        bye = kiosk.send(f"35{STAMP}AOlumme|AA{ADULT}|")
        assert bye.startswith("36Y")


def test_hold_place_and_cancel(sip: Any, sm: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        placed = kiosk.send(f"15+{STAMP}AOlumme|AA{CHILD}|AD1234|ABL0001|")
        assert placed.startswith("161Y")  # a free copy (L0002) is taken at once: on its way, no queue
        assert field(placed, "BS") == "mikkeli" and field(placed, "AJ") == "Tuntematon sotilas"
        twice = kiosk.send(f"15+{STAMP}AOlumme|AA{CHILD}|AD1234|ABL0001|")
        assert twice.startswith("160")
        cancelled = kiosk.send(f"15-{STAMP}AOlumme|AA{CHILD}|AD1234|ABL0001|")
        assert cancelled.startswith("161")
    child = patron_id(sm, CHILD)
    with sm.begin() as s:
        states = s.scalars(select(Hold.state).where(Hold.patron_id == child)).all()
        assert states == ["cancelled"]


def test_fee_paid_never_overpays(sip: Any, sm: Any, now: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        kiosk.send(checkin("L0004"))  # registers a 5.20 fine
        too_much = kiosk.send(f"37{STAMP}0400EURAOlumme|AA{ADULT}|AD1234|BV5.21|")
        assert too_much.startswith("38N")
        garbage = kiosk.send(f"37{STAMP}0400EURAOlumme|AA{ADULT}|AD1234|BVlots|")
        assert garbage.startswith("38N")
        wrong_type = kiosk.send(f"37{STAMP}0700EURAOlumme|AA{ADULT}|AD1234|BV1.00|")  # no replacement fee
        assert wrong_type.startswith("38N")
        cheque = kiosk.send(f"37{STAMP}0409EURAOlumme|AA{ADULT}|AD1234|BV1.00|")  # no such payment type
        assert cheque.startswith("38N") and field(cheque, "AF")
        part = kiosk.send(f"37{STAMP}0401EURAOlumme|AA{ADULT}|AD1234|BV2.00|BKtx-1|")  # VISA
        assert part.startswith("38Y") and field(part, "BK") == "tx-1"
        rest = kiosk.send(f"37{STAMP}0100EURAOlumme|AA{ADULT}|AD1234|BV3.20|")
        assert rest.startswith("38Y")
    adult = patron_id(sm, ADULT)
    with sm.begin() as s:
        assert service.outstanding_debits(s, adult) == []
        assert service.patron_account_summary(s, adult, now=now).balance == Money(0, "EUR")


def test_block_patron_and_enable(sip: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        blocked = kiosk.send(f"01Y{STAMP}AOlumme|ALCard retained|AA{ADULT}|")
        assert blocked.startswith("24") and blocked[2] == "Y" and blocked[6] == "Y"  # charge denied, card lost
        assert kiosk.send(checkout(ADULT, "L0006")).startswith("120")
        status = kiosk.send(f"23001{STAMP}AOlumme|AA{ADULT}|AD1234|")
        assert status.startswith("24Y") and field(status, "BL") == "Y" and field(status, "CQ") == "Y"
        enabled = kiosk.send(f"25{STAMP}AOlumme|AA{ADULT}|AD1234|")
        assert enabled.startswith("26 ") and enabled[6] == " "
        assert kiosk.send(checkout(ADULT, "L0006")).startswith("121")


def test_patron_status_flags_follow_the_core(sip: Any, sm: Any, now: Any) -> None:
    with sm.begin() as s:  # a fee over Lumme's billing-ban threshold
        service.charge_damaged(s, item_barcode="L0001", now=now, actor="test", amount=Money(5000, "EUR"))
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        status = kiosk.send(f"23001{STAMP}AOlumme|AA{ADULT}|AD1234|")
        flags = status[2:16]
        assert flags[0] == "Y" and flags[1] == "Y" and flags[3] == "Y"  # charge, renewal, hold denied
        assert flags[10] == "Y" and flags[11] == "Y"  # excessive outstanding fines and fees
        assert flags[4] == " "  # the card is not lost
        assert field(status, "BV") == "50.00"
        refused = kiosk.send(checkout(ADULT, "L0006"))
        assert refused.startswith("120") and field(refused, "AF")


def test_item_checkout_of_another_library_and_unknown_items(sip: Any, sm: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        assert kiosk.send(checkout(ADULT, "O0001")).startswith("120")  # OUTI's item: unknown here
        assert kiosk.send(checkout("2000000002", "L0006")).startswith("120")  # OUTI's patron
    with sm.begin() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == "L0006")) == "available"
        assert s.scalar(select(Loan.id).join(Item).where(Item.barcode == "L0006")) is None
