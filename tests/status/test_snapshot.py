"""Readable when the database is down: the snapshot in the media store answers /status and /api/v2."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from app import create_app, db, scheduler, storage
from tests.status.helpers import maintenance, set_clock

DEAD_DATABASE = "postgresql+psycopg://x@127.0.0.1:9/x"


def dead_app(app_config, media_root, fake_now):
    return create_app(dict(app_config, DATABASE_URL=DEAD_DATABASE, MEDIA_ROOT=str(media_root),
                           FAKE_NOW=fake_now.isoformat()))


def test_snapshot_files_are_written_for_every_language(app, sm, now):
    mid = maintenance(app, sm, now)
    scheduler.run_job(app, "status-render-snapshot", now)
    root = Path(app.config["MEDIA_ROOT"]) / "status-snapshot"
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["taken_at"] == "2026-11-23T10:00:00.000Z"
    for lang in ("fi", "sv", "en"):
        html = (root / lang / "status" / "index.html").read_text()
        assert f'<html lang="{lang}"' in html and f"/status/maintenance/{mid}" in html
        assert json.loads((root / lang / "api/v2/summary.json").read_text())["scheduled_maintenances"]
        assert (root / lang / "status/history.atom").is_file() and (root / lang / "status/maintenance.ics").is_file()
        assert (root / lang / f"status/maintenance/{mid}.html").is_file()
    assert (root / "status/index.html").read_text() == (root / "fi/status/index.html").read_text()
    assert storage.store(app).size("status-snapshot/api/v2/scheduled-maintenances/upcoming.json")


def test_with_the_database_down_status_and_json_come_from_the_snapshot(app, app_config, sm, now):
    mid = maintenance(app, sm, now)
    scheduler.run_job(app, "status-render-snapshot", now)
    later = now + timedelta(minutes=42)
    down = dead_app(app_config, app.config["MEDIA_ROOT"], later)
    client = down.test_client()
    try:
        page = client.get("/status", headers={"Accept-Language": "en"})
        assert page.status_code == 200 and "This is a saved copy." in page.text and "42 minutes" in page.text
        assert page.headers["Age"] == str(42 * 60) and "System upgrade" in page.text
        summary = client.get("/api/v2/summary.json", headers={"Accept-Language": "en"})
        assert summary.status_code == 200
        assert summary.json["snapshot"] == {"taken_at": "2026-11-23T10:00:00.000Z", "age_seconds": 42 * 60}
        assert summary.json["scheduled_maintenances"][0]["id"] == f"m{mid}"
        assert client.get("/api/v2/components.json").status_code == 200
        assert client.get("/status/history.atom").status_code == 200
        detail = client.get(f"/status/maintenance/{mid}", headers={"Accept-Language": "sv"})
        assert detail.status_code == 200 and "Uppdatering av systemet" in detail.text
        assert client.get("/reset").status_code in (200, 500)  # the gate does not add its own failure
    finally:
        db.engine(down).dispose()


def test_with_the_database_down_and_no_snapshot_the_answer_is_503(app_config, tmp_path, now):
    down = dead_app(app_config, tmp_path / "empty-media", now)
    client = down.test_client()
    try:
        assert client.get("/status").status_code == 503
        resp = client.get("/api/v2/summary.json")
        assert resp.status_code == 503 and resp.mimetype == "application/problem+json"
    finally:
        db.engine(down).dispose()


def test_an_editor_change_renews_the_snapshot_at_once(app, client, sm, now):
    from tests import factories

    with sm.begin() as s:
        factories.staff(s, now, "status_editor")
    factories.login_staff(client)
    mid = maintenance(app, sm, now)
    set_clock(app, now + timedelta(minutes=5))
    client.post(f"/staff/status/maintenance/{mid}/update", data={"update-body_en": "Fresh news for the copy."})
    root = Path(app.config["MEDIA_ROOT"]) / "status-snapshot"
    assert "Fresh news for the copy." in (root / "en/status/index.html").read_text()
    assert json.loads((root / "manifest.json").read_text())["taken_at"] == "2026-11-23T10:05:00.000Z"
