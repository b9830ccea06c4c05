"""CD book clubs in real Chromium [002, issue 8]: every page of the domain — the producer's dashboard, club,
club form, period and run pages, the patron's /account/clubs pages, the librarian's patron lookup — passes
axe-core (WCAG 2.1 A/AA) with one h1 and the right <html lang> in fi/sv/en; and a patron joins a CD club with
the keyboard only."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.support import (
    LANGUAGES,
    ZOOMS,
    PageCase,
    assert_no_horizontal_scrolling,
    check_page,
    db_session,
    goto,
    path_of,
    press,
    skip_to_main,
    tab_through_both_ways,
    tab_to,
)
from tests.conftest import FIXED_NOW

PRODUCER = "producer@demo.kuulo.test"
LIBRARIAN = "librarian@demo.kuulo.test"
MAIJA, SVEN, EMILY, MATTI, KAISA = "2000000001", "2000000002", "2000000003", "2000000004", "2000000005"
CRIME, NONFICTION, ONLINE = "dekkariklubi", "tietokirjaklubi", "romaaniklubi-verkossa"


@dataclass(frozen=True)
class Ids:
    """The demo data's ids, looked up once: clubs by code, runs by club code, patrons by card number,
    memberships by (card, club code); ``period`` is the period the demo picked titles for."""

    club: dict[str, int]
    run: dict[str, int]
    patron: dict[str, int]
    member: dict[tuple[str, str], int]
    period: str

    @property
    def next_period(self) -> str:
        year, month = map(int, self.period.split("-"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return f"{year:04d}-{month:02d}"


_ids: dict[int, Ids] = {}


def ids(app: Any) -> Ids:
    from app.accounts.models import Patron
    from app.cdclub.models import Club, ClubMember, ProductionRun

    if id(app) not in _ids:
        with db_session(app) as s:
            clubs = {c.code: c.id for c in s.scalars(select(Club))}
            code_of = {v: k for k, v in clubs.items()}
            runs = list(s.scalars(select(ProductionRun).order_by(ProductionRun.period)))
            patrons = {p.card_number: p.id for p in s.scalars(select(Patron))}
            card_of = {v: k for k, v in patrons.items()}
            members = {(card_of[m.patron_id], code_of[m.club_id]): m.id for m in s.scalars(select(ClubMember))}
            period = runs[0].period
            _ids[id(app)] = Ids(clubs, {code_of[r.club_id]: r.id for r in runs if r.period == period}, patrons,
                                members, period)
    return _ids[id(app)]


@pytest.fixture(scope="module", autouse=True)
def club_states(live_server: Any) -> Iterator[None]:
    """Two states the demo data lacks: the Crime Club's next run in production (its member list frozen, as
    the production-start job does on its day), and Sven's Crime Club membership paused after that (he still
    receives the frozen run, which his page says)."""
    from app import db
    from app.cdclub import production, service, settings
    from app.cdclub.models import ClubMember

    app = live_server.app
    known = ids(app)
    with app.app_context():
        recipients = production.freeze_run(db.get_sessionmaker(app), known.run[CRIME], settings.current(), FIXED_NOW)
    assert recipients >= 2
    with db_session(app) as session:
        member = session.get(ClubMember, known.member[(SVEN, CRIME)])
        service.pause_membership(session, member, now=FIXED_NOW, actor="system:browser-tests")
    yield


def _to(make_path: Callable[[Ids], str]) -> Callable[[Any, Any], Any]:
    return lambda page, server: page.goto(make_path(ids(server.app)))


def _submit_empty(make_path: Callable[[Ids], str], button: str = "main form[method=post] button[type=submit]"
                  ) -> Callable[[Any, Any], Any]:
    """Open a form, empty its text fields and send it."""
    def open_(page: Any, server: Any) -> Any:
        page.goto(make_path(ids(server.app)))
        for field in page.locator("main form[method=post] input[type=text], main form[method=post] textarea").all():
            field.fill("")
        with page.expect_navigation() as nav:
            page.locator(button).last.click()
        return nav.value
    return open_


PAGES = [
    PageCase("dashboard", goto("/staff/clubs"), who=PRODUCER, expect="a[href$='/staff/clubs/new']"),
    PageCase("dashboard-librarian", goto("/staff/clubs"), who=LIBRARIAN, expect="main table"),
    PageCase("club", _to(lambda i: f"/staff/clubs/{i.club[CRIME]}"), who=PRODUCER, expect="a[href*='/runs/']"),
    PageCase("club-librarian", _to(lambda i: f"/staff/clubs/{i.club[ONLINE]}"), who=LIBRARIAN),
    PageCase("club-members", _to(lambda i: f"/staff/clubs/{i.club[CRIME]}/members"), who=LIBRARIAN,
             expect="main table tbody tr"),
    PageCase("club-new", goto("/staff/clubs/new"), who=PRODUCER, expect="input#code"),
    PageCase("club-new-with-errors", _submit_empty(lambda i: "/staff/clubs/new"), who=PRODUCER,
             has_error_summary=True, expect="#error-summary a[href='#code']"),
    PageCase("club-edit", _to(lambda i: f"/staff/clubs/{i.club[NONFICTION]}/edit"), who=PRODUCER,
             expect="input#code"),
    PageCase("period-picking", _to(lambda i: f"/staff/clubs/{i.club[NONFICTION]}/periods/{i.period}"),
             who=PRODUCER, expect="form[action$='/titles'] button"),
    PageCase("period-search-no-results",
             _to(lambda i: f"/staff/clubs/{i.club[NONFICTION]}/periods/{i.period}?q=no+such+book+at+all"),
             who=PRODUCER, expect="input#q"),
    PageCase("period-unfilled", _to(lambda i: f"/staff/clubs/{i.club[CRIME]}/periods/{i.next_period}"),
             who=PRODUCER),
    PageCase("period-in-production", _to(lambda i: f"/staff/clubs/{i.club[CRIME]}/periods/{i.period}"),
             who=PRODUCER, expect="a[href*='/runs/']"),
    PageCase("run-planned", _to(lambda i: f"/staff/clubs/runs/{i.run[ONLINE]}"), who=PRODUCER),
    PageCase("run-in-production", _to(lambda i: f"/staff/clubs/runs/{i.run[CRIME]}"), who=PRODUCER,
             expect="form[action$='/shipped']"),
    PageCase("my-clubs", goto("/account/clubs"), who=MAIJA, expect="a[href$='/leave']"),
    PageCase("my-clubs-paused", goto("/account/clubs"), who=SVEN, expect=".cdclub-note"),
    PageCase("my-clubs-online", goto("/account/clubs"), who=EMILY),
    PageCase("join", _to(lambda i: f"/account/clubs/{i.club[CRIME]}/join"), who=EMILY, expect="input#street_address"),
    PageCase("join-with-errors", _submit_empty(lambda i: f"/account/clubs/{i.club[CRIME]}/join"), who=EMILY,
             has_error_summary=True, expect="#error-summary a[href='#street_address']"),
    PageCase("join-online", _to(lambda i: f"/account/clubs/{i.club[ONLINE]}/join"), who=MAIJA),
    PageCase("address", _to(lambda i: f"/account/clubs/{i.club[CRIME]}/address"), who=MAIJA,
             expect="select#country"),
    PageCase("address-with-errors", _submit_empty(lambda i: f"/account/clubs/{i.club[CRIME]}/address"), who=MAIJA,
             has_error_summary=True),
    PageCase("leave", _to(lambda i: f"/account/clubs/{i.club[CRIME]}/leave"), who=MAIJA, expect="main ul li"),
    PageCase("patron-lookup", goto("/staff/clubs/patrons"), who=LIBRARIAN, expect="input#card"),
    PageCase("patron-lookup-found", goto(f"/staff/clubs/patrons?card={SVEN}"), who=LIBRARIAN,
             expect="form[action$='/resume']"),
    PageCase("patron-lookup-not-found", goto("/staff/clubs/patrons?card=2999999999"), who=LIBRARIAN,
             has_error_summary=True),
    PageCase("join-for-patron", _to(lambda i: f"/staff/clubs/patrons/{i.patron[MATTI]}/join/{i.club[CRIME]}"),
             who=LIBRARIAN, expect="input#street_address"),
    PageCase("member-address", _to(lambda i: f"/staff/clubs/members/{i.member[(MATTI, NONFICTION)]}/address"),
             who=LIBRARIAN, expect="input#street_address"),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_club_page_is_accessible(make_context: Any, login_state: Any, live_server: Any, case: PageCase,
                                 lang: str) -> None:
    check_page(make_context, login_state, live_server, case, lang)


# ---------------------------------------------------------------- keyboard only

def test_patron_joins_a_cd_club_with_the_keyboard_only(make_context: Any, login_state: Any,
                                                        live_server: Any) -> None:
    from app.cdclub.models import ClubMember

    crime = ids(live_server.app).club[CRIME]
    page = make_context(storage_state=login_state(KAISA), locale="en-GB").new_page()
    page.goto("/account/clubs")
    skip_to_main(page)
    tab_to(page, lambda info: (info["href"] or "").endswith(f"/account/clubs/{crime}/join"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == f"/account/clubs/{crime}/join"
    assert "First club books expected around" in page.locator("main").inner_text()

    skip_to_main(page)
    assert press(page, "Tab")["id"] == "recipient_name"  # left empty: the name on the card is used
    assert press(page, "Tab")["id"] == "address_extra"
    for field_id, text in (("street_address", "Koulukatu 3 B 7"), ("postal_code", "00500"), ("city", "Helsinki")):
        assert press(page, "Tab")["id"] == field_id
        page.keyboard.type(text)
    assert press(page, "Tab")["id"] == "country"  # Finland is chosen already
    button = press(page, "Tab")
    assert button["tag"] == "button" and button["text"] == "Join the club", button
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert path_of(page) == "/account/clubs"
    assert "Welcome to Crime Club" in page.locator(".flashes").inner_text()
    section = page.locator(f"section[aria-labelledby='club-{crime}']")
    assert "Koulukatu 3 B 7" in section.inner_text() and "00500" in section.inner_text()
    assert section.locator("a[href$='/leave']").count() == 1, "now a member: the club can be left"
    with db_session(live_server.app) as session:
        member = session.scalar(select(ClubMember).where(ClubMember.club_id == crime,
                                                         ClubMember.patron_id == ids(live_server.app).patron[KAISA]))
        assert member is not None and member.status == "active" and member.city == "Helsinki"


@pytest.mark.parametrize("case", [c for c in PAGES if c.name in (
    "dashboard", "club", "club-new-with-errors", "period-picking", "run-in-production", "my-clubs-paused",
    "join-with-errors", "leave", "patron-lookup-found")], ids=lambda c: c.name)
def test_every_tab_stop_shows_focus_both_ways(make_context: Any, login_state: Any, live_server: Any,
                                              case: PageCase) -> None:
    page = make_context(storage_state=login_state(case.who) if case.who else None, locale="en-GB").new_page()
    case.open(page, live_server)
    tab_through_both_ways(page, limit=150)


@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_page_reflows_at_400_percent_zoom(make_context: Any, login_state: Any, live_server: Any,
                                          case: PageCase) -> None:
    """At 320 CSS px the page scrolls only vertically; a wide table scrolls inside its own region."""
    page = make_context(storage_state=login_state(case.who) if case.who else None, locale="en-GB",
                        **ZOOMS["400-percent-reflow"]).new_page()
    case.open(page, live_server)
    assert_no_horizontal_scrolling(page)
