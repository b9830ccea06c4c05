"""The librarian's form: a registration, the duplicate answer, and every field's errors next to the field."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app.accounts.models import OneTimeLink, Patron
from app.audit import AuditEvent
from app.notify.models import OutboxMessage
from app.registration.models import Registration
from tests import factories
from tests.registration.conftest import form_data

NEW = "/staff/registrations/new"


def counts(sm):
    with sm.begin() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Patron, Registration, OutboxMessage))


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="error-message" id="{name}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def test_form_page_names_the_registering_library(staff_client):
    page = staff_client.get(NEW).text
    assert "Register a patron" in page and "Tampereen kaupunginkirjasto" in page
    assert page.count("<h1>") == 1 and 'for="national_id"' in page


def test_a_registration_shows_the_card_number_at_once_and_sends_credentials_once(staff_client, sm, librarian):
    resp = staff_client.post(NEW, data=form_data())
    assert resp.status_code == 200 and "Patron registered" in resp.text
    with sm.begin() as s:
        patron = s.scalar(select(Patron))
        reg = s.scalar(select(Registration))
        msg = s.scalar(select(OutboxMessage))
        link = s.scalar(select(OneTimeLink))
        assert patron.card_number in resp.text
        assert patron.name == "Testi Tapani Henkilö" and patron.kind == "person" and patron.language == "fi"
        assert patron.home_library.name == librarian["library"] and patron.pin_hash is None
        assert reg.masked_national_id == "010594Y***V" and str(reg.birth_date) == "1994-05-01"
        assert reg.registered_by_id == librarian["id"] and reg.library.name == librarian["library"]
        assert reg.preferred_formats == ["audiobook"] and reg.eligibility_basis == "visual_impairment"
        assert msg.key == f"registration-credentials:patron:{patron.id}" and msg.recipient == "testi@example.test"
        assert patron.card_number in msg.body and "http://kuulo.test/reset/" in msg.body
        assert link.purpose == "set_credentials" and link.patron_id == patron.id
        assert (link.expires_at - link.created_at).days == 14
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.record_id == str(patron.id))).all()
        assert "registration.created" in actions


def test_the_emailed_link_lets_the_patron_set_a_pin_and_log_in(staff_client, sm, app):
    staff_client.post(NEW, data=form_data())
    with sm.begin() as s:
        body, card = s.scalar(select(OutboxMessage.body)), s.scalar(select(Patron.card_number))
    path = re.search(r"http://kuulo\.test(/reset/\S+)", body).group(1)
    patron_client = app.test_client()
    assert patron_client.post(path, data={"pin": "4321", "pin_again": "4321"}).status_code == 302
    assert factories.login_patron(patron_client, card, "4321").status_code == 302


def test_double_submit_shows_already_registered_not_an_error(staff_client, sm, librarian):
    first = staff_client.post(NEW, data=form_data())
    second = staff_client.post(NEW, data=form_data())
    assert first.status_code == 200 and second.status_code == 200
    assert "Already registered on" in second.text and librarian["library"] in second.text
    assert "You registered this patron yourself" in second.text
    with sm.begin() as s:
        patron = s.scalar(select(Patron))
    assert patron.card_number in second.text and f"/staff/registrations/{patron.id}" in second.text
    assert counts(sm) == (1, 1, 1)


def test_another_librarian_gets_the_existing_patron_even_with_other_details(staff_client, sm, now, app, librarian):
    staff_client.post(NEW, data=form_data())
    with sm.begin() as s:
        other_lib = factories.library(s, "oulu", "Oulun kaupunginkirjasto")
        factories.staff(s, now, "librarian", email="other@test.kuulo", lib=other_lib)
    other = app.test_client()
    factories.login_staff(other, "other@test.kuulo")
    resp = other.post(NEW, data=form_data(email="different@example.test", postal_code="bad"),
                      headers={"Accept-Language": "en"})
    assert "Already registered on" in resp.text and "Tampereen kaupunginkirjasto" in resp.text
    assert "You registered this patron yourself" not in resp.text
    assert counts(sm) == (1, 1, 1)


def test_the_same_date_and_number_with_another_century_sign_is_another_person(staff_client, sm):
    staff_client.post(NEW, data=form_data("131052-308T"))
    resp = staff_client.post(NEW, data=form_data("131052X308T", email="x@example.test"))
    assert "Patron registered" in resp.text
    assert counts(sm) == (2, 2, 2)


BAD_FIELDS = [
    ("given_names", "", "Enter the patron's given names."),
    ("given_names", "x" * 101, "This is too long."),
    ("surname", "  ", "Enter the patron's surname."),
    ("national_id", "", "Enter the personal identity code."),
    ("national_id", "131052-308U", "The check character (the last character) does not match"),
    ("national_id", "010594Y9087", "This is a temporary identity code (individual number 900–999)"),
    ("national_id", "310252-308Y", "not a real date"),
    ("national_id", "010594G308V", "The personal identity code has 11 characters"),
    ("national_id", "010130A3084", "in the future"),
    ("email", "", "Enter the patron's email address"),
    ("email", "not-an-email", "Enter an email address in the form name@example.fi."),
    ("phone", "call me", "Enter a phone number with digits only"),
    ("street_address", "", "This field is required."),
    ("postal_code", "1234", "Enter a Finnish postal code of five digits"),
    ("postal_code", "", "This field is required."),
    ("city", "", "This field is required."),
    ("language", "de", "Choose fi, sv or en."),
    ("eligibility_basis", "", "Choose the basis of eligibility."),
    ("eligibility_basis", "bored", "Choose one of the listed bases of eligibility."),
    ("preferred_formats", ["vinyl"], "Choose formats from the list."),
]


@pytest.mark.parametrize("name, value, message", BAD_FIELDS)
def test_bad_input_gets_a_message_next_to_the_field_and_nothing_is_saved(staff_client, sm, name, value, message):
    resp = staff_client.post(NEW, data=form_data(**{name: value}))
    assert resp.status_code == 422
    assert message in field_error(resp.text, name), resp.text
    assert f'href="#{name}"' in resp.text  # the error summary links to the field
    assert 'aria-invalid="true"' in resp.text or name in ("language", "eligibility_basis", "preferred_formats")
    assert counts(sm) == (0, 0, 0)


def test_every_bad_field_is_reported_at_once(staff_client, sm):
    resp = staff_client.post(NEW, data=form_data(given_names="", email="nope", postal_code="x"))
    for name in ("given_names", "email", "postal_code"):
        assert field_error(resp.text, name)
    assert counts(sm) == (0, 0, 0)


def test_a_child_under_15_needs_a_guardian_with_consent(staff_client, sm):
    resp = staff_client.post(NEW, data=form_data("070915A4826"))
    assert resp.status_code == 422
    assert "Enter the guardian's name" in field_error(resp.text, "guardian_name")
    assert "phone number or email" in field_error(resp.text, "guardian_contact")
    assert "consent is needed" in field_error(resp.text, "guardian_consent")
    assert counts(sm) == (0, 0, 0)
    resp = staff_client.post(NEW, data=form_data("070915A4826", guardian_name="Karin Exempel",
                                                 guardian_contact="+358 50 333 4444", guardian_consent="y"))
    assert "Patron registered" in resp.text
    with sm.begin() as s:
        reg = s.scalar(select(Registration))
        assert (reg.guardian_name, reg.guardian_consent) == ("Karin Exempel", True)


def test_an_adult_needs_no_guardian_and_none_is_stored(staff_client, sm):
    staff_client.post(NEW, data=form_data(guardian_name="Someone", guardian_contact="x"))
    with sm.begin() as s:
        assert s.scalar(select(Registration.guardian_name)) == ""


def test_messages_are_translated(staff_client):
    resp = staff_client.post(NEW, data=form_data(postal_code="1"), headers={"Accept-Language": "fi"})
    assert resp.status_code == 422 and '<html lang="fi"' in resp.text


def test_staff_without_a_library_cannot_register(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "admin", email="admin@test.kuulo").library_id = None
    factories.login_staff(client, "admin@test.kuulo")
    resp = client.post(NEW, data=form_data())
    assert resp.status_code == 403 and "belongs to no member library" in resp.text
    assert counts(sm) == (0, 0, 0)


def test_patrons_and_other_staff_cannot_register(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "reviewer", email="reviewer@test.kuulo")
    factories.login_staff(client, "reviewer@test.kuulo")
    assert client.post(NEW, data=form_data()).status_code == 403
    assert counts(sm) == (0, 0, 0)
