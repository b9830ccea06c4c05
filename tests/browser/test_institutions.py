"""Institution applications in real Chromium [002, issue 5]: every page of the domain — the public form (empty,
with errors, sent), the applicant's private page in each state, the reviewer's queue, an application in each
state, the figures — passes axe-core (WCAG 2.1 A/AA) with one h1 and the right <html lang> in fi/sv/en; and an
institution applies, and a reviewer claims and approves, with the keyboard only."""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.support import (
    LANGUAGES,
    ZOOMS,
    PageCase,
    assert_focus_visible,
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

REVIEWER = "reviewer@demo.kuulo.test"
ADMIN = "admin@demo.kuulo.test"
ADULT_ID = "120575-234N"  # a valid identity code of someone born in 1975
LINK_RE = re.compile(r"/institutions/application/([A-Za-z0-9_\-]+)")
_numbers = itertools.count(3100000)


def new_business_id() -> str:
    """A Y-tunnus not used before in this test session, with a valid check digit."""
    from stdnum.fi import ytunnus

    while True:
        base = str(next(_numbers))
        for digit in "0123456789":
            if ytunnus.is_valid(f"{base}-{digit}"):
                return f"{base}-{digit}"


def application_fields(name: str, business_id: str) -> dict[str, Any]:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return {"name": name, "type": "school", "business_id": business_id, "street_address": "Koulukatu 1",
            "postal_code": "00100", "city": "Helsinki", "email": f"{slug}@demo.kuulo.test", "phone": "+358 9 123 4567",
            "responsible_person": {"given_names": "Riikka", "surname": "Rehtori", "national_id": ADULT_ID,
                                   "email": f"rehtori.{slug}@demo.kuulo.test", "phone": ""},
            "consent": True}


def private_link_token(session: Any, email: str) -> str:
    """The applicant's private link, read from the newest email sent to ``email`` that carries one (the link's
    token is stored only hashed)."""
    from app.notify.models import OutboxMessage

    bodies = session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == email)
                             .order_by(OutboxMessage.id.desc()))
    for body in bodies:
        if match := LINK_RE.search(body):
            return match.group(1)
    raise AssertionError(f"no email with a private link to {email}")


@dataclass(frozen=True)
class Created:
    id: int
    token: str  # the raw token of the applicant's private link


def create_application(app: Any, name: str, *steps: str) -> Created:
    """Submit an application through the service (as the form does) and read its private link from the outbox;
    then take ``steps`` as the demo reviewer: claim, question, answer (by the applicant), approve, reject."""
    from app.accounts.models import StaffUser
    from app.institutions import service, web
    from app.institutions.validation import parse_application

    with db_session(app) as session:
        settings = web.settings()
        raw = application_fields(name, new_business_id())
        application = service.submit_application(session, parse_application(raw), settings=settings,
                                                 language="en", now=FIXED_NOW).application
        token = private_link_token(session, application.email)
        reviewer = session.scalar(select(StaffUser).where(StaffUser.email == REVIEWER))
        kw = {"reviewer": reviewer, "now": FIXED_NOW}
        for step in steps:
            if step == "claim":
                service.claim(session, application.id, settings=settings, **kw)
            elif step == "question":
                service.request_information(session, application.id, settings=settings, **kw,
                                            text="Could you send the consent signed by the responsible person?")
            elif step == "answer":
                service.answer_information_request(session, application, text="The signed consent comes by post.",
                                                   document=None, uploads=None, now=FIXED_NOW)
            elif step == "approve":
                assert service.approve(session, application.id, settings=settings, **kw).outcome == "approved"
            elif step == "reject":
                service.reject(session, application.id, settings=settings, **kw,
                               reason="An institution account is not needed:\nthe school already has one.")
            else:
                raise ValueError(step)
        return Created(application.id, token)


# One application per state, made once per test session (the same for every language).
STATES: dict[str, tuple[str, ...]] = {
    "submitted": (),
    "claimed": ("claim",),
    "needs-information": ("claim", "question"),
    "answered": ("claim", "question", "answer"),
    "approved": ("claim", "approve"),
    "rejected": ("claim", "reject"),
}
_made: dict[tuple[int, str], Created] = {}


