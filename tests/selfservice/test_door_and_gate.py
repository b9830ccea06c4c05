"""The self-service door (JSON API and SIP2 63 with PA), its own rules and audit, the maintenance break,
and the `flask sip2` commands."""
from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app import audit, gate
from app.accounts.models import Patron
from app.circulation import service
from app.circulation import service_selfservice as selfservice
from app.circulation.sip2 import handlers
from tests.selfservice.sipclient import STAMP, SipClient, field

KIOSK = {"Authorization": "Basic " + base64.b64encode(b"kiosk-mikkeli:kuulo-demo-2026").decode()}
ADULT, CHILD = "2000000001", "2000000005"


def door(client: Any, card: str = ADULT, pin: str = "1234", branch: str = "mikkeli", headers: Any = None) -> Any:
    return client.post("/api/v1/self-service/door-checks", json={"card": card, "pin": pin, "branch": branch},
                       headers=KIOSK if headers is None else headers)


def patron_id(sm: Any, card: str) -> int:
    with sm.begin() as s:
        return s.scalar(select(Patron.id).where(Patron.card_number == card))


class Closed:
    def closure(self, component: str, now: datetime, language: str) -> gate.Closure | None:
        if component != "self_service":
            return None
        return gate.Closure(component, now + timedelta(hours=1), "http://kuulo.test/status/m/1", "Break")


@pytest.fixture()
def break_on() -> Any:
    previous = gate._provider
    gate.set_provider(Closed())
    yield
    gate.set_provider(previous)


def test_door_permits_the_adult_and_audits_the_decision(demo: Any, client: Any, sm: Any) -> None:
    resp = door(client)
    assert resp.status_code == 200
    assert resp.json == {"permitted": True, "reason": "permitted", "open_until": "2026-11-23T22:00:00+02:00"}
    with sm.begin() as s:
        log = selfservice.door_log(s, patron_id(sm, ADULT))
    assert [(e.details["reason"], e.details["branch"]) for e in log] == [("permitted", "mikkeli")]


def test_door_refuses_out_of_hours_a_child_without_consent_and_a_wrong_pin(demo: Any, client: Any,
                                                                           sm: Any, now: Any) -> None:
    assert door(client, card=CHILD).json == {"permitted": False, "reason": "guardian_consent_missing"}
    assert door(client, pin="9999").json["reason"] == "invalid_card_or_pin"
    assert door(client, card="2999999999").json["reason"] == "invalid_card_or_pin"
    demo.config["FAKE_NOW"] = datetime(2026, 11, 23, 21, 30, tzinfo=UTC).isoformat()  # 23:30 in Mikkeli
    assert door(client).json == {"permitted": False, "reason": "outside_self_service_hours"}
    demo.config["FAKE_NOW"] = now.isoformat()
    with sm.begin() as s:  # the guardian's consent arrives at the desk
        selfservice.set_patron_self_service(s, patron_id(sm, CHILD), now=now, actor="test", guardian_consent=True)
    assert door(client, card=CHILD).json["permitted"] is True


def test_door_follows_the_branch_calendar_closed_days_and_exceptions(demo: Any, client: Any, sm: Any,
                                                                     now: Any) -> None:
    """Independence Day (a closed day of Mikkeli's calendar) keeps the door shut; a Sunday, when the staffed
    library is closed every week, does not; an exceptional early closing ends self-service early too."""
    from datetime import date

    from app.circulation.demo import FINNISH_WEEK
    from app.circulation.models import Branch

    try:
        demo.config["FAKE_NOW"] = datetime(2026, 12, 6, 10, 0, tzinfo=UTC).isoformat()  # 12:00, a holiday
        refused = door(client)
        assert refused.json == {"permitted": False, "reason": "closed_today"}
        demo.config["FAKE_NOW"] = datetime(2026, 11, 29, 10, 0, tzinfo=UTC).isoformat()  # an ordinary Sunday
        assert door(client).json["permitted"] is True
        with sm.begin() as s:
            mikkeli = s.scalar(select(Branch.id).where(Branch.code == "mikkeli"))
            service.add_calendar_version(s, branch_id=mikkeli, valid_from=date(2026, 11, 24), weekly=FINNISH_WEEK,
                                         exceptional_hours={date(2026, 11, 27): "10:00-14:00"}, now=now,
                                         actor="test")
        demo.config["FAKE_NOW"] = datetime(2026, 11, 27, 11, 0, tzinfo=UTC).isoformat()  # 13:00 local
        assert door(client).json == {"permitted": True, "reason": "permitted",
                                     "open_until": "2026-11-27T14:00:00+02:00"}
        demo.config["FAKE_NOW"] = datetime(2026, 11, 27, 13, 0, tzinfo=UTC).isoformat()  # 15:00 local
        assert door(client).json["reason"] == "outside_self_service_hours"
    finally:
        demo.config["FAKE_NOW"] = now.isoformat()
    with sm.begin() as s:
        reasons = [e.details["reason"] for e in selfservice.door_log(s, patron_id(sm, ADULT))]
    assert reasons[0] == "closed_today"  # the newest: 6 December
    with demo.test_request_context(), force_locale("en"):
        assert "closed today" in str(handlers.DOOR_TEXTS["closed_today"])


