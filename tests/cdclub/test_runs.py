"""The issue's "Done when": with a fixed clock a new member lands in the right run with a label;
the production-start job is idempotent and survives a crash half way; labels list every member once."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app import scheduler
from app.cdclub import labels, production, service
from app.cdclub.models import ProductionRun, RunRecipient
from tests.cdclub import helpers
from tests.cdclub.pdftext import page_count, text_lines

# 11 Dec 2026 00:05 in Helsinki: the production start of the January 2027 period.
JANUARY_CUT_OFF = datetime(2026, 12, 10, 22, 5, tzinfo=UTC)
OPEN = "cdclub-open-production-runs"


def _run(s, club_id, period):
    return s.scalar(select(ProductionRun).where(ProductionRun.club_id == club_id, ProductionRun.period == period))


def _recipients(s, run_id):
    return list(s.scalars(select(RunRecipient).where(RunRecipient.run_id == run_id)))


@pytest.fixture()
def january(app, sm, now):
    """A CD club with two books picked for January 2027 and a member who joined today (23 Nov 2026)."""
    with helpers.tx(app, sm) as s:
        club = helpers.club(s, now)
        books = [helpers.book(s, now, "Murha Myllyssä"), helpers.book(s, now, "Kuolema Kalliolla", tracks=5)]
        conf = helpers.club_settings(app)
        for b in books:
            production.add_title(s, club, "2027-01", b.id, now=now, actor="test", settings=conf)
        member = helpers.member(s, app, club, now, "Maija Meikäläinen", email="maija@test.kuulo")
        return {"club_id": club.id, "member_id": member.id, "book_ids": [b.id for b in books]}


def test_a_member_who_joins_today_is_in_the_january_run_with_a_label(app, sm, now, january):
    with helpers.tx(app, sm) as s:
        member = service.get_member(s, january["member_id"])
        assert member.first_period == "2027-01"
        outlook = service.member_outlook(s, member, helpers.club_settings(app), now)
        assert outlook.next_delivery == date(2027, 1, 15)
    assert scheduler.run_job(app, OPEN, JANUARY_CUT_OFF).status == "ok"
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        assert run.state == "in_production" and run.recipient_count == 1
        assert run.production_start == date(2026, 12, 11) and run.delivery_date == date(2027, 1, 15)
        [label] = production.recipients(s, run)
        assert label.member_id == january["member_id"]
        assert labels.address_lines(label) == ["Maija Meikäläinen", "Testikatu 1 A 2", "00100 HELSINKI"]
        # The December run was cut off on 10 Nov, before the club existed: nothing is opened for it.
        assert _run(s, january["club_id"], "2026-12") is None
        picks = production.pick_list(run)
        assert [(p.copies, p.discs_per_copy) for p in picks] == [(1, 1), (1, 3)]


def test_the_joining_email_names_the_first_expected_date(app, sm, now, january):
    from app.notify.models import OutboxMessage

    with helpers.tx(app, sm) as s:
        message = s.scalar(select(OutboxMessage).where(OutboxMessage.template == "cdclub_joined"))
        assert message.recipient == "maija@test.kuulo" and message.channel == "email"
        assert "15 January 2027" in message.body


def test_joining_on_the_production_start_day_is_too_late_for_that_run(app, sm, january):
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, january["club_id"])
        late = helpers.member(s, app, club, datetime(2026, 12, 11, 8, 0, tzinfo=UTC), "Myöhäinen Liittyjä")
        assert late.first_period == "2027-02"
    production.open_due_runs(sm, datetime(2026, 12, 11, 9, 0, tzinfo=UTC), helpers.club_settings(app))
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        assert [r.member_id for r in _recipients(s, run.id)] == [january["member_id"]]


def test_running_the_production_start_job_twice_creates_one_run(app, sm, january):
    for _ in range(2):
        assert scheduler.run_job(app, OPEN, JANUARY_CUT_OFF).status == "ok"
    with helpers.tx(app, sm) as s:
        assert s.scalar(select(func.count()).select_from(ProductionRun)) == 1
        run = _run(s, january["club_id"], "2027-01")
        assert len(_recipients(s, run.id)) == 1 and run.recipient_count == 1


def test_a_crash_half_way_then_a_re_run_completes_the_run_with_nothing_doubled(app, sm, now, january, monkeypatch):
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, january["club_id"])
        for n in range(6):
            helpers.member(s, app, club, now, f"Jäsen {n}")
    real, calls = production._add_recipient, []

    def crash_after_three(*args, **kwargs):
        if len(calls) == 3:
            raise RuntimeError("killed half way")
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(production, "_add_recipient", crash_after_three)
    with pytest.raises(RuntimeError):
        scheduler.run_job(app, OPEN, JANUARY_CUT_OFF)
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        assert run.state == "planned" and len(_recipients(s, run.id)) == 3  # three committed, one at a time
    monkeypatch.setattr(production, "_add_recipient", real)
    assert scheduler.run_job(app, OPEN, JANUARY_CUT_OFF).status == "ok"
    assert scheduler.run_job(app, OPEN, JANUARY_CUT_OFF).status == "ok"
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        members = [r.member_id for r in _recipients(s, run.id)]
        assert run.state == "in_production" and run.recipient_count == 7
        assert len(members) == len(set(members)) == 7


def test_members_are_frozen_as_they_were_at_the_production_start(app, sm, now, january):
    """Paused before the cut-off: left out. Left after it (before the job ran): still in, and told so."""
    conf = helpers.club_settings(app)
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, january["club_id"])
        paused = helpers.member(s, app, club, now, "Tauolla")
        service.pause_membership(s, paused, now=now, actor="test")
        leaver = helpers.member(s, app, club, now, "Lähtijä")
        service.leave_club(s, leaver, now=datetime(2026, 12, 11, 0, 1, tzinfo=UTC), actor="test")
        paused_id, leaver_id = paused.id, leaver.id
    production.open_due_runs(sm, datetime(2026, 12, 11, 6, 0, tzinfo=UTC), conf)
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        frozen = {r.member_id for r in _recipients(s, run.id)}
        assert leaver_id in frozen and paused_id not in frozen
        leaver = service.get_member(s, leaver_id)
        assert [r.period for r in service.member_outlook(s, leaver, conf, now).frozen_runs] == ["2027-01"]


def test_labels_csv_and_pdf_list_every_member_once(app, sm, now, january):
    names = ["Åsa Öberg", "Pekka (Pete) Virtanen", "Jean Dupont"]
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, january["club_id"])
        for n, name in enumerate(names[:2]):
            helpers.member(s, app, club, now, name, address=helpers.address(name, postal_code=f"3310{n}",
                                                                            city="Tampere"))
        helpers.member(s, app, club, now, names[2], address=helpers.address(
            names[2], street="12 rue de la Paix", postal_code="75002", city="Paris", country="FR"))
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        recipients = production.recipients(s, run)
        rows = list(csv.DictReader(io.StringIO(labels.labels_csv(run, recipients, club_name="Dekkariklubi")
                                               .decode("utf-8-sig"))))
        pdf = labels.labels_pdf(run, recipients, labels.Sheet(sender=("Kuulo", "PL 20", "00030 IIRIS"),
                                                              marking="Näkövammaisten kirjoitus"))
    everyone = ["Maija Meikäläinen"] + names
    assert sorted(r["name"] for r in rows) == sorted(everyone)
    assert rows[-1]["country"] == "FRANCE" and rows[-1]["city"] == "PARIS"  # abroad last, country in capitals
    assert {r["club"] for r in rows} == {"Dekkariklubi"}  # the club's name, not its code
    lines = text_lines(pdf)
    for name in everyone:
        assert lines.count(name) == 1, name
    assert "75002 PARIS" in lines and "FRANCE" in lines and "33100 TAMPERE" in lines
    # every label carries the sender and the free-postage marking
    assert lines.count("00030 IIRIS") == len(everyone) and lines.count("Näkövammaisten kirjoitus") == len(everyone)
    assert page_count(pdf) == 1


def test_labels_pdf_runs_onto_more_pages_and_handles_any_script(app, sm, now, january):
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, january["club_id"])
        for n in range(25):
            helpers.member(s, app, club, now, f"Jäsen {n:02d}")
        helpers.member(s, app, club, now, "Анна Каренина")
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        pdf = labels.labels_pdf(run, production.recipients(s, run), labels.Sheet())
        from_17 = labels.labels_pdf(run, production.recipients(s, run), labels.Sheet(start_at=17))
        from_14 = labels.labels_pdf(run, production.recipients(s, run), labels.Sheet(start_at=14))
    assert page_count(pdf) == 2  # 27 labels, 21 per sheet
    assert page_count(from_17) == 3  # labels 17–21 of a part-used sheet (5), then 21, then 1
    assert page_count(from_14) == 2  # labels 14–21 (8), then the other 19


def test_the_producer_marks_shipped_or_the_delivery_job_does(app, sm, january):
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        assert service.runs_still_coming(s, service.get_member(s, january["member_id"])) == [run]
    assert scheduler.run_job(app, "cdclub-deliver-runs", datetime(2027, 1, 14, 12, tzinfo=UTC)).summary.startswith("0")
    scheduler.run_job(app, "cdclub-deliver-runs", datetime(2027, 1, 14, 22, 35, tzinfo=UTC))  # 15 Jan, Helsinki
    with helpers.tx(app, sm) as s:
        run = _run(s, january["club_id"], "2027-01")
        assert run.state == "shipped" and run.shipped_by == "system:cdclub"
        with pytest.raises(Exception) as refused:
            production.mark_shipped(s, run, actor="test", now=JANUARY_CUT_OFF)
        assert refused.value.code == "run-not-in-production"


def test_titles_are_locked_once_production_starts_and_capped_at_five(app, sm, now, january):
    conf = helpers.club_settings(app)
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, january["club_id"])
        extra = [helpers.book(s, now, f"Lisä {n}") for n in range(4)]
        for b in extra[:3]:
            production.add_title(s, club, "2027-01", b.id, now=now, actor="test", settings=conf)
        with pytest.raises(Exception) as too_many:
            production.add_title(s, club, "2027-01", extra[3].id, now=now, actor="test", settings=conf)
        assert too_many.value.code == "too-many-titles"
        plan = production.plan_for(s, club, "2027-01", conf, date(2026, 11, 23))
        assert "over-title-count" in plan.warnings
        with pytest.raises(Exception) as locked:
            production.add_title(s, club, "2027-01", extra[3].id, now=JANUARY_CUT_OFF.replace(hour=23), actor="test",
                                 settings=conf)
        assert locked.value.code == "production-started"


def test_a_period_over_the_disc_cap_is_warned_about(app, sm, now):
    conf = helpers.club_settings(app)
    with helpers.tx(app, sm) as s:
        club = helpers.club(s, now, code="pitkat", books=2, disc_cap=4)
        for title in ("Sota ja rauha", "Seitsemän veljestä"):
            book = helpers.book(s, now, title, tracks=6, track_mb=250)  # 1500 MB: 3 discs each
            production.add_title(s, club, "2027-02", book.id, now=now, actor="test", settings=conf)
        plan = production.plan_for(s, club, "2027-02", conf, date(2026, 11, 23))
        assert plan.discs_per_member == 6 and plan.warnings == ["over-disc-cap"]


def test_an_unfilled_period_is_flagged_days_before_its_production_start(app, sm, now, january):
    conf = helpers.club_settings(app)
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, january["club_id"])
        plans = production.club_plans(s, club, conf, date(2026, 11, 23))
        assert [p.period.key for p in plans] == ["2027-01", "2027-02", "2027-03"]
        assert not any(p.unfilled for p in plans)  # 18 days to go: not flagged yet (14 days by default)
        plans = production.club_plans(s, club, conf, date(2026, 11, 30))
        assert plans[0].unfilled and plans[0].days_to_production == 11  # 2 of 3 books picked
        assert not plans[1].unfilled


def test_without_an_email_address_the_welcome_goes_by_letter_and_leaving_is_confirmed(app, sm, now, january):
    from app.notify.models import OutboxMessage

    with helpers.tx(app, sm) as s:
        club = service.get_club(s, january["club_id"])
        member = helpers.member(s, app, club, now, "Kirje Vastaanottaja")
        service.leave_club(s, service.get_member(s, january["member_id"]), now=now, actor="test")
        letter = s.scalar(select(OutboxMessage).where(OutboxMessage.channel == "letter"))
        assert letter.template == "cdclub_joined" and letter.recipient.splitlines() == [
            "Kirje Vastaanottaja", "Testikatu 1 A 2", "00100 HELSINKI"]
        assert member.first_period == "2027-01"
        left = s.scalar(select(OutboxMessage).where(OutboxMessage.template == "cdclub_left"))
        assert left.recipient == "maija@test.kuulo" and "No more club books are sent." in left.body
