"""Bans and the questions other domains ask: responsible person, billing ban; premises bans; waivers."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.audit import events
from app.circulation import service
from app.circulation.models import PatronCirculation
from app.circulation.service_common import add_fee
from app.errors import DomainError
from tests import factories
from tests.circulation.helpers import borrower, item, money

pytestmark = pytest.mark.usefixtures("libraries")


def charge(s, now, patron, library, amount):
    add_fee(s, patron_id=patron, library_id=s.get(PatronCirculation, patron).library_id, kind="overdue_fine",
            amount=money(library, amount), reason="t", now=now, actor="t", dedup_key=None)


def test_responsible_person_decision(sm, now):
    adult_birthday = date(1980, 1, 1)
    with sm.begin() as s:
        assert service.responsible_person_decision(s, patron_id=None, birth_date=adult_birthday, now=now).allowed
        minor = service.responsible_person_decision(s, patron_id=None, birth_date=date(2009, 11, 24), now=now)
        assert (minor.reason, minor.details["minimum_age"]) == ("not_adult", 18)
        assert service.responsible_person_decision(s, patron_id=None, birth_date=date(2008, 11, 23), now=now).allowed
        not_borrower = factories.patron(s, now, email="x@test.kuulo").id
        assert service.responsible_person_decision(s, patron_id=not_borrower, birth_date=adult_birthday,
                                                   now=now).allowed
        debtor = borrower(s, now, "tampere")
        charge(s, now, debtor, "tampere", "10.01")
        refused = service.responsible_person_decision(s, patron_id=debtor, birth_date=adult_birthday, now=now)
        assert refused.reason == "billing_ban"  # [001]
        in_collection = borrower(s, now, "lumme")
        s.get(PatronCirculation, in_collection).in_collection = True
        assert service.responsible_person_decision(s, patron_id=in_collection, birth_date=adult_birthday,
                                                   now=now).reason == "billing_ban"
        assert service.is_under_billing_ban(s, in_collection, now)
        assert not service.is_under_billing_ban(s, not_borrower, now)


def test_premises_ban_is_a_decision_of_at_most_30_days(sm, now):
    today = date(2026, 11, 23)
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        with pytest.raises(DomainError) as too_long:
            service.record_premises_ban(s, patron_id=patron, hearing_held_on=today, decided_on=today,
                                        decision_maker="Library director", starts_on=today,
                                        ends_on=today + timedelta(days=30), reason="t", now=now, actor="staff")
        assert too_long.value.params["fields"] == {"ends_on": "longer_than_30_days"}
        with pytest.raises(DomainError) as no_hearing:
            service.record_premises_ban(s, patron_id=patron, hearing_held_on=today, decided_on=today - timedelta(1),
                                        decision_maker="Director", starts_on=today, ends_on=today, reason="t",
                                        now=now, actor="staff")
        assert "hearing_held_on" in no_hearing.value.params["fields"]
        ban = service.record_premises_ban(s, patron_id=patron, hearing_held_on=today - timedelta(days=2),
                                          decided_on=today - timedelta(days=1), decision_maker="Library director",
                                          starts_on=today, ends_on=today + timedelta(days=29), reason="disturbance",
                                          decision_reference="KIR 12/2026", now=now, actor="staff")
        refused = service.checkout(s, patron_id=patron, item_barcode=item(s, now, "lumme"), branch="mikkeli",
                                   now=now, actor="t").decision
        assert (refused.reason, refused.details["until"]) == ("premises_ban", date(2026, 12, 22))
        assert service.patron_account_summary(s, patron, now=now).premises_ban_until == date(2026, 12, 22)
        service.lift_premises_ban(s, ban.id, now=now, actor="staff", reason="rectification granted")
        assert service.checkout(s, patron_id=patron, item_barcode=item(s, now, "lumme"), branch="mikkeli", now=now,
                                actor="t").decision.allowed
        assert [e.action for e in events(s, action="circulation.premises")] == [
            "circulation.premises_ban_lifted", "circulation.premises_ban"]


def test_waiving_a_fee_is_audited_and_lifts_the_ban(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "outi")
        charge(s, now, patron, "outi", "12.00")
        assert service.recompute_billing_ban(s, patron, now=now)
        fee = service.outstanding_debits(s, patron)[0]
        assert str(service.waive_fee(s, fee.id, now=now, actor="staff", reason="library error")) == "12.00 EUR"
        assert not s.get(PatronCirculation, patron).billing_banned
        assert events(s, action="circulation.fee_waived")[0].details["amount"] == "12.00 EUR"


def test_notice_preferences_are_validated(sm, now):
    with sm.begin() as s:
        patron = borrower(s, now, "lumme")
        with pytest.raises(DomainError):
            service.set_notice_preferences(s, patron, now=now, actor="p", advance_notice_days=8)  # 1–7 [001]
        with pytest.raises(DomainError):
            service.set_notice_preferences(s, patron, now=now, actor="p", notice_channels=["pigeon"])
        assert service.set_notice_preferences(s, patron, now=now, actor="p", advance_notice_days=7,
                                              notice_channels=["sms", "email"]).notice_channels == ["sms", "email"]


def test_calendar_history_is_append_only(sm, now):
    with sm.begin() as s:
        branch = service.add_branch(s, library_code="lumme", code="juva", name="Juva")
        service.add_calendar_version(s, branch_id=branch.id, valid_from=date(2020, 1, 1), weekly={"mon": "10:00-16:00"},
                                     now=now, actor="t")
        with pytest.raises(DomainError):  # today is history
            service.add_calendar_version(s, branch_id=branch.id, valid_from=date(2026, 11, 23),
                                         weekly={"tue": "10:00-16:00"}, now=now, actor="t")
        service.add_calendar_version(s, branch_id=branch.id, valid_from=date(2026, 11, 24),
                                     weekly={"tue": "10:00-16:00"}, now=now, actor="t")
