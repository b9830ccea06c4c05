"""Editor pages for the status_editor role: create with preview, update, reschedule, cancel, complete;
incidents; texts in three languages with a visible fallback."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from tests.status.helpers import get_maintenance, maintenance, set_clock

FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture()
def editor(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "status_editor", email="editor@test.kuulo")
    factories.login_staff(client, "editor@test.kuulo")
    return client


def form(now, **extra):
    data = {"title_fi": "Huoltokatko", "body_fi": "Teksti suomeksi.", "components": ["search"],
            "starts": (now + timedelta(days=2)).strftime(FMT), "ends": (now + timedelta(days=2, hours=3)).strftime(FMT)}
    return data | extra


def test_only_status_editors_open_the_editor(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian", email="lib@test.kuulo")
    assert "/staff/login" in client.get("/staff/status").headers["Location"]
    factories.login_staff(client, "lib@test.kuulo")
    assert client.get("/staff/status").status_code == 403
    assert client.get("/staff/status/maintenance/new").status_code == 403


def test_the_editor_is_linked_from_the_staff_page(editor):
    assert "/staff/status" in editor.get("/staff").text


def test_preview_shows_every_language_and_saves_nothing(editor, sm, now):
    resp = editor.post("/staff/status/maintenance/new", data=form(now, preview="1"))
    assert resp.status_code == 200 and "Preview: nothing is published yet" in resp.text
    assert resp.text.count("Huoltokatko") >= 3  # fi, and the fallback for sv and en
    assert "shown in" in resp.text  # the missing Swedish and English say so
    assert editor.get("/api/v2/scheduled-maintenances.json").json["scheduled_maintenances"] == []


def test_errors_are_listed_and_linked_to_their_fields(editor, now):
    resp = editor.post("/staff/status/maintenance/new", data=form(
        now, title_fi="", ends=(now + timedelta(days=1)).strftime(FMT), components=[]))
    assert resp.status_code == 200 and "There is a problem" in resp.text
    for target in ('href="#title_fi"', 'href="#ends"', 'href="#components"'):
        assert target in resp.text


def test_missing_translations_fall_back_visibly_on_the_public_page(editor, now):
    editor.post("/staff/status/maintenance/new", data=form(now))
    page = editor.get("/status", headers={"Accept-Language": "sv"})
    assert '<span lang="fi">Huoltokatko</span>' in page.text and "class=\"status-fallback\"" in page.text


def test_reschedule_cancel_and_complete_from_the_manage_page(app, editor, sm, now):
    mid = maintenance(app, sm, now, starts_in=timedelta(days=2))
    page = editor.get(f"/staff/status/maintenance/{mid}")
    assert page.status_code == 200 and "Reschedule or extend" in page.text and "Cancel the break" in page.text
    new_start = now + timedelta(days=3)
    resp = editor.post(f"/staff/status/maintenance/{mid}/reschedule", data={
        "reschedule-starts": (new_start + timedelta(hours=2)).strftime(FMT),
        "reschedule-ends": (new_start + timedelta(hours=6)).strftime(FMT), "reschedule-body_en": "One day later."})
    assert resp.status_code == 302
    m = get_maintenance(sm, mid)
    assert m.scheduled_for == new_start and m.scheduled_until == new_start + timedelta(hours=4)
    assert editor.post(f"/staff/status/maintenance/{mid}/complete", data={}).status_code == 302
    assert get_maintenance(sm, mid).completed_at is None  # not started: cannot be completed
    assert editor.post(f"/staff/status/maintenance/{mid}/cancel", data={"cancel-body_en": "Not needed."}).status_code == 302
    assert get_maintenance(sm, mid).state == "cancelled"
    assert "Cancelled" in editor.get(f"/status/maintenance/{mid}").text
    editor.post(f"/staff/status/maintenance/{mid}/update", data={"update-body_en": "Too late."})
    assert [u.kind for u in get_maintenance(sm, mid).updates][-1] == "cancelled"


def test_complete_a_running_break_early_reopens_at_once(app, editor, sm, now):
    mid = maintenance(app, sm, now, starts_in=timedelta(minutes=-5), hours=3, components=("password_reset",))
    assert editor.get("/reset").status_code == 503
    resp = editor.post(f"/staff/status/maintenance/{mid}/update",
                       data={"update-body_en": "Checking.", "update-verifying": "y"})
    assert resp.status_code == 302 and get_maintenance(sm, mid).state == "verifying"
    assert "Verifying" in editor.get("/status").text
    editor.post(f"/staff/status/maintenance/{mid}/complete",
                data={"complete-body_en": "Edited at 9:55: the downtime is over."})
    assert editor.get("/reset").status_code == 200
    detail = editor.get(f"/status/maintenance/{mid}").text
    assert "Edited at 9:55: the downtime is over." in detail and "Completed" in detail


def test_update_preview_and_validation(app, editor, sm, now):
    mid = maintenance(app, sm, now)
    resp = editor.post(f"/staff/status/maintenance/{mid}/update", data={"update-body_sv": "Hej.", "preview": "1"})
    assert resp.status_code == 200 and "Preview: nothing is published yet" in resp.text
    assert len(get_maintenance(sm, mid).updates) == 1
    resp = editor.post(f"/staff/status/maintenance/{mid}/update", data={})
    assert resp.status_code == 422 and 'href="#update-body_fi"' in resp.text


def test_incidents_from_report_to_resolution(editor, sm, now):
    resp = editor.post("/staff/status/incidents/new", data={
        "title_en": "Login fails", "body_en": "We are investigating.", "status": "investigating",
        "impact": "critical", "component_login": "major_outage", "component_search": "degraded_performance"})
    assert resp.status_code == 302
    iid = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert editor.post("/login", data={"card_number": "1", "secret": "1"}).status_code == 503
    assert editor.get("/api/v2/status.json").json["status"]["indicator"] == "critical"
    page = editor.get(f"/staff/status/incidents/{iid}")
    assert page.status_code == 200 and 'selected value="major_outage"' in page.text
    set_clock(editor.application, now + timedelta(minutes=40))
    resp = editor.post(f"/staff/status/incidents/{iid}/update", data={
        "update-body_en": "Fixed.", "update-status": "resolved", "update-impact": "critical"})
    assert resp.status_code == 302
    incident = editor.get("/api/v2/incidents.json").json["incidents"][0]
    assert incident["status"] == "resolved" and incident["resolved_at"] == "2026-11-23T10:40:00.000Z"
    assert [u["body"] for u in incident["incident_updates"]] == ["Fixed.", "We are investigating."]
    assert editor.post("/login", data={"card_number": "1", "secret": "1"}).status_code == 200


def test_the_dashboard_lists_what_is_on(app, editor, sm, now):
    maintenance(app, sm, now)
    page = editor.get("/staff/status")
    assert page.status_code == 200 and "System upgrade" in page.text and "Scheduled" in page.text
