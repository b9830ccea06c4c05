"""The self-service pages: terminals on /staff/admin/terminals, a patron's standing and door log at the desk,
and the patron's own page in My account."""
from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import func, select

from app.accounts.models import Patron
from app.audit import AuditEvent
from app.circulation import service_selfservice as selfservice
from app.circulation.models import Branch
from app.circulation.sip2.handlers import TerminalState
from app.circulation.sip2.models import SipTerminal
from app.circulation.sip2.server import process
from tests import factories

ADULT, CHILD = "2000000001", "2000000005"
DESK = "desk@demo.kuulo.test"


def audited(sm: Any, action: str) -> int:
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def door(client: Any, headers: dict[str, str], card: str = ADULT) -> Any:
    return client.post("/api/v1/self-service/door-checks", json={"card": card, "pin": "1234", "branch": "mikkeli"},
                       headers=headers)


def test_an_admin_adds_disables_enables_and_resets_a_terminal(demo: Any, client: Any, sm: Any, now: Any) -> None:
    with sm.begin() as s:
        factories.staff(s, now, "admin", email="admin@test.kuulo")
        mikkeli = s.scalar(select(Branch.id).where(Branch.code == "mikkeli"))
    factories.login_staff(client, "admin@test.kuulo")
    page = client.get("/staff/admin/terminals")
    assert page.status_code == 200 and "kiosk-mikkeli" in page.text and "never" in page.text
    assert client.get("/staff").text.count("/staff/admin/terminals") == 1  # the staff home links to it

    resp = client.post("/staff/admin/terminals", data={"name": "door-mikkeli", "branch": str(mikkeli),
                                                       "password": "door-password-1", "language": "sv",
                                                       "charset": "cp850"})
    assert resp.status_code == 302
    assert "door-mikkeli was added" in client.get("/staff/admin/terminals").text
    assert door(client, basic("door-mikkeli", "door-password-1")).json["permitted"] is True
    listed = client.get("/staff/admin/terminals").text
    assert "door-mikkeli" in listed and "cp850" in listed
    with sm.begin() as s:
        terminal = s.scalar(select(SipTerminal).where(SipTerminal.name == "door-mikkeli"))
        assert terminal.last_login_at is not None and terminal.language == "sv"
        terminal_id = terminal.id

    # A name taken, a short password: the form answers in words, nothing is added.
    again = client.post("/staff/admin/terminals", data={"name": "door-mikkeli", "branch": str(mikkeli),
                                                        "password": "door-password-1", "language": "fi",
                                                        "charset": "utf-8"})
    assert again.status_code == 409 and "exists already" in again.text
    short = client.post("/staff/admin/terminals", data={"name": "x", "branch": str(mikkeli), "password": "short",
                                                        "language": "fi", "charset": "utf-8"})
    assert short.status_code == 422 and "10–200 characters" in short.text

    assert client.post(f"/staff/admin/terminals/{terminal_id}/disable").status_code == 302
    assert door(client, basic("door-mikkeli", "door-password-1")).status_code == 401
    assert "disabled" in client.get("/staff/admin/terminals").text
    client.post(f"/staff/admin/terminals/{terminal_id}/enable")
    assert door(client, basic("door-mikkeli", "door-password-1")).status_code == 200

    assert client.post(f"/staff/admin/terminals/{terminal_id}/password",
                       data={"password": "a-new-password-2"}).status_code == 302
    assert door(client, basic("door-mikkeli", "door-password-1")).status_code == 401
    assert door(client, basic("door-mikkeli", "a-new-password-2")).status_code == 200
    assert client.post(f"/staff/admin/terminals/{terminal_id}/password", data={"password": "short"}) \
        .status_code == 302
    assert "10–200 characters" in client.get("/staff/admin/terminals").text
    assert client.post("/staff/admin/terminals/999999/disable").status_code == 302
    for action in ("terminal_added", "terminal_disabled", "terminal_enabled", "terminal_password"):
        assert audited(sm, "selfservice." + action) >= 1, action
    log = client.get("/staff/audit?record_type=sip_terminal")
    assert "door-mikkeli" in log.text


