"""/metrics: Prometheus text with request counts and latencies by route endpoint, outbox, jobs and active loans
from the database; a bearer token, or loopback in development."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from tests.circulation import helpers as circ
from tests.lending.conftest import M4B_BOOK, MP3_BOOK, ingest_path, make_reader
from tests.ops.conftest import add_message, add_run

PRODUCTION = {"ENV_NAME": "production", "SECRET_KEY": "s" * 40, "IDENTITY_HASH_KEY": "i" * 40,
              "PAYTRAIL_SECRET": "p" * 40}


def scrape(client: Any, **kwargs: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics", **kwargs)
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_and_timed_by_route_endpoint_and_status(client):
    before = scrape(client)
    for _ in range(3):
        client.get("/healthz")
    book = client.get("/library/books/987654")  # a route with an id: counted under its endpoint, not its path
    after = scrape(client)
    ok = dict(endpoint="health.healthz", method="GET", status="200")
    assert value(after, "kuulo_http_requests_total", **ok) - value(before, "kuulo_http_requests_total", **ok) == 3
    assert (value(after, "kuulo_http_request_duration_seconds_count", **ok)
            - value(before, "kuulo_http_request_duration_seconds_count", **ok)) == 3
    assert value(after, "kuulo_http_request_duration_seconds_bucket", le="+Inf", **ok) >= 3
    by_book = dict(endpoint="lending.book", method="GET", status=str(book.status_code))
    assert value(after, "kuulo_http_requests_total", **by_book) - value(before, "kuulo_http_requests_total",
                                                                         **by_book) == 1
    assert not any("987654" in str(labels) for _name, labels in after)


def test_unmatched_paths_share_one_label(client):
    client.get("/no-such-page/123456")
    text = client.get("/metrics").text
    assert 'endpoint="unmatched",method="GET",status="404"' in text and "123456" not in text


def test_outbox_backlog_by_channel_and_state(client, sm, now):
    add_message(sm, now, "new", age=timedelta(minutes=10))
    add_message(sm, now, "again", attempts=3)
    add_message(sm, now, "sms", channel="sms")
    add_message(sm, now, "letter", channel="letter")
    add_message(sm, now, "busy", status="sending", attempts=1)
    add_message(sm, now, "gave-up", status="failed", attempts=8)
    add_message(sm, now, "done", status="sent")
    m = scrape(client)
    assert value(m, "kuulo_outbox_messages", channel="email", state="pending") == 1
    assert value(m, "kuulo_outbox_messages", channel="email", state="retry") == 1
    assert value(m, "kuulo_outbox_messages", channel="email", state="sending") == 1
    assert value(m, "kuulo_outbox_messages", channel="email", state="failed") == 1
    assert value(m, "kuulo_outbox_messages", channel="sms", state="pending") == 1
    assert value(m, "kuulo_outbox_messages", channel="letter", state="pending") == 1
    assert value(m, "kuulo_outbox_oldest_pending_age_seconds") == 600
    assert value(m, "kuulo_database_up") == 1


def test_job_durations_failures_and_recent_runs(client, sm, now):
    add_run(sm, "deliver-outbox", now - timedelta(minutes=2), 1.5)
    add_run(sm, "deliver-outbox", now - timedelta(minutes=1), 4.0, status="error")
    add_run(sm, "deliver-outbox", now - timedelta(seconds=30), 0.0, status="skipped")  # not a run of its own
    add_run(sm, "purge-expired-credentials", now - timedelta(hours=30), 12.0)  # ran, but not in the last 24 h
    m = scrape(client)
    assert value(m, "kuulo_job_last_duration_seconds", job="deliver-outbox") == 4.0
    assert value(m, "kuulo_job_last_failed", job="deliver-outbox") == 1
    assert value(m, "kuulo_job_last_failed", job="purge-expired-credentials") == 0
    assert value(m, "kuulo_job_last_duration_seconds", job="purge-expired-credentials") == 12.0
    assert value(m, "kuulo_job_last_finished_timestamp_seconds", job="deliver-outbox") == \
        (now - timedelta(seconds=56)).timestamp()
    assert value(m, "kuulo_job_runs_recent", job="deliver-outbox", status="ok") == 1
    assert value(m, "kuulo_job_runs_recent", job="deliver-outbox", status="error") == 1
    assert value(m, "kuulo_job_runs_recent", job="deliver-outbox", status="skipped") == 1
    assert value(m, "kuulo_job_runs_recent", job="purge-expired-credentials", status="ok") == 0
    assert value(m, "kuulo_scheduler_last_activity_timestamp_seconds") == (now - timedelta(seconds=30)).timestamp()


def test_active_audiobook_and_circulation_loans(app, client, sm, now):
    books = [ingest_path(app, path).book_id for path in (MP3_BOOK, M4B_BOOK)]
    reader = make_reader(client, sm, now, "reader@test.kuulo")
    for book in books:
        assert reader.post(f"/api/v1/books/{book}/borrow").status_code == 201
    assert reader.post(f"/api/v1/books/{books[0]}/return").status_code in (200, 204)
    with app.app_context(), sm.begin() as s:
        circ.build_libraries(s, now)
        patron = circ.borrower(s, now, "lumme")
        for _ in range(3):
            circ.lend(s, now, "lumme", patron, circ.item(s, now, "lumme"))
    m = scrape(client)
    assert value(m, "kuulo_loans_active", kind="audiobook") == 1
    assert value(m, "kuulo_loans_active", kind="circulation") == 3


def test_a_token_guards_the_metrics_when_configured(app_config):
    client = create_app({**app_config, **PRODUCTION, "METRICS_TOKEN": "scrape-secret"}).test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(client, headers={"Authorization": "Bearer scrape-secret"})


def test_without_a_token_production_refuses_and_development_answers_loopback_only(app_config, client):
    production = create_app({**app_config, **PRODUCTION}).test_client()
    assert production.get("/metrics").status_code == 403
    assert scrape(client)  # development, from 127.0.0.1
    assert scrape(client, environ_base={"REMOTE_ADDR": "::1"})
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 403


def test_with_the_database_away_the_request_metrics_still_answer(app_config):
    client = create_app({**app_config, "DATABASE_URL": "postgresql+psycopg://kuulo@127.0.0.1:9/kuulo"}).test_client()
    m = scrape(client)
    assert value(m, "kuulo_database_up") == 0
    assert any(name == "kuulo_http_requests_total" for name, _ in m)
