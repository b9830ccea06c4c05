"""The status page in real Chromium [002, issue 6]: the public page (with the demo's planned and past breaks;
then with a break in progress and a disruption), the event pages, the subscription form (empty, with errors,
sent) and the status editor's pages (dashboard, the new break form empty/with errors/previewed, a break's update
forms, the disruption forms) pass axe-core (WCAG 2.1 A/AA) with one h1 and the right <html lang> in fi/sv/en;
the public page says the state in words; and an editor announces a maintenance break with the keyboard only."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.support import (
    LANGUAGES,
    ZOOMS,
    PageCase,
    assert_focus_visible,
    assert_no_horizontal_scrolling,
    axe_check,
    check_page,
    db_session,
    goto,
    path_of,
    press,
    skip_to_main,
    tab_to,
)
from tests.conftest import FIXED_NOW

EDITOR = "editor@demo.kuulo.test"
UPCOMING_UID = "demo-upcoming-maintenance@kuulo"
PAST_UID = "demo-past-maintenance@kuulo"
CLOSED = "online_payment"  # no other browser test uses it: the active break closes only this
_events: dict[str, int] = {}


def demo_ids(app: Any) -> dict[str, int]:
    from app.status.models import Maintenance

    if "upcoming" not in _events:
        with db_session(app) as session:
            rows = dict(session.execute(select(Maintenance.uid, Maintenance.id)
                                        .where(Maintenance.uid.in_([UPCOMING_UID, PAST_UID]))).all())
        _events.update(upcoming=rows[UPCOMING_UID], past=rows[PAST_UID])
    return _events


@pytest.fixture(scope="module")
def happening_now(live_server: Any) -> Iterator[dict[str, int]]:
    """A break in progress (closing only online payment) and a disruption (slow CD clubs, nothing closed),
    made through the service; both are ended after this module so that other tests see an open service."""
    from app.status import service
    from app.status.models import Incident, Maintenance

    app = live_server.app
    texts = {"fi": "Testikatko", "sv": "Testavbrott", "en": "Test break"}
    with db_session(app) as session:
        m = service.create_maintenance(
            session, titles=texts, bodies={"en": "Online payment is closed for a while."}, components=[CLOSED],
            scheduled_for=FIXED_NOW - timedelta(hours=1), scheduled_until=FIXED_NOW + timedelta(hours=2),
            reads_open=True, actor="system:browser-tests", now=FIXED_NOW - timedelta(hours=2))
        incident = service.create_incident(
            session, titles={"fi": "CD-kerhot hitaita", "sv": "CD-klubbarna är långsamma", "en": "CD clubs slow"},
            bodies={"en": "We are looking into it."}, impact="minor", status="investigating",
            component_statuses={"cd_clubs": "degraded_performance"}, reads_open=True, expected_end=None,
            actor="system:browser-tests", now=FIXED_NOW)
        _events.update(active=m.id, incident=incident.id)
    yield _events
    with db_session(app) as session:
        service.complete_maintenance(session, session.get(Maintenance, _events["active"]), bodies={},
                                     actor="system:browser-tests", now=FIXED_NOW)
        service.update_incident(session, session.get(Incident, _events["incident"]), status="resolved",
                                bodies={"en": "Fixed."}, impact="minor", component_statuses={},
                                expected_end=None, actor="system:browser-tests", now=FIXED_NOW)


def _to(key: str, path: str) -> Any:
    return lambda page, server: page.goto(path.format(id=(_events if key in _events else demo_ids(server.app))[key]))


def _send(page: Any) -> Any:
    with page.expect_navigation() as nav:
        page.locator("main form[method=post] button[type=submit]:not([name=preview])").last.click()
    return nav.value


def _subscribe_with_errors(page: Any, server: Any) -> Any:
    page.goto("/status/subscribe")
    page.fill("#email", "not-an-address")
    return _send(page)


def _subscribe_sent(page: Any, server: Any) -> Any:
    page.goto("/status/subscribe")
    page.fill("#email", "status.reader@example.com")
    page.locator("input[name=language]").first.check()
    return _send(page)


def _maintenance_with_errors(page: Any, server: Any) -> Any:
    page.goto("/staff/status/maintenance/new")
    return _send(page)


def fill_maintenance(page: Any) -> None:
    page.fill("#title_en", "Library system update")
    page.fill("#body_en", "Payments are closed during the update.")
    page.fill("#starts", "2026-12-15T09:00")
    page.fill("#ends", "2026-12-15T11:00")
    page.check(f"input[name=components][value={CLOSED}]")


def _maintenance_preview(page: Any, server: Any) -> Any:
    page.goto("/staff/status/maintenance/new")
    fill_maintenance(page)
    with page.expect_navigation() as nav:
        page.locator("main form button[name=preview]").click()
    return nav.value


def _incident_with_errors(page: Any, server: Any) -> Any:
    page.goto("/staff/status/incidents/new")
    return _send(page)


BEFORE = [PageCase("status-demo", goto("/status"), expect="section[aria-labelledby='upcoming-title'] a")]
PAGES = [
    PageCase("status-happening-now", goto("/status"), expect="section[aria-labelledby='now-title'] a"),
    PageCase("maintenance-upcoming", _to("upcoming", "/status/maintenance/{id}")),
    PageCase("maintenance-past", _to("past", "/status/maintenance/{id}")),
    PageCase("maintenance-active", _to("active", "/status/maintenance/{id}")),
    PageCase("incident", _to("incident", "/status/incidents/{id}")),
    PageCase("subscribe", goto("/status/subscribe"), expect="input#email"),
    PageCase("subscribe-with-errors", _subscribe_with_errors, has_error_summary=True,
             expect="#error-summary a[href='#email']"),
    PageCase("subscribe-sent", _subscribe_sent, expect="main a[href$='/status']"),
    PageCase("editor-dashboard", goto("/staff/status"), who=EDITOR, expect="main table a"),
    PageCase("editor-new-maintenance", goto("/staff/status/maintenance/new"), who=EDITOR, expect="input#starts"),
    PageCase("editor-new-maintenance-with-errors", _maintenance_with_errors, who=EDITOR, has_error_summary=True),
    PageCase("editor-new-maintenance-preview", _maintenance_preview, who=EDITOR, expect="input#starts"),
    PageCase("editor-maintenance-update", _to("upcoming", "/staff/status/maintenance/{id}"), who=EDITOR,
             expect="main form[action$='/update']"),
    PageCase("editor-maintenance-active", _to("active", "/staff/status/maintenance/{id}"), who=EDITOR),
    PageCase("editor-new-incident", goto("/staff/status/incidents/new"), who=EDITOR),
    PageCase("editor-new-incident-with-errors", _incident_with_errors, who=EDITOR, has_error_summary=True),
    PageCase("editor-incident", _to("incident", "/staff/status/incidents/{id}"), who=EDITOR,
             expect="main form[action$='/update']"),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", BEFORE, ids=[c.name for c in BEFORE])
def test_status_page_with_the_demo_breaks_is_accessible(make_context: Any, login_state: Any, live_server: Any,
                                                        case: PageCase, lang: str) -> None:
    check_page(make_context, login_state, live_server, case, lang)


def test_status_is_said_in_words(make_context: Any, live_server: Any) -> None:
    page = make_context(locale="en-GB").new_page()
    page.goto("/language/en?next=/status")
    main = page.locator("main").inner_text()
    assert "All services are working normally" in main
    assert "No maintenance breaks or disruptions right now." in main
    assert "The e-library moves to a new system" in main and "Web library upgrade" in main
    states = page.locator("table.status-components tbody td").all_inner_texts()
    assert states and all("Operational" in s for s in states), states


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_status_page_is_accessible(happening_now: Any, make_context: Any, login_state: Any, live_server: Any,
                                   case: PageCase, lang: str) -> None:
    check_page(make_context, login_state, live_server, case, lang)


def test_break_and_disruption_are_said_in_words(happening_now: Any, make_context: Any, live_server: Any) -> None:
    page = make_context(locale="en-GB").new_page()
    page.goto("/language/en?next=/status")
    overall = page.locator(".status-overall").inner_text()
    assert "Some services are slower than usual" in overall  # the disruption outranks the planned break
    rows = {r.locator("th").inner_text(): r.locator("td").inner_text()
            for r in page.locator("table.status-components tbody tr").all()}
    assert "Under maintenance" in rows.values() or any("Under maintenance" in s for s in rows.values()), rows
    assert any("Degraded performance" in s for s in rows.values()), rows
    now = page.locator("section[aria-labelledby='now-title']").inner_text()
    assert "Test break" in now and "CD clubs slow" in now and "In progress" in now and "Investigating" in now


# ---------------------------------------------------------------- keyboard only

def test_editor_announces_a_maintenance_break_with_the_keyboard_only(make_context: Any, login_state: Any,
                                                                     live_server: Any) -> None:
    from app.status import service
    from app.status.models import Maintenance

    page = make_context(storage_state=login_state(EDITOR), locale="en-GB").new_page()
    page.goto("/staff/status")
    skip_to_main(page)
    tab_to(page, lambda info: (info["href"] or "").endswith("/staff/status/maintenance/new"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/staff/status/maintenance/new"

    skip_to_main(page)
    back = press(page, "Tab")
    assert (back["href"] or "").endswith("/staff/status"), back  # the way back to the dashboard comes first
    texts = {"fi": ("Kassajärjestelmän päivitys", "Maksaminen ei onnistu päivityksen aikana."),
             "sv": ("Uppdatering av kassasystemet", "Betalning fungerar inte under uppdateringen."),
             "en": ("Till system update", "Payments do not work during the update.")}
    for lang, (title, body) in texts.items():
        assert press(page, "Tab")["id"] == f"title_{lang}"
        page.keyboard.type(title)
        assert press(page, "Tab")["id"] == f"body_{lang}"
        page.keyboard.type(body)
    for field_id, time in (("starts", "0900A"), ("ends", "1130A")):
        assert tab_to(page, lambda info, wanted=field_id: info["id"] == wanted, limit=10)["id"] == field_id
        # Headless Chromium draws the field as mm/dd/yyyy, hh:mm AM/PM whatever the locale. Each full part
        # moves on by itself, but the year takes up to six digits: the right arrow moves on from it.
        page.keyboard.type("12162026")
        page.keyboard.press("ArrowRight")
        page.keyboard.type(time)
    assert page.locator("#starts").input_value() == "2026-12-16T09:00"
    assert page.locator("#ends").input_value() == "2026-12-16T11:30"
    box = tab_to(page, lambda info: info["type"] == "checkbox" and info["name"] == "components", limit=10)
    while page.evaluate("document.activeElement.value") != CLOSED:
        box = press(page, "Tab")
        assert box["name"] == "components", box
    page.keyboard.press("Space")
    assert page.locator(f"input[name=components][value={CLOSED}]").is_checked()

    preview = tab_to(page, lambda info: info["tag"] == "button" and info["name"] == "preview")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Till system update" in page.locator("main").inner_text(), preview
    assert page.locator("#title_en").input_value() == "Till system update"

    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "button" and info["text"] == "Publish the announcement", limit=80)
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page).startswith("/staff/status/maintenance/")
    assert "The maintenance break is announced." in page.locator(".flashes").inner_text()
    with db_session(live_server.app) as session:
        made = session.scalar(select(Maintenance).where(Maintenance.titles["en"].as_string() == "Till system update"))
        assert made is not None and made.components == [CLOSED] and made.state == "scheduled"
        service.cancel_maintenance(session, made, bodies={"en": "Cancelled by the browser tests."},
                                   actor="system:browser-tests", now=FIXED_NOW)


@pytest.mark.parametrize("case", BEFORE + PAGES, ids=[c.name for c in BEFORE + PAGES])
def test_page_reflows_at_400_percent_zoom(happening_now: Any, make_context: Any, login_state: Any,
                                          live_server: Any, case: PageCase) -> None:
    page = make_context(storage_state=login_state(case.who) if case.who else None, locale="en-GB",
                        **ZOOMS["400-percent-reflow"]).new_page()
    case.open(page, live_server)
    assert_no_horizontal_scrolling(page)


# ---------------------------------------------------------------- a closed service, seen by its user [issue 16]

def test_a_librarian_sees_a_registration_break_before_starting_and_keeps_what_was_typed(
        make_context: Any, login_state: Any, live_server: Any) -> None:
    from app.status import service
    from app.status.models import Maintenance

    app = live_server.app
    page = make_context(storage_state=login_state("librarian@demo.kuulo.test"), locale="en-GB").new_page()
    page.goto("/language/en?next=/staff/registrations/new")
    page.fill("#given_names", "Maija")
    page.fill("#surname", "Meikäläinen")
    texts = {"fi": "Rekisteröintikatko", "sv": "Registreringsavbrott", "en": "Registration break"}
    with db_session(app) as session:  # the break starts while the form is being filled in
        break_id = service.create_maintenance(
            session, titles=texts, bodies={"en": "Registration is closed."}, components=["registration"],
            scheduled_for=FIXED_NOW - timedelta(minutes=1), scheduled_until=FIXED_NOW + timedelta(hours=1),
            reads_open=True, actor="system:browser-tests", now=FIXED_NOW - timedelta(minutes=2)).id
    try:
        with page.expect_navigation() as nav:
            page.locator("main form button[type=submit]").click()
        assert nav.value.status == 503
        main = page.locator("main").inner_text()
        assert "Registration break" in main and "Maija" in main and "Meikäläinen" in main
        assert page.locator("[role=alert]").count() == 1
        axe_check(page)
        page.goto("/staff/registrations/new")
        assert page.locator("input[name=national_id]").count() == 0
        assert "Registration break" in page.locator(".closure-notice").inner_text()
        banner = page.locator("section.status-banner")
        assert "Patron registration" in banner.inner_text() and banner.locator("a[href='/status']").count() == 1
        axe_check(page)
    finally:
        with db_session(app) as session:
            service.complete_maintenance(session, session.get(Maintenance, break_id), bodies={},
                                         actor="system:browser-tests", now=FIXED_NOW)