def test_a_disabled_terminal_is_answered_no_more_in_an_open_session(demo: Any, client: Any, sm: Any) -> None:
    demo.config["SIP2_TERMINAL_RECHECK_SECONDS"] = 0  # (10 s by default: no lookup on every message)
    state = TerminalState()
    assert process(demo, state, "9300CNkiosk-mikkeli|COkuulo-demo-2026|CPmikkeli|") == "941"
    assert process(demo, state, "1720261123    120000AOlumme|ABL0002|").startswith("18")
    with sm.begin() as s:
        s.scalar(select(SipTerminal).where(SipTerminal.name == "kiosk-mikkeli")).enabled = False
    assert process(demo, state, "1720261123    120000AOlumme|ABL0002|") is None
    assert not state.logged_in


def test_only_admins_reach_the_terminals(demo: Any, client: Any) -> None:
    factories.login_staff(client, DESK, "kuulo-demo-2026")
    assert client.get("/staff/admin/terminals").status_code == 403
    assert client.post("/staff/admin/terminals/1/disable").status_code == 403


def test_the_desk_sees_the_door_log_and_records_terms_consent_and_activation(demo: Any, client: Any,
                                                                            sm: Any) -> None:
    kiosk = basic("kiosk-mikkeli", "kuulo-demo-2026")
    assert door(client, kiosk, CHILD).json["reason"] == "guardian_consent_missing"
    factories.login_staff(client, DESK, "kuulo-demo-2026")
    page = client.get(f"/staff/desk/patrons/{CHILD}/self-service")
    assert page.status_code == 200
    assert "Under-15s need a guardian&#39;s consent" in page.text and "stayed shut" in page.text
    assert "missing: needed because of the patron" in page.text
    resp = client.post(f"/staff/desk/patrons/{CHILD}/self-service/consent")
    assert resp.status_code == 302
    assert "The guardian&#39;s consent is recorded." in client.get(resp.headers["Location"]).text
    assert door(client, kiosk, CHILD).json["permitted"] is True
    page = client.get(f"/staff/desk/patrons/{CHILD}/self-service")
    assert "Welcome! The door opens." in page.text and "opened" in page.text
    assert client.post(f"/staff/desk/patrons/{CHILD}/self-service/nonsense").status_code == 404
    assert client.get("/staff/desk/patrons/0000000000/self-service").status_code == 404
    assert client.get("/staff/desk/patrons/" + "9" * 30 + "/self-service").status_code == 404


def withdraw_terms(sm: Any, now: Any, card: str = ADULT) -> None:
    with sm.begin() as s:
        selfservice.set_patron_self_service(s, s.scalar(select(Patron.id).where(Patron.card_number == card)),
                                            now=now, actor="test", terms_accepted=False)


def test_the_desk_records_terms_for_a_patron_without_them(demo: Any, client: Any, sm: Any, now: Any) -> None:
    withdraw_terms(sm, now)
    factories.login_staff(client, DESK, "kuulo-demo-2026")
    card = ADULT
    page = client.get(f"/staff/desk/patrons/{card}/self-service")
    assert page.status_code == 200 and "not accepted" in page.text
    assert door(client, basic("kiosk-mikkeli", "kuulo-demo-2026"), card).json["reason"] == "terms_not_accepted"
    client.post(f"/staff/desk/patrons/{card}/self-service/terms")
    assert "accepted on" in client.get(f"/staff/desk/patrons/{card}/self-service").text
    assert audited(sm, "selfservice.patron_standing") >= 1
    assert door(client, basic("kiosk-mikkeli", "kuulo-demo-2026"), card).json["permitted"] is True


def test_the_patron_accepts_the_terms_and_sees_her_visits(demo: Any, client: Any, sm: Any, now: Any) -> None:
    withdraw_terms(sm, now)
    card = ADULT
    factories.login_patron(client, card, "1234")
    page = client.get("/account/self-service")
    assert page.status_code == 200
    assert "I accept the self-service terms" in page.text and "No visits to the self-service library yet." in page.text
    assert "Your PIN is set." in page.text
    assert "/account/self-service" in client.get("/account").text  # linked from My account
    resp = client.post("/account/self-service/accept-terms")
    assert resp.status_code == 302
    page = client.get("/account/self-service")
    assert "You accepted the terms on" in page.text and "I accept the self-service terms" not in page.text
    door(client, basic("kiosk-mikkeli", "kuulo-demo-2026"), card)
    assert "Welcome! The door opens." in client.get("/account/self-service").text


def test_the_patron_page_needs_a_patron_login(demo: Any, client: Any) -> None:
    assert client.get("/account/self-service").status_code in (302, 401)
    assert client.post("/account/self-service/accept-terms").status_code in (302, 400, 401)
