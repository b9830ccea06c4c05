"""Applying: the public form and the API; nothing half-saved; the applicant's private link."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import gate
from app.audit import AuditEvent
from app.institutions.models import ApplicationDocument, InstitutionApplication
from app.notify import service as notify
from tests.institutions import helpers

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def counts(sm) -> tuple[int, int]:
    with sm.begin() as s:
        applications = s.scalar(select(func.count()).select_from(InstitutionApplication))
    return applications, len(helpers.outbox(sm))


def stored_files(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"]) / "institutions"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_form_is_public_and_labelled(client):
    page = client.get("/institutions/apply").text
    assert "<h1>Apply for an institution account</h1>" in page
    for label in ("Business ID (Y-tunnus)", "Personal identity code", "Signed consent document (optional)"):
        assert label in page
    assert 'enctype="multipart/form-data"' in page


def test_applying_with_the_form_saves_it_stores_the_document_and_emails_a_private_link(app, client, sm):
    data = helpers.form_data(business_id="0737546-2") | {"document": (io.BytesIO(PDF), "suostumus.pdf")}
    resp = client.post("/institutions/apply", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302
    sent = client.get(resp.headers["Location"]).text
    assert "L-000001" in sent and "rehtori@example.test" in sent
    with sm.begin() as s:
        application = s.scalar(select(InstitutionApplication))
        assert application.state == "submitted" and application.business_id == "0737546-2"
        assert application.rp_national_id_masked == "150380-***P"
        assert application.rp_birth_date.isoformat() == "1980-03-15"
        doc = s.scalar(select(ApplicationDocument))
        assert doc.content_type == "application/pdf" and doc.filename == "suostumus.pdf"
        assert doc.storage_key.startswith(f"institutions/applications/{application.id}/")
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "institution_application.submitted")).all()
        assert len(events) == 1 and "150380" not in str(events[0].details)
    assert [p.read_bytes() for p in stored_files(app)] == [PDF]
    mail = helpers.outbox(sm, "institutions_application_received")
    assert len(mail) == 1 and mail[0].recipient == "rehtori@example.test"
    page = client.get(helpers.applicant_link(sm)).text
    assert "Waiting for review" in page and "suostumus.pdf" in page
    assert "150380-123P" not in page and "123P" not in page


def test_the_identity_code_is_stored_only_as_a_keyed_hash_and_a_masked_form(app, client, sm):
    from app.accounts import identity

    helpers.apply_via_api(client, responsible_person={"national_id": "010594y308v"})
    with sm.begin() as s:
        application = s.scalar(select(InstitutionApplication))
        assert application.rp_national_id_hash == identity.identity_hash(app.config["IDENTITY_HASH_KEY"],
                                                                          "010594Y308V")
        assert application.rp_national_id_hash != identity.identity_hash(app.config["IDENTITY_HASH_KEY"],
                                                                          "010594-308V")
        assert application.rp_national_id_masked == "010594Y***V"


def test_bad_input_saves_nothing_and_names_every_field(app, client, sm):
    data = helpers.form_data(business_id="1234567-8", rp_national_id="150380-123X") | {
        "document": (io.BytesIO(PDF), "suostumus.pdf")}
    data.pop("consent")
    resp = client.post("/institutions/apply", data=data, content_type="multipart/form-data")
    assert resp.status_code == 200
    assert "There is a problem" in resp.text
    assert "The check digit of the business ID (Y-tunnus) does not match" in resp.text
    assert "The check character of the personal identity code does not match" in resp.text
    assert "consent is needed" in resp.text
    assert 'href="#business_id"' in resp.text and 'href="#rp_national_id"' in resp.text
    assert counts(sm) == (0, 0)
    assert stored_files(app) == []  # the valid document was not stored either


def test_a_document_that_is_not_a_pdf_or_image_is_refused_with_nothing_saved(app, client, sm):
    data = helpers.form_data() | {"document": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "suostumus.pdf")}
    resp = client.post("/institutions/apply", data=data, content_type="multipart/form-data")
    assert "The file must be a PDF, JPEG or PNG." in resp.text
    assert counts(sm) == (0, 0) and stored_files(app) == []


def test_a_too_large_document_is_refused(app, client, sm):
    app.config["INSTITUTIONS_DOCUMENT_MAX_BYTES"] = 100
    data = helpers.form_data() | {"document": (io.BytesIO(PDF + b"x" * 200), "iso.pdf")}
    resp = client.post("/institutions/apply", data=data, content_type="multipart/form-data")
    assert "The file is too large." in resp.text
    assert counts(sm) == (0, 0) and stored_files(app) == []


def test_the_stored_document_is_deleted_when_the_database_write_fails(app, client, sm, monkeypatch):
    def broken_outbox(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(notify, "enqueue", broken_outbox)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    data = helpers.form_data() | {"document": (io.BytesIO(PDF), "suostumus.pdf")}
    resp = client.post("/institutions/apply", data=data, content_type="multipart/form-data")
    assert resp.status_code == 500
    assert counts(sm) == (0, 0)
    assert stored_files(app) == []


def test_an_under_age_responsible_person_is_refused_on_the_form(client, sm):
    resp = client.post("/institutions/apply", data=helpers.form_data(rp_national_id=helpers.MINOR_ID))
    assert "The responsible person must be an adult (18 or over)." in resp.text
    assert counts(sm) == (0, 0)


def test_a_double_submit_saves_one_application_and_sends_one_email(client, sm):
    first = client.post("/institutions/apply", data=helpers.form_data())
    second = client.post("/institutions/apply", data=helpers.form_data())
    assert first.status_code == second.status_code == 302
    assert "not saved twice" in client.get("/institutions/apply/sent").text
    assert counts(sm) == (1, 1)


def test_api_accepts_the_contract_fields_and_answers_201(client, sm):
    resp = client.post("/api/v1/institution-applications", json=helpers.application())
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["reference"] == "L-000001" and body["state"] == "submitted" and body["created"] is True
    again = client.post("/api/v1/institution-applications", json=helpers.application())
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert counts(sm) == (1, 1)


def test_api_names_the_field_in_a_422_problem(client, sm):
    resp = client.post("/api/v1/institution-applications",
                       json=helpers.application(business_id="1234567-8",
                                                responsible_person={"national_id": helpers.MINOR_ID}))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    fields = {e["field"]: e["code"] for e in resp.get_json()["errors"]}
    assert fields == {"business_id": "business_id_checksum"}
    minor = client.post("/api/v1/institution-applications",
                        json=helpers.application(responsible_person={"national_id": helpers.MINOR_ID}))
    assert minor.status_code == 422
    assert minor.get_json()["errors"][0]["field"] == "responsible_person.national_id"
    assert minor.get_json()["errors"][0]["code"] == "not_adult"
    assert client.post("/api/v1/institution-applications", data="nonsense").status_code == 400
    assert counts(sm) == (0, 0)


def test_api_errors_are_translated(client):
    resp = client.post("/api/v1/institution-applications", json=helpers.application(business_id="1234567-8"),
                       headers={"Accept-Language": "fi"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "business_id"


def test_the_openapi_document_lists_the_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/institution-applications"]
    assert "/api/v1/institution-applications/{application_id}/approve" in paths


class ClosedForApplications:
    def closure(self, component, now, language):
        if component != "institution_applications":
            return None
        return gate.Closure(component, None, "/status", "Maintenance break")


@pytest.fixture()
def closed():
    gate.set_provider(ClosedForApplications())
    yield
    gate.set_provider(None)


def test_a_maintenance_break_closes_applying_but_not_the_reviewers(client, sm, now, closed):
    resp = client.post("/api/v1/institution-applications", json=helpers.application())
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert client.post("/institutions/apply", data=helpers.form_data()).status_code == 503
    assert counts(sm) == (0, 0)
    helpers.reviewer(sm, now)
    from tests import factories

    factories.login_staff(client, email="reviewer@test.kuulo")
    assert client.get("/staff/institutions/applications").status_code == 200