def in_state(app: Any, state: str) -> Created:
    key = (id(app), state)
    if key not in _made:
        _made[key] = create_application(app, f"Testikoulu {state}", *STATES[state])
    return _made[key]


def _status(state: str) -> Callable[[Any, Any], Any]:
    return lambda page, server: page.goto(f"/institutions/application/{in_state(server.app, state).token}")


def _detail(state: str) -> Callable[[Any, Any], Any]:
    return lambda page, server: page.goto(f"/staff/institutions/applications/{in_state(server.app, state).id}")


def _submit(page: Any) -> Any:
    with page.expect_navigation() as nav:
        page.locator("main form button[type=submit]").last.click()
    return nav.value


def _apply_with_errors(page: Any, server: Any) -> Any:
    page.goto("/institutions/apply")
    page.fill("#business_id", "1234567-2")  # a wrong check digit
    page.fill("#rp_national_id", "010120A123B")  # a child's code, with a wrong check character
    return _submit(page)


def _apply_sent(page: Any, server: Any) -> Any:
    page.goto("/institutions/apply")
    fields = application_fields("Päiväkoti Lukupesä", new_business_id())
    for name in ("name", "business_id", "street_address", "postal_code", "city", "email", "phone"):
        page.fill(f"#{name}", fields[name])
    for name in ("given_names", "surname", "national_id", "email"):
        page.fill(f"#rp_{name}", fields["responsible_person"][name])
    page.check("input[name=type][value=daycare]")
    page.check("#consent")
    return _submit(page)


def _answer_without_text(page: Any, server: Any) -> Any:
    _status("needs-information")(page, server)
    return _submit(page)


def _reject_without_reason(page: Any, server: Any) -> Any:
    _detail("claimed")(page, server)
    with page.expect_navigation() as nav:
        page.locator("form[action$='/reject'] button[type=submit]").click()
    return nav.value


