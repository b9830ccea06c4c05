"""Pure: the day the nightly job next has to look at a loan, and steps no channel can reach."""
from __future__ import annotations

from datetime import date, timedelta

from app.circulation.notices import (
    ContactChannels,
    PatronNoticeFacts,
    next_notice_date,
    plan_notices_and_unreachable,
)
from app.circulation.presets import load_preset

DUE = date(2026, 5, 20)


def facts(**extra):
    return PatronNoticeFacts(category=extra.pop("category", "adult"), contacts=extra.pop("contacts", ContactChannels()),
                             **extra)


def nxt(preset, after, sent=(), childrens=False, **extra):
    return next_notice_date(due_date=DUE, after=after, already_sent=sent, patron=facts(**extra),
                            is_childrens_material=childrens, policy=load_preset(preset))


def test_outi_steps_at_7_and_35_days():
    assert nxt("outi", DUE - timedelta(days=28)) == DUE + timedelta(days=7)
    assert nxt("outi", DUE + timedelta(days=7), sent=("reminder_1",)) == DUE + timedelta(days=35)
    assert nxt("outi", DUE + timedelta(days=40), sent=("reminder_1", "reminder_2")) is None


def test_a_missed_step_stays_due_so_the_job_catches_up():
    assert nxt("outi", DUE + timedelta(days=50)) == DUE + timedelta(days=51)


def test_advance_notice_window_and_the_patrons_choice():
    assert nxt("lumme", DUE - timedelta(days=20)) == DUE + timedelta(days=7)  # opt-in: no choice, no notice
    assert nxt("lumme", DUE - timedelta(days=20), advance_notice_days=3) == DUE - timedelta(days=3)
    assert nxt("lumme", DUE - timedelta(days=2), advance_notice_days=3) == DUE - timedelta(days=1)  # late start
    assert nxt("lumme", DUE - timedelta(days=1), advance_notice_days=3) == DUE + timedelta(days=7)  # window gone


def test_czech_last_day_reminder_and_opt_out():
    assert nxt("czech", DUE - timedelta(days=1), sent=("advance_notice",)) == DUE
    assert nxt("czech", DUE - timedelta(days=10), opted_out=True) == DUE + timedelta(days=60)  # pre-legal only


def test_unreachable_steps_are_reported_not_planned():
    planned, unreachable = plan_notices_and_unreachable(
        due_date=DUE, today=DUE + timedelta(days=20), already_sent=(), patron=facts(),
        is_childrens_material=False, policy=load_preset("czech"))
    assert planned == [] and unreachable == ["reminder_1", "reminder_2"]
