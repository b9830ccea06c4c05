"""Rules asked from the circulation core, the staff JSON API, the figures, and the demo data."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.accounts import identity
from app.accounts import service as accounts
from app.circulation import service as circulation
from app.circulation.money import Money
from app.institutions import service
from app.institutions.models import InstitutionAccount, InstitutionApplication
from tests import factories
from tests.institutions import helpers
from tests.institutions.test_review_cycle import post, staff_client


def put_under_billing_ban(app, sm, now, national_id: str) -> int:
    """The responsible person is a patron of Tampere who lost an 80 EUR book: banned over 10 EUR [003]."""
    with sm.begin() as s:
        person = accounts.create_patron(
            s, name="Riitta Rehtori", now=now, actor="test", pin="1234",
            national_id_hash=identity.identity_hash(app.config["IDENTITY_HASH_KEY"], national_id),
            birth_date=date(1980, 3, 15))
        circulation.create_library(s, code="tampere", name="Tampere", preset="tampere", now=now)
        branch = circulation.add_branch(s, library_code="tampere", code="linna", name="Linna")
        circulation.add_calendar_version(s, branch_id=branch.id, valid_from=date(2020, 1, 1), now=now, actor="test",
                                         weekly={d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri")})
        circulation.add_item(s, library_code="tampere", barcode="T1", title="SICP", material_type="book",
                             home_branch="linna", replacement_price=Money.parse("80.00", "EUR"), now=now)
        circulation.enrol_patron(s, patron_id=person.id, library_code="tampere", category="staff",
                                 home_branch="linna", now=now, actor="test")
        loan = circulation.checkout(s, patron_id=person.id, item_barcode="T1", branch="linna", now=now,
                                    actor="test").loan
        circulation.declare_lost(s, loan.id, now=now, actor="test")
        assert circulation.is_under_billing_ban(s, person.id, now)
        return person.id


def test_approval_is_refused_when_the_responsible_person_is_under_a_billing_ban(app, client, sm, now):
    put_under_billing_ban(app, sm, now, helpers.ADULT_ID)
    application_id = helpers.apply_via_api(client)  # the public form says nothing about bans
    helpers.reviewer(sm, now)
    reviewer = staff_client(app, "reviewer@test.kuulo")
    page = post(reviewer, application_id, "claim").text
    assert "Responsible person cannot be accepted:" in page and "borrowing ban because of billing" in page
    page = post(reviewer, application_id, "approve").text
    assert "Approval refused: The responsible person is under a borrowing ban" in page
    with sm.begin() as s:
        application = s.get(InstitutionApplication, application_id)
        assert application.state == "in_review" and application.patron_id is None
        assert s.scalar(select(func.count()).select_from(InstitutionAccount)) == 0
    assert helpers.outbox(sm, "institutions_credentials") == []
    from tests.institutions.test_review_cycle import actions

    assert actions(sm, application_id)[-1] == "approval_refused"


def test_the_responsible_persons_own_patron_account_is_linked_on_approval(app, client, sm, now):
    with sm.begin() as s:
        person = accounts.create_patron(
            s, name="Riitta Rehtori", now=now, actor="test", pin="1234", birth_date=date(1980, 3, 15),
            national_id_hash=identity.identity_hash(app.config["IDENTITY_HASH_KEY"], helpers.ADULT_ID))
        person_id = person.id
    application_id = helpers.apply_via_api(client)
    helpers.reviewer(sm, now)
    reviewer = staff_client(app, "reviewer@test.kuulo")
    post(reviewer, application_id, "claim")
    post(reviewer, application_id, "approve")
    with sm.begin() as s:
        account = s.scalar(select(InstitutionAccount))
        assert account.responsible_patron_id == person_id and account.patron.kind == "institution"


def staff_token(sm, now, email="reviewer@test.kuulo", role="reviewer", name="Test Staff"):
    with sm.begin() as s:
        user = factories.staff(s, now, role, email=email)
        user.name = name
        raw, _ = accounts.issue_token(s, now=now, days=1, staff=user)
    return {"Authorization": f"Bearer {raw}"}


def test_queue_actions_for_staff_tokens(client, sm, now):
    application_id = helpers.apply_via_api(client)
    anna = staff_token(sm, now, name="Anna First")
    bertil = staff_token(sm, now, email="second@test.kuulo", name="Bertil Second")
    base = f"/api/v1/institution-applications/{application_id}"
    listed = client.get("/api/v1/institution-applications", headers=anna).get_json()["applications"]
    assert [a["reference"] for a in listed] == ["L-000001"] and listed[0]["age_business_days"] == 0
    assert client.post(base + "/claim", headers=anna).get_json()["claimed_by"]["name"] == "Anna First"
    taken = client.post(base + "/claim", headers=bertil)
    assert taken.status_code == 409 and taken.mimetype == "application/problem+json"
    assert taken.get_json()["claimed_by"] == "Anna First" and taken.get_json()["claimed_until"]
    assert "Anna First" in taken.get_json()["detail"]
    asked = client.post(base + "/request-information", headers=anna, json={"message": "Signed consent, please."})
    assert asked.status_code == 200 and asked.get_json()["state"] == "needs_information"
    assert client.post(base + "/claim", headers=anna).get_json()["state"] == "in_review"
    detail = client.get(base, headers=anna).get_json()
    assert detail["responsible_person"]["national_id_masked"] == "150380-***P"
    assert detail["responsible_person"]["may_be_responsible"] is True
    assert "150380-123P" not in str(detail)
    assert client.post(base + "/reject", headers=anna, json={}).status_code == 422
    approved = client.post(base + "/approve", headers=anna).get_json()
    assert approved["outcome"] == "approved" and approved["card_number"]
    again = client.post(base + "/approve", headers=bertil).get_json()
    assert again["outcome"] == "already_approved"
    assert len(helpers.outbox(sm, "institutions_credentials")) == 1
    assert client.post(base + "/reject", headers=anna, json={"reason": "x"}).status_code == 409


def test_the_api_needs_a_reviewer_token(client, sm, now):
    application_id = helpers.apply_via_api(client)
    librarian = staff_token(sm, now, email="lib@test.kuulo", role="librarian")
    assert client.get("/api/v1/institution-applications").status_code == 401
    assert client.post(f"/api/v1/institution-applications/{application_id}/claim").status_code == 401
    assert client.get("/api/v1/institution-applications", headers=librarian).status_code == 403


def test_figures_count_received_decided_percentiles_and_late_ones(app, client, sm, now):
    helpers.reviewer(sm, now)
    reviewer = staff_client(app, "reviewer@test.kuulo")
    ids = []
    for day, name in (("2026-11-16", "A"), ("2026-11-17", "B"), ("2026-11-18", "C"), ("2026-11-19", "D")):
        app.config["FAKE_NOW"] = f"{day}T08:00:00+00:00"
        ids.append(helpers.apply_via_api(client, name=f"Koulu {name}"))
    app.config["FAKE_NOW"] = "2026-11-23T10:00:00+00:00"  # Monday; D (Thursday) is 2 days old: within target
    for application_id in ids[:2]:  # A: 5 business days, B: 4
        post(reviewer, application_id, "claim")
        post(reviewer, application_id, "approve")
    post(reviewer, ids[2], "claim")
    post(reviewer, ids[2], "reject", reason="Not an institution.")  # C: 3
    page = reviewer.get("/staff/institutions/figures").text
    assert "Applications received</th><td>4</td>" in page
    assert "approved 2, rejected 1" in page
    assert "Median processing time</th><td>4 business days" in page
    assert "90th percentile of processing time</th><td>5 business days" in page
    figures = client.get("/api/v1/institution-applications/figures",
                         headers=staff_token(sm, now, email="api@test.kuulo")).get_json()
    assert figures == {"days": 30, "received": 4, "decided": 3, "approved": 2, "rejected": 1,
                       "median_business_days": 4, "p90_business_days": 5, "open": 1, "past_target": 0}


def test_demo_applications_load_once(app, sm, now):
    from app.demo import load_accounts
    from app.institutions import load_demo

    with app.app_context(), sm.begin() as s:
        load_accounts(s, now)
        circulation_demo = __import__("app.circulation.demo", fromlist=["load_demo"])
        circulation_demo.load_demo(s, now)
        assert load_demo(s, now) == {"new institution applications": 5, "new canned replies": 2}
        assert load_demo(s, now) == {"new institution applications": 0, "new canned replies": 0}
        states = dict(s.execute(select(InstitutionApplication.name, InstitutionApplication.state)).all())
    assert states["Hervannan koulu"] == "submitted" and states["Palvelukoti Kotiranta"] == "needs_information"
    assert states["Kirjastopalvelu Lukulamppu"] == "approved"
    assert states["Harrastusyhdistys Esimerkki"] == "rejected"


def test_service_settings_default_to_the_issue_values():
    settings = service.Settings(base_url="x", identity_key="k")
    assert (settings.claim_minutes, settings.target_business_days) == (120, 2)