PAGES = [
    PageCase("apply", goto("/institutions/apply"), expect="input#consent[type=checkbox]"),
    PageCase("apply-with-errors", _apply_with_errors, has_error_summary=True,
             expect="#error-summary a[href='#business_id']"),
    PageCase("apply-sent", _apply_sent, expect="main a[href='/']"),
    PageCase("status-submitted", _status("submitted"), expect="main form textarea#message"),
    PageCase("status-in-review", _status("claimed")),
    PageCase("status-needs-information", _status("needs-information"), expect="ol.messages"),
    PageCase("status-answer-with-errors", _answer_without_text, has_error_summary=True,
             expect="#error-summary a[href='#message']"),
    PageCase("status-approved", _status("approved")),
    PageCase("status-rejected", _status("rejected"), expect=".preserve-lines"),
    PageCase("status-unknown-link", goto("/institutions/application/no-such-link"), status=404),
    PageCase("queue", goto("/staff/institutions/applications"), who=REVIEWER, expect="table.queue .badge-late"),
    PageCase("queue-all", goto("/staff/institutions/applications?state=all"), who=REVIEWER,
             expect="table.queue"),
    PageCase("queue-none-match", goto("/staff/institutions/applications?state=rejected&type=care_home"),
             who=REVIEWER),
    PageCase("detail-submitted", _detail("submitted"), who=REVIEWER, expect="form[action$='/claim']"),
    PageCase("detail-claimed-by-me", _detail("claimed"), who=REVIEWER, expect="form[action$='/approve']"),
    PageCase("detail-reject-with-errors", _reject_without_reason, who=REVIEWER, status=422,
             has_error_summary=True, expect="#error-summary a[href='#reason']"),
    PageCase("detail-claimed-by-other", _detail("claimed"), who=ADMIN, expect=".actions p"),
    PageCase("detail-needs-information", _detail("needs-information"), who=REVIEWER,
             expect="form[action$='/claim']"),
    PageCase("detail-answered", _detail("answered"), who=REVIEWER, expect="ol.messages li + li"),
    PageCase("detail-approved", _detail("approved"), who=REVIEWER),
    PageCase("detail-rejected", _detail("rejected"), who=REVIEWER, expect=".preserve-lines"),
    PageCase("figures", goto("/staff/institutions/figures"), who=REVIEWER),
    PageCase("figures-year", goto("/staff/institutions/figures?days=365"), who=REVIEWER),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_institution_page_is_accessible(make_context: Any, login_state: Any, live_server: Any, case: PageCase,
                                        lang: str) -> None:
    check_page(make_context, login_state, live_server, case, lang)


# ---------------------------------------------------------------- keyboard only

def test_institution_applies_with_the_keyboard_only(make_context: Any, live_server: Any) -> None:
    page = make_context(locale="en-GB").new_page()
    page.goto("/institutions/apply")
    fields = application_fields("Kirkonkylän koulu", new_business_id())
    person = fields["responsible_person"]
    skip_to_main(page)

    def type_into(field_id: str, text: str) -> None:
        assert press(page, "Tab")["id"] == field_id
        page.keyboard.type(text)

    type_into("name", fields["name"])
    radio = press(page, "Tab")
    assert radio["name"] == "type" and radio["type"] == "radio", radio
    page.keyboard.press("ArrowDown")  # arrows move within the radio group and choose
    assert_focus_visible(page)
    assert page.locator("input[name=type]:checked").get_attribute("value") == "daycare"
    for name in ("business_id", "street_address", "postal_code", "city", "email", "phone"):
        type_into(name, fields[name])
    for name in ("given_names", "surname", "national_id", "email"):
        type_into(f"rp_{name}", person[name])
    assert press(page, "Tab")["id"] == "rp_phone"  # optional: left empty
    assert press(page, "Tab")["id"] == "consent"
    page.keyboard.press("Space")
    assert page.locator("#consent").is_checked()
    assert press(page, "Tab")["id"] == "document"  # optional: no file
    button = press(page, "Tab")
    assert button["tag"] == "button" and button["type"] == "submit", button
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert path_of(page) == "/institutions/apply/sent"
    assert page.locator("h1").inner_text() == "Application received"
    assert fields["email"] in page.locator("main").inner_text()
    with db_session(live_server.app) as session:  # the email carries the private link: it opens the application
        token = private_link_token(session, fields["email"])
    page.goto(f"/institutions/application/{token}")
    assert "Waiting for review" in page.locator("main").inner_text()
    assert fields["name"] in page.locator("main").inner_text()


def test_reviewer_claims_and_approves_with_the_keyboard_only(make_context: Any, login_state: Any,
                                                              live_server: Any) -> None:
    from app.institutions.models import InstitutionApplication
    from app.notify.models import OutboxMessage

    created = create_application(live_server.app, "Näppäinlukion kirjasto")
    page = make_context(storage_state=login_state(REVIEWER), locale="en-GB").new_page()
    page.goto("/staff/institutions/applications")
    skip_to_main(page)
    tab_to(page, lambda info: (info["href"] or "").endswith(f"/applications/{created.id}"), limit=100)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == f"/staff/institutions/applications/{created.id}"

    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "button" and info["text"] == "Take for review")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "The application is yours to review." in page.locator(".flashes").inner_text()

    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "button" and info["text"] == "Approve and send the credentials")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == f"/staff/institutions/applications/{created.id}"
    assert "credentials were sent" in page.locator(".flashes").inner_text()
    assert page.locator("dl.facts dd").first.inner_text().startswith("Approved")

    with db_session(live_server.app) as session:
        application = session.get(InstitutionApplication, created.id)
        assert application.state == "approved" and application.patron_id is not None
        sent = session.scalars(select(OutboxMessage).where(
            OutboxMessage.key == f"institutions:credentials:{created.id}")).all()
        assert len(sent) == 1 and application.patron.card_number in sent[0].body


@pytest.mark.parametrize("case", [c for c in PAGES if c.name in (
    "apply", "apply-with-errors", "status-needs-information", "queue", "detail-claimed-by-me", "detail-answered",
    "figures")], ids=lambda c: c.name)
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
