"""The whole cycle through the pages: apply → claim → ask → answer → approve → the institution logs in."""
from __future__ import annotations

import io
import re

from sqlalchemy import select, text

from app.accounts.models import Patron
from app.audit import AuditEvent
from app.institutions.models import InstitutionAccount, InstitutionApplication
from tests import factories
from tests.institutions import helpers

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def english_client(app):
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def staff_client(app, email):
    c = english_client(app)
    factories.login_staff(c, email=email)
    return c


def post(client, application_id, action, **data):
    return client.post(f"/staff/institutions/applications/{application_id}/{action}", data=data,
                       follow_redirects=True)


def actions(sm, application_id):
    with sm.begin() as s:
        return [e.action.removeprefix("institution_application.") for e in s.scalars(
            select(AuditEvent).where(AuditEvent.record_type == "institution_application",
                                     AuditEvent.record_id == str(application_id)).order_by(AuditEvent.id))]


def test_full_cycle_from_application_to_the_institution_logging_in(app, client, sm, now):
    # The institution applies on the public form.
    assert client.post("/institutions/apply", data=helpers.form_data()).status_code == 302
    applicant_page = helpers.applicant_link(sm)
    with sm.begin() as s:
        application_id = s.scalar(select(InstitutionApplication.id))
    # A reviewer finds it in the queue and claims it.
    helpers.reviewer(sm, now, name="Raimo Reviewer")
    reviewer = staff_client(app, "reviewer@test.kuulo")
    queue = reviewer.get("/staff/institutions/applications").text
    assert "L-000001 Esimerkkikoulu" in queue and "0 business days" in queue
    page = post(reviewer, application_id, "claim").text
    assert "The application is yours to review." in page
    assert "Responsible person: an adult, not under a borrowing ban." in page
    assert "150380-***P" in page and "150380-123P" not in page
    # The reviewer asks for the signed consent; the clock pauses and the applicant is emailed.
    page = post(reviewer, application_id, "request-information",
                message="Please send the signed consent of the responsible person.").text
    assert "The question was sent to the applicant" in page and "the clock is paused" in page
    question = helpers.outbox(sm, "institutions_information_requested")
    assert len(question) == 1 and "Please send the signed consent" in question[0].body
    # The applicant answers through the link in that email, with a document.
    answer_page = helpers.link_in(question[0].body, "/institutions/application/")
    assert "Waiting for more information from the applicant" in client.get(answer_page).text
    resp = client.post(answer_page, data={"message": "Here it is.", "document": (io.BytesIO(PNG), "consent.png")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "Your answer was sent to the reviewers" in resp.text and "consent.png" in resp.text
    assert "Waiting for review" in client.get(applicant_page).text  # the first link still works
    assert len(helpers.outbox(sm, "institutions_answer_received")) == 1  # the reviewer is told
    # The reviewer takes it again, opens the document and approves.
    page = post(reviewer, application_id, "claim").text
    assert "Here it is." in page
    document_url = re.search(r'href="(/staff/institutions/applications/\d+/documents/\d+)"', page).group(1)
    download = reviewer.get(document_url)
    assert download.data == PNG and download.mimetype == "image/png"
    assert "attachment" in download.headers["Content-Disposition"]
    page = post(reviewer, application_id, "approve").text
    assert "Approved. The institution&#39;s account was created" in page
    # Approving again (a double click) sends nothing twice.
    page = post(reviewer, application_id, "approve").text
    assert "already approved. Nothing was sent again." in page
    credentials = helpers.outbox(sm, "institutions_credentials")
    assert len(credentials) == 1 and credentials[0].recipient == "rehtori@example.test"
    card = re.search(r"Library card number: (\d+)", credentials[0].body).group(1)
    with sm.begin() as s:
        patron = s.scalar(select(Patron).where(Patron.card_number == card))
        assert patron.kind == "institution" and patron.name == "Esimerkkikoulu"
        account = s.scalar(select(InstitutionAccount))
        assert account.patron_id == patron.id and account.rp_name == "Riitta Rehtori"
        assert account.rp_national_id_masked == "150380-***P"
    assert "Approved" in client.get(applicant_page).text
    # The institution chooses its password with the one-time link and logs in with card + password.
    institution = english_client(app)
    set_password = helpers.link_in(credentials[0].body, "/reset/")
    assert "Choose a new password" in institution.get(set_password).text
    resp = institution.post(set_password, data={"password": "Koulu2026", "password_again": "Koulu2026"})
    assert resp.status_code == 302
    assert factories.login_patron(institution, card, "Koulu2026").headers["Location"].endswith("/account")
    assert "Esimerkkikoulu" in institution.get("/account").text
    assert actions(sm, application_id) == ["submitted", "claimed", "information_requested", "information_provided",
                                           "claimed", "document_viewed", "approved"]


def test_rejection_needs_a_reason_and_delivers_it(app, client, sm, now):
    application_id = helpers.apply_via_api(client)
    helpers.reviewer(sm, now)
    reviewer = staff_client(app, "reviewer@test.kuulo")
    post(reviewer, application_id, "claim")
    empty = reviewer.post(f"/staff/institutions/applications/{application_id}/reject", data={"reason": ""})
    assert empty.status_code == 422 and "There is a problem" in empty.text
    page = post(reviewer, application_id, "reject", reason="The business ID belongs to a company, not a school.").text
    assert "Rejected. The reason was sent to the applicant." in page
    post(reviewer, application_id, "reject", reason="Again")
    mails = helpers.outbox(sm, "institutions_rejected")
    assert len(mails) == 1 and "The business ID belongs to a company, not a school." in mails[0].body
    assert mails[0].recipient == "rehtori@example.test"
    applicant_page = client.get(helpers.link_in(mails[0].body, "/institutions/application/")).text
    assert "Rejected" in applicant_page and "belongs to a company" in applicant_page
    assert "Answer or add information" not in applicant_page
    with sm.begin() as s:
        application = s.get(InstitutionApplication, application_id)
        assert application.state == "rejected" and application.processing_business_days == 0
    assert actions(sm, application_id)[-1] == "rejected"


def test_a_second_reviewer_is_told_who_has_it_until_the_claim_expires(app, client, sm, now):
    application_id = helpers.apply_via_api(client)
    helpers.reviewer(sm, now, name="Anna First")
    helpers.reviewer(sm, now, email="second@test.kuulo", name="Bertil Second")
    first, second = staff_client(app, "reviewer@test.kuulo"), staff_client(app, "second@test.kuulo")
    post(first, application_id, "claim")
    page = post(second, application_id, "claim").text
    assert "Another reviewer, Anna First, has this application until" in page
    assert "Anna First is reviewing this application until" in page
    assert "Take for review" not in page
    assert "Another reviewer, Anna First, has this application" in post(second, application_id, "approve").text
    with sm.begin() as s:
        assert s.get(InstitutionApplication, application_id).state == "in_review"
    app.config["FAKE_NOW"] = "2026-11-23T12:30:00+00:00"  # the 2-hour claim has expired
    assert "claim expired" in second.get("/staff/institutions/applications").text
    page = post(second, application_id, "claim").text
    assert "The application is yours to review." in page
    page = post(first, application_id, "approve").text
    assert "Another reviewer, Bertil Second, has this application" in page
    assert helpers.outbox(sm, "institutions_credentials") == []


def test_approval_without_a_claim_is_refused(app, client, sm, now):
    application_id = helpers.apply_via_api(client)
    helpers.reviewer(sm, now)
    page = post(staff_client(app, "reviewer@test.kuulo"), application_id, "approve").text
    assert "Take the application for review first." in page


def test_duplicates_are_shown_to_the_reviewer(app, client, sm, now):
    first = helpers.apply_via_api(client, name="Hervannan koulu")
    second = helpers.apply_via_api(client, name="Tesoman koulu")  # same city, same business ID
    other = helpers.apply_via_api(client, name="Yksityiskoulu", business_id="0737546-2")
    helpers.reviewer(sm, now)
    reviewer = staff_client(app, "reviewer@test.kuulo")
    queue = reviewer.get("/staff/institutions/applications").text
    rows = {name: row for row in queue.split("<tr")[1:]
            for name in ("Hervannan koulu", "Tesoman koulu", "Yksityiskoulu") if name in row}
    assert "Possible duplicate" in rows["Hervannan koulu"] and "Possible duplicate" in rows["Tesoman koulu"]
    assert "Possible duplicate" not in rows["Yksityiskoulu"]
    post(reviewer, first, "claim")
    post(reviewer, first, "approve")
    page = reviewer.get(f"/staff/institutions/applications/{second}").text
    assert "Possible duplicate:" in page and "institution account 2000000001 Hervannan koulu" in page
    assert "No other open application" in reviewer.get(f"/staff/institutions/applications/{other}").text


def test_filters_by_state_and_type(app, client, sm, now):
    helpers.apply_via_api(client, name="Koulu A")
    helpers.apply_via_api(client, name="Päiväkoti B", type="daycare", business_id="0737546-2")
    helpers.reviewer(sm, now)
    reviewer = staff_client(app, "reviewer@test.kuulo")
    page = reviewer.get("/staff/institutions/applications?type=daycare").text
    assert "Päiväkoti B" in page and "Koulu A" not in page
    assert "No applications match." in reviewer.get("/staff/institutions/applications?state=approved").text


def test_staff_without_the_reviewer_role_cannot_review(app, client, sm, now):
    application_id = helpers.apply_via_api(client)
    with sm.begin() as s:
        factories.staff(s, now, "librarian", email="lib@test.kuulo")
    librarian = staff_client(app, "lib@test.kuulo")
    assert librarian.get("/staff/institutions/applications").status_code == 403
    assert librarian.post(f"/staff/institutions/applications/{application_id}/claim").status_code == 403


def test_an_answered_application_stays_with_its_reviewer_marked_first_and_the_history_reads_as_sentences(
        app, client, sm, now):
    for name, business_id in (("Vanha koulu", "2345678-0"), ("Esimerkkikoulu", helpers.VALID_BUSINESS_ID)):
        assert client.post("/institutions/apply", data=helpers.form_data(name=name, business_id=business_id)
                           ).status_code == 302
    with sm.begin() as s:
        first, second = s.scalars(select(InstitutionApplication.id).order_by(InstitutionApplication.id)).all()
    helpers.reviewer(sm, now, name="Raimo Reviewer")
    helpers.reviewer(sm, now, email="other@test.kuulo", name="Olli Other")
    raimo, olli = staff_client(app, "reviewer@test.kuulo"), staff_client(app, "other@test.kuulo")
    post(raimo, second, "claim")
    post(raimo, second, "request-information", message="Please send the consent.")
    question = helpers.outbox(sm, "institutions_information_requested")[0]
    client.post(helpers.link_in(question.body, "/institutions/application/"),
                data={"message": "Sent.", "document": (io.BytesIO(PNG), "consent.png")},
                content_type="multipart/form-data")
    queue = raimo.get("/staff/institutions/applications").text
    # the answered one comes first although the other is as old, marked, with who has it and its attachment
    assert queue.index("Esimerkkikoulu") < queue.index("Vanha koulu")
    assert "Answered — new message" in queue and "1 attachment" in queue and "Raimo Reviewer (you)" in queue
    mine = raimo.get("/staff/institutions/applications", query_string={"mine": "1"}).text
    assert "Esimerkkikoulu" in mine and "Vanha koulu" not in mine
    assert "Esimerkkikoulu" not in olli.get("/staff/institutions/applications", query_string={"mine": "1"}).text
    for q in ("vanha", "2345678-0", "23456780", f"L-{first:06d}", f"l{first}"):
        found = raimo.get("/staff/institutions/applications", query_string={"q": q}).text
        assert "Vanha koulu" in found and "Esimerkkikoulu" not in found, q
    # Raimo takes it up again; the history says what happened in words, with names, not codes
    page = post(raimo, second, "claim").text
    assert "Raimo Reviewer took the application for review." in page
    assert "Raimo Reviewer asked for more information." in page and "The applicant answered." in page
    assert "institution_application." not in page and "staff:" not in page
    assert "Answered — new message" not in raimo.get("/staff/institutions/applications").text


def test_the_target_is_the_same_on_the_pages_and_in_the_email(app, client, sm):
    app.config["INSTITUTIONS_TARGET_BUSINESS_DAYS"] = 3
    assert "within 3 business days" in english_client(app).get("/institutions/apply").text
    english_client(app).post("/institutions/apply", data=helpers.form_data(language="en"))
    email = helpers.outbox(sm, "institutions_application_received")[-1].body
    assert "within 3 business days" in email and "1–2" not in email


def test_admins_keep_canned_replies_and_a_reviewer_sends_one_in_the_applicants_language(app, client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "admin", email="admin@test.kuulo")
    admin = staff_client(app, "admin@test.kuulo")
    form = {"kind": "question", "title": "Suostumus puuttuu", "text_fi": "Lähettäkää suostumus.",
            "text_sv": "Skicka samtycket.", "text_en": "", "active": "y"}
    assert "Text in Finnish: This field is required." in admin.post("/staff/institutions/replies",
                                                                     data={**form, "text_fi": ""}).text
    saved = admin.post("/staff/institutions/replies", data=form, follow_redirects=True).text
    assert "The canned reply was saved." in saved and "Suostumus puuttuu" in saved
    swedish = app.test_client()
    swedish.environ_base["HTTP_ACCEPT_LANGUAGE"] = "sv"
    swedish.post("/institutions/apply", data=helpers.form_data())
    with sm.begin() as s:
        application_id = s.scalar(select(InstitutionApplication.id))
        reply_id = s.scalar(text("SELECT id FROM institution_review_replies"))
    helpers.reviewer(sm, now)
    reviewer = staff_client(app, "reviewer@test.kuulo")
    page = post(reviewer, application_id, "claim").text
    assert "Suostumus puuttuu" in page and 'data-text="Skicka samtycket."' in page  # the applicant's language
    post(reviewer, application_id, "request-information", message="", reply=str(reply_id))
    question = helpers.outbox(sm, "institutions_information_requested")
    assert len(question) == 1 and "Skicka samtycket." in question[0].body
    # a retired reply is no longer offered, and the reviewers cannot open the admin page
    admin.post(f"/staff/institutions/replies/{reply_id}", data={**form, "active": ""})
    assert "Suostumus puuttuu" not in post(reviewer, application_id, "claim").text
    assert reviewer.get("/staff/institutions/replies").status_code == 403


def test_a_long_queue_is_shown_a_page_at_a_time(app, client, sm, now, monkeypatch):
    from app.institutions import review_views

    monkeypatch.setattr(review_views, "PAGE_SIZE", 2)
    for n in range(5):
        assert client.post("/institutions/apply", data=helpers.form_data(name=f"Koulu {n}", business_id=(
            "7654321-2", "2345678-0", "1000001-2", "1000002-0", "1000003-9")[n])).status_code == 302
    helpers.reviewer(sm, now)
    reviewer = staff_client(app, "reviewer@test.kuulo")
    first = reviewer.get("/staff/institutions/applications", query_string={"type": "school"}).text
    assert "5 applications, page 1 of 3" in first and first.count("L-00000") == 2
    assert "page=2" in first and "type=school" in first and 'rel="prev"' not in first
    last = reviewer.get("/staff/institutions/applications", query_string={"page": "9"}).text
    assert "page 3 of 3" in last and last.count("L-00000") == 1 and 'rel="next"' not in last
