"""The pages: the producer's dashboard, periods and runs; the patron's and the librarian's membership pages."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app import gate
from app.cdclub import production, service
from app.cdclub.models import ClubMember, ProductionRun
from tests import factories
from tests.cdclub import helpers
from tests.cdclub.pdftext import text_lines

JANUARY_CUT_OFF = datetime(2026, 12, 10, 22, 5, tzinfo=UTC)
ADDRESS = {"recipient_name": "", "address_extra": "", "street_address": "Kotikatu 3", "postal_code": "00500",
           "city": "Helsinki", "country": "FI"}


@pytest.fixture()
def world(app, sm, now):
    with helpers.tx(app, sm) as s:
        factories.staff(s, now, "producer", email="producer@test.kuulo")
        factories.staff(s, now, "librarian", email="librarian@test.kuulo")
        club = helpers.club(s, now)
        online = helpers.club(s, now, code="verkkoklubi", delivery_format="online")
        conf = helpers.club_settings(app)
        for title, tracks in (("Murha Myllyssä", 2), ("Kuolema Kalliolla", 5)):
            book = helpers.book(s, now, title, tracks=tracks)
            production.add_title(s, club, "2027-01", book.id, now=now, actor="test", settings=conf)
        helpers.book(s, now, "Vielä valitsematon")
        patron = factories.patron(s, now, email="reader@test.kuulo")
        return {"club_id": club.id, "online_id": online.id, "card": patron.card_number, "patron_id": patron.id}


def test_the_dashboard_shows_the_next_three_periods_with_production_starts_titles_and_discs(client, world):
    factories.login_staff(client, "producer@test.kuulo")
    page = client.get("/staff/clubs")
    assert page.status_code == 200
    text = page.text
    for start in ("11 Dec 2026", "11 Jan 2027", "8 Feb 2027"):
        assert start in text
    assert "Murha Myllyssä" in text and "Kuolema Kalliolla" in text
    assert "2 of 3" in text and "4 of at most 14" in text  # 1 + 3 discs against the cap


def test_the_dashboard_flags_an_unfilled_period_before_its_production_start(app, client, world):
    app.config["FAKE_NOW"] = "2026-11-30T10:00:00+00:00"  # 11 days before the January cut-off
    factories.login_staff(client, "producer@test.kuulo")
    text = client.get("/staff/clubs").text
    assert "Needs attention" in text and "2 of 3 books picked" in text
    assert "Needs titles" in text


def test_a_patron_joins_in_their_account_and_sees_when_the_first_books_come(app, client, sm, world):
    factories.login_patron(client, world["card"])
    page = client.get("/account/clubs")
    assert "15 January 2027" in page.text
    refused = client.post(f"/account/clubs/{world['club_id']}/join", data={**ADDRESS, "street_address": ""})
    assert refused.status_code == 200 and "There is a problem" in refused.text
    assert "This field is required." in refused.text
    resp = client.post(f"/account/clubs/{world['club_id']}/join", data=ADDRESS, follow_redirects=True)
    assert "The first club books are expected around 15 January 2027" in resp.text
    with helpers.tx(app, sm) as s:
        member = s.scalar(select(ClubMember).where(ClubMember.patron_id == world["patron_id"]))
        assert (member.street_address, member.recipient_name, member.first_period) == (
            "Kotikatu 3", "Test Patron", "2027-01")


def test_an_online_club_needs_no_address(client, world):
    factories.login_patron(client, world["card"])
    resp = client.post(f"/account/clubs/{world['online_id']}/join", data={"country": "FI"}, follow_redirects=True)
    assert "Welcome to verkkoklubi en" in resp.text


def test_leaving_after_the_run_was_frozen_says_the_run_still_comes(app, client, sm, world):
    factories.login_patron(client, world["card"])
    client.post(f"/account/clubs/{world['club_id']}/join", data=ADDRESS)
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    confirm = client.get(f"/account/clubs/{world['club_id']}/leave")
    assert "already in production and still come to you" in confirm.text and "15 January 2027" in confirm.text
    done = client.post(f"/account/clubs/{world['club_id']}/leave", follow_redirects=True)
    assert "will still come, around 15 January 2027" in done.text
    assert "The club books already in production still come to you" in done.text


def test_pause_and_resume_in_the_account(app, client, sm, world):
    factories.login_patron(client, world["card"])
    client.post(f"/account/clubs/{world['club_id']}/join", data=ADDRESS)
    assert "is paused" in client.post(f"/account/clubs/{world['club_id']}/pause", follow_redirects=True).text
    assert "active again" in client.post(f"/account/clubs/{world['club_id']}/resume", follow_redirects=True).text
    moved = client.post(f"/account/clubs/{world['club_id']}/address", data={**ADDRESS, "postal_code": "123"},
                        follow_redirects=True)
    assert "A Finnish postal code is five digits." in moved.text


def test_a_librarian_finds_a_patron_and_manages_the_membership(app, client, sm, world):
    factories.login_staff(client, "librarian@test.kuulo")
    page = client.get("/staff/clubs/patrons", query_string={"card": world["card"]})
    assert "No club memberships." in page.text and "Join dekkariklubi en" in page.text
    joined = client.post(f"/staff/clubs/patrons/{world['patron_id']}/join/{world['club_id']}", data=ADDRESS,
                         follow_redirects=True)
    assert "expected around 15 January 2027" in joined.text
    with helpers.tx(app, sm) as s:
        member_id = s.scalar(select(ClubMember.id).where(ClubMember.patron_id == world["patron_id"]))
    assert "is paused" in client.post(f"/staff/clubs/members/{member_id}/pause", follow_redirects=True).text
    assert "has ended" in client.post(f"/staff/clubs/members/{member_id}/leave", follow_redirects=True).text
    assert client.get("/staff/clubs/patrons", query_string={"card": "999"}).text.count("No patron has this") == 2
    members = client.get(f"/staff/clubs/{world['club_id']}/members")
    assert members.status_code == 200 and "Test Patron" in members.text
    assert client.get(f"/staff/clubs/{world['club_id']}/periods/2027-01").status_code == 403  # producer only


def test_the_producer_creates_a_club_and_picks_titles(app, client, sm, world):
    factories.login_staff(client, "producer@test.kuulo")
    form = {"code": "tietoklubi", "name_fi": "Tietokirjaklubi", "name_sv": "Faktaklubben", "name_en": "Non-fiction",
            "books_per_period": "7", "disc_cap": "14", "delivery_format": "cd", "active": "y"}
    assert "1–5 books" in client.post("/staff/clubs/new", data=form).text
    created = client.post("/staff/clubs/new", data={**form, "books_per_period": "2"}, follow_redirects=True)
    assert "The club was created." in created.text
    assert "already has this code" in client.post("/staff/clubs/new", data={**form, "books_per_period": "2"}).text
    with helpers.tx(app, sm) as s:
        club = [c for c in service.list_clubs(s) if c.code == "tietoklubi"][0]
        book_id = [b.id for b in helpers_catalogue(s) if b.title == "Vielä valitsematon"][0]
    period = client.get(f"/staff/clubs/{club.id}/periods/2027-02", query_string={"q": "valitsematon"})
    assert "Add “Vielä valitsematon”" in period.text
    added = client.post(f"/staff/clubs/{club.id}/periods/2027-02/titles", data={"book_id": book_id},
                        follow_redirects=True)
    assert "was added to the period" in added.text and "Remove “Vielä valitsematon”" in added.text
    again = client.post(f"/staff/clubs/{club.id}/periods/2027-02/titles", data={"book_id": book_id},
                        follow_redirects=True)
    assert "already picked" in again.text
    edit = client.post(f"/staff/clubs/{club.id}/edit", data={**form, "books_per_period": "3", "name_en": "Facts"},
                       follow_redirects=True)
    assert "The club was saved." in edit.text and "Facts" in edit.text


def helpers_catalogue(s):
    from app.cdclub import catalogue

    return catalogue.search(s, "")


def test_the_run_page_lists_picks_and_gives_labels_and_ships(app, client, sm, world, now):
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, world["club_id"])
        helpers.member(s, app, club, now, "Liisa Label")
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    with helpers.tx(app, sm) as s:
        run_id = s.scalar(select(ProductionRun.id))
    factories.login_staff(client, "producer@test.kuulo")
    page = client.get(f"/staff/clubs/runs/{run_id}")
    assert "Pick and burn list" in page.text and "Liisa Label" in page.text and "in production" in page.text
    csv_file = client.get(f"/staff/clubs/runs/{run_id}/labels.csv")
    assert csv_file.mimetype == "text/csv" and "Liisa Label" in csv_file.data.decode("utf-8-sig")
    pdf = client.get(f"/staff/clubs/runs/{run_id}/labels.pdf")
    assert pdf.mimetype == "application/pdf" and text_lines(pdf.data).count("Liisa Label") == 1
    assert "no-store" in pdf.headers["Cache-Control"]
    shipped = client.post(f"/staff/clubs/runs/{run_id}/shipped", follow_redirects=True)
    assert "marked as shipped" in shipped.text
    factories.login_staff(client, "librarian@test.kuulo")
    assert client.get(f"/staff/clubs/runs/{run_id}/labels.pdf").status_code == 403


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_every_page_answers_in_each_language(app, client, sm, world, now, language):
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, world["club_id"])
        member = helpers.member(s, app, club, now, "Kieli Testaaja")
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    with helpers.tx(app, sm) as s:
        run_id = s.scalar(select(ProductionRun.id))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    factories.login_staff(client, "producer@test.kuulo")
    for url in ("/staff/clubs", "/staff/clubs/new", f"/staff/clubs/{world['club_id']}",
                f"/staff/clubs/{world['club_id']}/edit", f"/staff/clubs/{world['club_id']}/periods/2027-02",
                f"/staff/clubs/{world['club_id']}/members", f"/staff/clubs/runs/{run_id}",
                f"/staff/clubs/patrons?card={world['card']}", f"/staff/clubs/members/{member.id}/address",
                f"/staff/clubs/patrons/{world['patron_id']}/join/{world['club_id']}"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert f'<html lang="{language}">' in resp.text and resp.text.count("<h1") == 1, url
    client.post("/logout")
    factories.login_patron(client, world["card"])
    client.post(f"/account/clubs/{world['club_id']}/join", data=ADDRESS)
    for url in ("/account/clubs", f"/account/clubs/{world['online_id']}/join",
                f"/account/clubs/{world['club_id']}/address", f"/account/clubs/{world['club_id']}/leave"):
        resp = client.get(url)
        assert resp.status_code == 200 and resp.text.count("<h1") == 1, url


class ClosedFor:
    def __init__(self, *components: str) -> None:
        self.components = components

    def closure(self, component, now, language):
        if component in self.components:
            return gate.Closure(component, now + timedelta(hours=1), "http://kuulo.test/status/1", "Break")
        return None


def test_maintenance_closes_the_clubs_only_when_it_names_them_and_jobs_keep_running(app, client, sm, world):
    factories.login_patron(client, world["card"])
    try:
        gate.set_provider(ClosedFor("login", "reader_apps", "registration", "web_library"))
        assert client.get("/account/clubs").status_code == 200
        assert client.get("/api/v1/clubs").status_code == 200
        gate.set_provider(ClosedFor("cd_clubs"))
        assert client.get("/account/clubs").status_code == 503
        assert client.post(f"/account/clubs/{world['club_id']}/join", data=ADDRESS).status_code == 503
        resp = client.get("/api/v1/clubs")
        assert resp.status_code == 503 and resp.mimetype == "application/problem+json"
        # The scheduler is not behind the gate: production goes on during the break [002].
        assert production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app)) == "2 runs opened"
    finally:
        gate.set_provider(None)


def test_before_the_cut_off_the_period_shows_expected_copies_and_the_producer_can_freeze_and_reopen(
        app, client, sm, world, now):
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, world["club_id"])
        helpers.member(s, app, club, now, "Anna Aktiivinen")
        service.pause_membership(s, helpers.member(s, app, club, now, "Pertti Paussilla"), actor="test", now=now)
    factories.login_staff(client, "producer@test.kuulo")
    period = client.get(f"/staff/clubs/{world['club_id']}/periods/2027-01").text
    # 2 books of 1 and 3 discs (2 and 5 tracks of 300 MB) to the one active member; not 0 before the freeze
    assert "Expected copies of each book" in period and "1 member active today" in period
    assert "Discs to burn" in period
    frozen = client.post(f"/staff/clubs/{world['club_id']}/periods/2027-01/freeze", follow_redirects=True)
    assert "The member list was frozen: 1 recipient." in frozen.text and "Anna Aktiivinen" in frozen.text
    with helpers.tx(app, sm) as s:
        run = s.scalar(select(ProductionRun))
        assert run.state == "in_production" and run.frozen_at == now
    # the hourly job at the cut-off leaves a run frozen by hand alone (it opens only the online club's)
    assert production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app)) == "1 runs opened"
    with helpers.tx(app, sm) as s:
        assert s.get(ProductionRun, run.id).frozen_at == now
    assert "can no longer change" in client.get(f"/staff/clubs/{world['club_id']}/periods/2027-01").text
    reopened = client.post(f"/staff/clubs/runs/{run.id}/reopen", follow_redirects=True)
    assert "The run was reopened" in reopened.text and "Freeze the member list now" in reopened.text
    with helpers.tx(app, sm) as s:
        run = s.get(ProductionRun, run.id)
        assert run.state == "planned" and run.recipient_count == 0
        actions = [a for (a,) in s.execute(text("SELECT action FROM audit_events ORDER BY id"))]
    assert "cdclub.run.frozen_by_hand" in actions and "cdclub.run.reopened" in actions
    # at the cut-off the job freezes it as usual
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    with helpers.tx(app, sm) as s:
        assert s.get(ProductionRun, run.id).state == "in_production"
        assert s.get(ProductionRun, run.id).frozen_at == JANUARY_CUT_OFF


def test_labels_carry_sender_and_marking_from_a_chosen_label_with_packing_slips_and_a_finnish_csv(
        app, client, sm, world, now):
    app.config["CDCLUB_RETURN_ADDRESS"] = "Kuulo-kirjasto|PL 20|00030 IIRIS"
    with helpers.tx(app, sm) as s:
        club = service.get_club(s, world["club_id"])
        helpers.member(s, app, club, now, "Liisa Label")
    production.open_due_runs(sm, JANUARY_CUT_OFF, helpers.club_settings(app))
    with helpers.tx(app, sm) as s:
        run_id = s.scalar(select(ProductionRun.id))
    factories.login_staff(client, "producer@test.kuulo")
    page = client.get(f"/staff/clubs/runs/{run_id}").text
    assert "Kuulo-kirjasto, PL 20, 00030 IIRIS" in page and 'name="start"' in page
    pdf = client.get(f"/staff/clubs/runs/{run_id}/labels.pdf", query_string={"start": "5"})
    lines = text_lines(pdf.data)
    assert "00030 IIRIS" in lines and "Näkövammaisten kirjoitus / Literature for the blind" in lines
    assert b"/Creator (Kuulo)" in pdf.data and b"D:20261123100000" in pdf.data  # made now, by Kuulo
    slips = client.get(f"/staff/clubs/runs/{run_id}/packing-slips.pdf")
    slip_lines = text_lines(slips.data)
    assert "Liisa Label" in slip_lines and "Murha Myllyssä (Kirjailija)" in slip_lines
    finnish = client.get(f"/staff/clubs/runs/{run_id}/labels.csv", query_string={"format": "fi"})
    assert finnish.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    header, row = finnish.data.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("label;name;") and "dekkariklubi en" in row and row.endswith(";7,0")
    app.config["CDCLUB_RETURN_ADDRESS"] = ""
    assert "The labels have no return address" in client.get(f"/staff/clubs/runs/{run_id}").text
