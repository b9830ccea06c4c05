"""No N+1: the main pages and APIs make the same number of statements whatever the size of what they show.
Each case measures a request with a little data and again with more; the counts must be equal (the first
request of each pair warms caches, so both measured requests run warm)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.institutions.models import InstitutionApplication
from tests import factories
from tests.cdclub import helpers as clubs
from tests.institutions import helpers as institutions
from tests.statements import statements_of


def test_the_institution_queue_reads_a_fixed_number_of_statements(app, client, sm, now):
    institutions.reviewer(sm, now)
    reviewer = app.test_client()
    factories.login_staff(reviewer, "reviewer@test.kuulo")
    apply = app.test_client()

    def page():
        return reviewer.get("/staff/institutions/applications")

    assert apply.post("/institutions/apply", data=institutions.form_data()).status_code == 302
    page()
    few = statements_of(app, page)
    for n in range(5):
        data = institutions.form_data(name=f"Koulu {n}", business_id=business_id(2345670 + n))
        assert apply.post("/institutions/apply", data=data).status_code == 302
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(InstitutionApplication)) == 6
    many = statements_of(app, page)
    assert many == few, (few, many)


def business_id(number: int) -> str:
    """A valid Finnish business ID (Y-tunnus) from seven digits; numbers whose check would be 1 are skipped."""
    while True:
        digits = f"{number:07d}"
        rest = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if rest != 1:
            return f"{digits}-{0 if rest == 0 else 11 - rest}"
        number += 1


def test_the_cd_club_dashboard_reads_a_fixed_number_of_statements(app, client, sm, now):
    with clubs.tx(app, sm) as s:
        factories.staff(s, now, "producer", email="producer@test.kuulo")
        clubs.member(s, app, clubs.club(s, now, code="klubi-0"), now, "Jäsen 0")
    factories.login_staff(client, "producer@test.kuulo")

    def page():
        return client.get("/staff/clubs")

    page()
    few = statements_of(app, page)
    with clubs.tx(app, sm) as s:
        for n in range(1, 5):
            club = clubs.club(s, now, code=f"klubi-{n}")
            clubs.member(s, app, club, now, f"Jäsen {n}")
    many = statements_of(app, page)
    assert many == few, (few, many)


def test_the_reader_apps_poll_reads_a_fixed_number_of_statements(app, client, sm, now):
    from tests.lending.conftest import M4B_BOOK, MP3_BOOK, ingest_path, make_reader

    reader = make_reader(client, sm, now, "poller@test.kuulo")
    first = ingest_path(app, MP3_BOOK).book_id
    assert reader.post(f"/api/v1/books/{first}/borrow").status_code in (200, 201)

    def poll():
        return reader.get("/api/v1/loans")

    poll()
    few = statements_of(app, poll)
    second = ingest_path(app, M4B_BOOK).book_id
    assert reader.post(f"/api/v1/books/{second}/borrow").status_code in (200, 201)
    poll()  # the answer for the new rows is encoded once, then remembered
    many = statements_of(app, poll)
    assert many == few, (few, many)
    assert few <= 3  # the token, the loans with their books, and the token's use


def test_the_status_page_reads_a_fixed_number_of_statements(app, client, sm, now):
    from tests.status import helpers as status

    app.config["STATUS_CACHE_SECONDS"] = 0  # every request renders the page: its own statements are counted
    status.maintenance(app, sm, now)
    status.incident(app, sm, now, {"reader_apps": "degraded_performance"})

    def page():
        return client.get("/status")

    page()
    few = statements_of(app, page)
    for n in range(4):
        status.maintenance(app, sm, now, starts_in=timedelta(days=22 + n))
        status.incident(app, sm, now, {"web_library": "partial_outage"})
    many = statements_of(app, page)
    assert many == few, (few, many)
    assert page().get_data(as_text=True).count("Login problems") >= 5  # the page shows what was added


def test_the_staff_audiobook_catalogue_reads_a_fixed_number_of_statements(app, client, sm, now):
    from tests.lending.conftest import M4B_BOOK, MP3_BOOK, ingest_path

    with sm.begin() as s:
        factories.staff(s, now, "producer", email="producer@test.kuulo")
    factories.login_staff(client, "producer@test.kuulo")
    ingest_path(app, MP3_BOOK, "urn:count:1")

    def page():
        return client.get("/staff/audiobooks")

    page()
    few = statements_of(app, page)
    ingest_path(app, M4B_BOOK, "urn:count:2")
    ingest_path(app, MP3_BOOK, "urn:count:3")
    many = statements_of(app, page)
    assert many == few, (few, many)
    assert page().get_data(as_text=True).count("/staff/audiobooks/") >= 3  # one row (with its actions) per book