def test_door_rules_are_their_own(demo: Any, client: Any, sm: Any, now: Any) -> None:
    """A fine does not lock anyone out; missing terms, a premises ban or a needed activation do."""
    adult = patron_id(sm, ADULT)
    with sm.begin() as s:
        service.charge_damaged(s, item_barcode="L0001", now=now, actor="test")  # over the billing-ban limit
    assert door(client).json["permitted"] is True
    with sm.begin() as s:
        selfservice.set_branch_self_service(s, branch="lumme/mikkeli", opens="07:00", closes="22:00",
                                            requires_activation=True, now=now, actor="test")
    assert door(client).json["reason"] == "not_activated"
    with sm.begin() as s:
        selfservice.set_patron_self_service(s, adult, now=now, actor="test", activated=True, terms_accepted=False)
    assert door(client).json["reason"] == "terms_not_accepted"
    with sm.begin() as s:
        service.record_premises_ban(s, patron_id=adult, hearing_held_on=now.date(), decided_on=now.date(),
                                    starts_on=now.date(), ends_on=now.date() + timedelta(days=7), now=now,
                                    actor="test", decision_maker="Director", reason="disturbance")
    assert door(client).json["reason"] == "premises_ban"
    assert door(client, branch="savonlinna").status_code == 403  # the terminal's own branch only


def test_door_needs_terminal_credentials(demo: Any, client: Any) -> None:
    assert door(client, headers={}).status_code == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"kiosk-mikkeli:wrong").decode()}
    resp = door(client, headers=wrong)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    card_pin = {"Authorization": "Basic " + base64.b64encode(b"2000000001:1234").decode()}
    assert door(client, headers=card_pin).status_code == 401  # a patron's card is no terminal
    assert client.post("/api/v1/self-service/door-checks", json={"card": "1\x00", "pin": "1234", "branch": "x"},
                       headers=KIOSK).status_code == 422
    assert client.post("/api/v1/self-service/door-checks", json={"card": 5}, headers=KIOSK).status_code == 422


def test_door_over_sip2(sip: Any, sm: Any) -> None:
    with SipClient(sip.port) as controller:
        controller.login()
        opened = controller.send(f"63001{STAMP}          AOlumme|AA{ADULT}|AD1234|PA|")
        assert field(opened, "PA") == "1" and field(opened, "BL") == "Y" and field(opened, "CQ") == "Y"
        shut = controller.send(f"63001{STAMP}          AOlumme|AA{CHILD}|AD1234|PA|")
        assert field(shut, "PA") == "0" and field(shut, "AF")
    with sm.begin() as s:
        reasons = [e.details["reason"] for e in audit.events(s, action="selfservice.door")]
    assert sorted(reasons) == ["guardian_consent_missing", "permitted"]


def test_a_break_closes_checkouts_and_the_door_but_not_returns(sip: Any, client: Any, break_on: Any) -> None:
    assert door(client).json == {"permitted": False, "reason": "closed_for_maintenance"}
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        assert kiosk.send("9900302.00")[4] == "N"  # checkout not OK
        refused = kiosk.send(f"11NN{STAMP}{STAMP}AOlumme|AA{ADULT}|ABL0006|AC|AD1234|")
        with sip.server.app.app_context(), force_locale("fi"):
            closed_text = str(handlers.TEXTS["closed"])
        assert refused.startswith("120") and field(refused, "AF") == closed_text
        assert kiosk.send(f"09N{STAMP}{STAMP}APmikkeli|AOlumme|ABL0001|AC|").startswith("101")


def test_the_terminal_commands(demo: Any, sm: Any, sip: Any) -> None:
    runner = demo.test_cli_runner()
    added = runner.invoke(args=["sip2", "terminals", "add", "door-mikkeli", "--branch", "lumme/mikkeli",
                                "--password-stdin"], input="door-password-2026\n")
    assert added.exit_code == 0, added.output
    short = runner.invoke(args=["sip2", "terminals", "add", "x", "--branch", "mikkeli", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0
    listed = runner.invoke(args=["sip2", "terminals", "list"])
    assert "door-mikkeli\tmikkeli" in listed.output and "kiosk-mikkeli" in listed.output
    with SipClient(sip.port) as terminal:
        assert terminal.login("door-mikkeli", "door-password-2026") == "941"
    assert runner.invoke(args=["sip2", "terminals", "disable", "door-mikkeli"]).exit_code == 0
    with SipClient(sip.port) as terminal:
        assert terminal.login("door-mikkeli", "door-password-2026") == "940"
    hours = runner.invoke(args=["sip2", "hours", "lumme/savonlinna", "--opens", "08:00", "--closes", "20:00"])
    assert hours.exit_code == 0, hours.output
    consent = runner.invoke(args=["sip2", "patron", CHILD, "--consent"])
    assert consent.exit_code == 0, consent.output
    with sm.begin() as s:
        child = s.scalar(select(Patron.id).where(Patron.card_number == CHILD))
        from app.circulation.sip2.models import SelfServicePatron

        assert s.get(SelfServicePatron, child).guardian_consent_at is not None
