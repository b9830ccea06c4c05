"""Notice planning per library: OUTI [000], Lumme [001], the Czech library [004]."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.circulation.fines import accrued_fine
from app.circulation.money import Money
from app.circulation.notices import (
    ContactChannels,
    PatronNoticeFacts,
    PlannedNotice,
    notice_fees,
    plan_notices,
)
from app.circulation.policy import ADVANCE_NOTICE_CODE, NoticeStep, Policy
from app.circulation.presets import load_preset

DUE = date(2024, 5, 20)
EMAIL_ONLY = ContactChannels(email=True)
POST_ONLY = ContactChannels(postal_address=True)
EVERYTHING = ContactChannels(email=True, sms=True, postal_address=True)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def adult(contacts: ContactChannels, **extra: object) -> PatronNoticeFacts:
    return PatronNoticeFacts(category="adult", contacts=contacts, **extra)  # type: ignore[arg-type]


def plan(
    policy: Policy,
    patron: PatronNoticeFacts,
    days_after_due: int,
    sent: tuple[str, ...] = (),
    childrens: bool = False,
) -> list[PlannedNotice]:
    return plan_notices(
        due_date=DUE,
        today=DUE + timedelta(days=days_after_due),
        already_sent=sent,
        patron=patron,
        is_childrens_material=childrens,
        policy=policy,
    )


def codes(planned: list[PlannedNotice]) -> list[tuple[str, str]]:
    return [(notice.step_code, notice.channel) for notice in planned]


# -- OUTI [000] -----------------------------------------------------------------------------------


def test_outi_first_notice_at_7_days_costs_1_50() -> None:
    outi = load_preset("outi")
    assert plan(outi, adult(EMAIL_ONLY), 6) == []
    [notice] = plan(outi, adult(EMAIL_ONLY), 7)
    assert (notice.step_code, notice.channel, notice.fee) == ("reminder_1", "email", eur("1.50"))
    assert notice.recipient == "patron" and notice.due_date == DUE


def test_outi_loan_35_days_overdue_has_cost_1_50_plus_3_00() -> None:
    outi = load_preset("outi")
    first = plan(outi, adult(EMAIL_ONLY), 7)
    second = plan(outi, adult(EMAIL_ONLY), 35, sent=("reminder_1",))
    assert codes(second) == [("reminder_2", "email")]
    assert notice_fees(first + second, "EUR") == eur("4.50")
    # A job that first sees the loan at 35 days catches up with both notices.
    assert notice_fees(plan(outi, adult(EMAIL_ONLY), 35), "EUR") == eur("4.50")
    # Nothing already sent is planned again.
    assert plan(outi, adult(EMAIL_ONLY), 60, sent=("reminder_1", "reminder_2")) == []


def test_outi_sends_letters_without_email_and_charges_childrens_loans_too() -> None:
    outi = load_preset("outi")
    assert codes(plan(outi, adult(POST_ONLY), 35)) == [("reminder_1", "letter"), ("reminder_2", "letter")]
    child = PatronNoticeFacts(category="child", contacts=EMAIL_ONLY)
    assert notice_fees(plan(outi, child, 35, childrens=True), "EUR") == eur("4.50")
    # Without email and without an address on file the letters are still planned, marked for staff
    # to find the address: a letter by rule is never dropped [000].
    nowhere = plan(outi, adult(ContactChannels()), 35)
    assert [(n.step_code, n.channel, n.fee, n.address_missing) for n in nowhere] == [
        ("reminder_1", "letter", eur("1.50"), True),
        ("reminder_2", "letter", eur("3.00"), True),
    ]


# -- Lumme [001] ----------------------------------------------------------------------------------


def test_lumme_schedule_email_letter_invoice_collection() -> None:
    lumme = load_preset("lumme")
    patron = adult(EVERYTHING)
    assert codes(plan(lumme, patron, 7)) == [("reminder_1", "email")]
    assert codes(plan(lumme, patron, 14, sent=("reminder_1",))) == [("reminder_2", "letter")]
    assert plan(lumme, patron, 55, sent=("reminder_1", "reminder_2")) == []
    [invoice] = plan(lumme, patron, 56, sent=("reminder_1", "reminder_2"))
    assert (invoice.step_code, invoice.triggers) == ("invoice", "invoice")
    [referral] = plan(lumme, patron, 84, sent=("reminder_1", "reminder_2", "invoice"))
    assert referral.triggers == "collection"


def test_lumme_first_reminder_goes_only_to_patrons_with_email() -> None:
    lumme = load_preset("lumme")
    assert codes(plan(lumme, adult(POST_ONLY), 14)) == [("reminder_2", "letter")]


def test_lumme_childrens_book_20_days_late_pays_only_the_notice_letter_fee() -> None:
    lumme = load_preset("lumme")
    due_at = datetime(2024, 5, 20, 19, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
    daily = accrued_fine(
        due_at=due_at,
        as_of=due_at + timedelta(days=20),
        rules=lumme.rules_for("mikkeli", "child", "book"),
        currency="EUR",
        is_childrens_material=True,
    )
    assert daily == eur("0.00")  # no daily fine for children's material [001]
    child = PatronNoticeFacts(category="child", contacts=EVERYTHING, guardian=EVERYTHING)
    notices = plan(lumme, child, 20, childrens=True)
    # Lumme's notice fees are chosen values: email reminder free, reminder letter 2.00 EUR.
    assert [(n.step_code, n.fee) for n in notices] == [
        ("reminder_1", eur("0.00")),
        ("reminder_2", eur("2.00")),
    ]
    assert notice_fees(notices, "EUR") == eur("2.00")


def test_lumme_childrens_material_invoice_goes_out_without_the_invoicing_fee() -> None:
    lumme = load_preset("lumme")
    child = PatronNoticeFacts(category="child", contacts=EMAIL_ONLY, guardian=POST_ONLY)
    [invoice] = plan(lumme, child, 56, sent=("reminder_1", "reminder_2"), childrens=True)
    assert (invoice.triggers, invoice.recipient, invoice.fee) == ("invoice", "guardian", eur("0.00"))  # [001]
    [adults] = plan(lumme, child, 56, sent=("reminder_1", "reminder_2"), childrens=False)
    assert adults.fee == eur("5.00")  # a child's loan of adult material pays the invoicing fee


def test_lumme_invoice_for_a_child_goes_to_the_guardian() -> None:
    lumme = load_preset("lumme")
    child = PatronNoticeFacts(category="child", contacts=EMAIL_ONLY, guardian=POST_ONLY)
    [invoice] = plan(lumme, child, 56, sent=("reminder_1", "reminder_2"))
    assert (invoice.recipient, invoice.channel) == ("guardian", "letter")


def test_lumme_advance_notice_on_the_days_the_patron_chose() -> None:
    lumme = load_preset("lumme")
    chose_3 = adult(EMAIL_ONLY, advance_notice_days=3)
    assert plan(lumme, chose_3, -4) == []
    assert codes(plan(lumme, chose_3, -3)) == [(ADVANCE_NOTICE_CODE, "email")]
    assert codes(plan(lumme, chose_3, -1)) == [(ADVANCE_NOTICE_CODE, "email")]  # catch-up
    assert plan(lumme, chose_3, -1, sent=(ADVANCE_NOTICE_CODE,)) == []
    assert plan(lumme, chose_3, 0) == []  # on the due date it is no longer "in advance"
    assert codes(plan(lumme, adult(EMAIL_ONLY, advance_notice_days=7), -7)) == [
        (ADVANCE_NOTICE_CODE, "email")
    ]
    [notice] = plan(lumme, chose_3, -3)
    assert notice.fee == eur("0.00")


def test_lumme_advance_notice_is_opt_in_and_by_email_only() -> None:
    lumme = load_preset("lumme")
    assert plan(lumme, adult(EMAIL_ONLY), -3) == []  # did not ask for it
    assert plan(lumme, adult(POST_ONLY, advance_notice_days=3), -3) == []
    with pytest.raises(ValueError, match="1–7"):
        plan(lumme, adult(EMAIL_ONLY, advance_notice_days=8), -3)


# -- Czech library [004] --------------------------------------------------------------------------


def czech_reader(contacts: ContactChannels, **extra: object) -> PatronNoticeFacts:
    return PatronNoticeFacts(category="adult", contacts=contacts, **extra)  # type: ignore[arg-type]


def test_czech_full_schedule_by_email() -> None:
    czech = load_preset("czech")
    reader = czech_reader(EVERYTHING)
    assert codes(plan(czech, reader, -3)) == [(ADVANCE_NOTICE_CODE, "email")]  # automatic
    assert codes(plan(czech, reader, 0, sent=(ADVANCE_NOTICE_CODE,))) == [("last_day_reminder", "email")]
    sent: tuple[str, ...] = (ADVANCE_NOTICE_CODE, "last_day_reminder")
    for day, code in [(5, "reminder_1"), (20, "reminder_2"), (45, "reminder_3")]:
        assert codes(plan(czech, reader, day, sent=sent)) == [(code, "email")]
        sent += (code,)
    [pre_legal] = plan(czech, reader, 60, sent=sent)
    assert (pre_legal.step_code, pre_legal.channel) == ("reminder_4_pre_legal", "registered_letter")
    assert pre_legal.fee == Money.parse("100", "CZK")


def test_czech_last_day_reminder_is_not_sent_after_the_due_date() -> None:
    czech = load_preset("czech")
    assert codes(plan(czech, czech_reader(EVERYTHING), 1)) == []


def test_czech_reader_without_email_or_phone_gets_only_the_registered_letter() -> None:
    czech = load_preset("czech")
    reader = czech_reader(POST_ONLY)
    for day in (-3, 0, 5, 20, 45):
        assert plan(czech, reader, day) == []
    assert codes(plan(czech, reader, 60)) == [("reminder_4_pre_legal", "registered_letter")]


def test_czech_sms_only_reader_gets_the_sms_steps() -> None:
    czech = load_preset("czech")
    reader = czech_reader(ContactChannels(sms=True, postal_address=True))
    assert codes(plan(czech, reader, -3)) == [(ADVANCE_NOTICE_CODE, "sms")]
    assert codes(plan(czech, reader, 0)) == [("last_day_reminder", "sms")]
    assert codes(plan(czech, reader, 5)) == []  # 1st reminder is email only
    assert codes(plan(czech, reader, 20)) == [("reminder_2", "sms")]
    assert codes(plan(czech, reader, 45, sent=("reminder_2",))) == []  # 3rd is email only


def test_czech_opt_out_is_honoured_except_for_the_pre_legal_letter() -> None:
    czech = load_preset("czech")
    reader = czech_reader(EVERYTHING, opted_out=True)
    assert plan(czech, reader, -3) == []
    assert plan(czech, reader, 0) == []
    assert codes(plan(czech, reader, 60)) == [("reminder_4_pre_legal", "registered_letter")]


def test_czech_pre_legal_letter_for_a_child_goes_to_the_legal_guardian() -> None:
    czech = load_preset("czech")
    child = PatronNoticeFacts(category="child", contacts=EMAIL_ONLY, guardian=POST_ONLY)
    planned = plan(czech, child, 60)
    assert [(n.step_code, n.recipient) for n in planned] == [
        ("reminder_1", "patron"),
        ("reminder_2", "patron"),
        ("reminder_3", "patron"),
        ("reminder_4_pre_legal", "guardian"),
    ]


# -- generic rules --------------------------------------------------------------------------------


def test_steps_that_do_not_apply_to_childrens_loans_are_skipped() -> None:
    outi = load_preset("outi")
    adults_only = NoticeStep("reminder_1", 7, ("email",), eur("1.50"), applies_to_childrens_loans=False)
    policy = Policy(**{**outi.__dict__, "notices": (adults_only,)})
    assert plan(policy, adult(EMAIL_ONLY), 7, childrens=True) == []
    child = PatronNoticeFacts(category="child", contacts=EMAIL_ONLY)
    assert plan(policy, child, 7) == []
    assert codes(plan(policy, adult(EMAIL_ONLY), 7)) == [("reminder_1", "email")]


def test_negative_day_steps_are_sent_only_before_the_due_date() -> None:
    outi = load_preset("outi")
    advance = NoticeStep("courtesy", -2, ("email",), eur("0.00"))
    policy = Policy(**{**outi.__dict__, "notices": (advance, *outi.notices), "advance_notice": None})
    assert plan(policy, adult(EMAIL_ONLY), -3) == []
    assert codes(plan(policy, adult(EMAIL_ONLY), -2)) == [("courtesy", "email")]
    assert codes(plan(policy, adult(EMAIL_ONLY), 0)) == [("courtesy", "email")]
    assert codes(plan(policy, adult(EMAIL_ONLY), 7)) == [("reminder_1", "email")]


def test_unknown_channel_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        EMAIL_ONLY.can_receive("fax")
