"""Renewing an e-loan only when it gives more time (issue 16): the renewal window, `too_soon` in the
reader API, the web page and OPDS, and a refused renewal never used up."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.lending.models import EbookLoan
from app.lending.service import renewable_from
from tests import factories

RENEW = "https://kuulo.fi/rel/renew"


def set_now(app, moment):
    app.config["FAKE_NOW"] = moment.isoformat()


def loan_row(sm):
    with sm.begin() as s:
        loan = s.scalar(select(EbookLoan))
        return loan.until, loan.renewals


def test_renewal_opens_in_the_last_week_of_a_loan(now):
    until = now + timedelta(days=28)
    assert renewable_from(until, 28) == now + timedelta(days=21)
    # a short loan: renewing must still move the end by a whole day
    assert renewable_from(now + timedelta(days=3), 3) == now + timedelta(days=1)


def test_renewing_a_fresh_loan_is_refused_and_not_counted(app, sm, books, reader, now):
    url = f"/api/v1/books/{books['mp3']}/"
    assert reader.post(url + "borrow").status_code == 201
    before = loan_row(sm)
    for _ in range(2):  # two clicks used to take "renewals left" from 3 to 1
        refused = reader.post(url + "renew")
        assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
        assert refused.json["reason"] == "too_soon"
        assert refused.json["renewable_from"] == "2026-12-14T10:00:00Z"  # a week before the end
        assert "14 Dec 2026" in refused.json["detail"]
    assert loan_row(sm) == before
    assert reader.get("/api/v1/loans").json["loans"][0]["renewals_left"] == 3


def test_renewal_in_the_window_moves_the_end_and_counts_once(app, sm, books, reader, now):
    url = f"/api/v1/books/{books['mp3']}/"
    reader.post(url + "borrow")
    set_now(app, now + timedelta(days=21, seconds=-1))
    assert reader.post(url + "renew").status_code == 409
    later = now + timedelta(days=21)
    set_now(app, later)
    renewed = reader.post(url + "renew")
    assert renewed.status_code == 200 and renewed.json["renewals"] == 1
    assert renewed.json["until"] == (later + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
    again = reader.post(url + "renew")  # the same moment again: too soon, nothing used up
    assert again.status_code == 409 and again.json["reason"] == "too_soon"
    assert loan_row(sm)[1] == 1


def test_opds_offers_renew_only_when_possible(app, books, reader, now):
    reader.post(f"/api/v1/books/{books['mp3']}/borrow")

    def renew_links():
        shelf = reader.get("/opds/loans").json
        return [link for pub in shelf["publications"] for link in pub["links"] if link["rel"] == RENEW]

    assert renew_links() == []
    publication = reader.get(f"/opds/books/{books['mp3']}").json
    assert not any(link["rel"] == RENEW for link in publication["links"])
    set_now(app, now + timedelta(days=22))
    links = renew_links()
    assert len(links) == 1 and links[0]["href"].endswith(f"/api/v1/books/{books['mp3']}/renew")


@pytest.fixture()
def web_patron(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now, email="renew@test.kuulo").card_number
    assert factories.login_patron(client, card).status_code == 302
    return client


def test_loans_page_says_when_renewing_becomes_possible(app, web_patron, books, sm, now):
    client = web_patron
    book = books["daisy"]
    client.post(f"/library/books/{book}/borrow")
    page = client.get("/library/loans").text
    assert f"/library/books/{book}/renew" not in page
    assert "You can renew from 14 Dec 2026" in page
    fi = client.get("/library/loans", headers={"Accept-Language": "fi"}).text
    assert "14.12.2026" in fi
    refused = client.post(f"/library/books/{book}/renew", follow_redirects=True)  # a stale page's button
    assert "too early to renew" in refused.text and loan_row(sm)[1] == 0
    set_now(app, now + timedelta(days=22))
    page = client.get("/library/loans").text
    assert f"/library/books/{book}/renew" in page
    renewed = client.post(f"/library/books/{book}/renew", follow_redirects=True)
    assert "The loan is renewed until 12 Jan 2027, 12:00" in renewed.text, re.findall(r"flash-[a-z]+\">([^<]*)", renewed.text)
    assert loan_row(sm)[1] == 1
