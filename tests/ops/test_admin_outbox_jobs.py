"""/staff/admin/outbox and /staff/admin/jobs, one-time links removed from delivered mail, job progress lines."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.audit import AuditEvent
from app.notify import jobs as outbox_jobs
from app.notify.models import OutboxMessage
from app.scheduler_models import JobLock, JobRun
from tests import factories
from tests.ops.conftest import add_message, add_run


def login_admin(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "admin")
    factories.login_staff(client)


def status_of(sm, key):
    with sm.begin() as s:
        return s.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


def test_counts_by_state_and_the_list_of_a_state_with_errors(client, sm, now):
    login_admin(client, sm, now)
    add_message(sm, now, "waiting-1")
    add_message(sm, now, "retrying-1", attempts=2)
    add_message(sm, now, "failed-1", status="failed", attempts=8)
    with sm.begin() as s:
        s.execute(OutboxMessage.__table__.update().where(OutboxMessage.key == "retrying-1")
                  .values(last_error="SMTP: ConnectionRefusedError: [Errno 111] Connection refused"))
    page = client.get("/staff/admin/outbox")  # opens on the failed ones when there are any
    assert page.status_code == 200
    assert "Failed: <span class=\"count\">1</span>" in page.text and "Retrying: <span class=\"count\">1</span>" \
        in page.text and "Waiting: <span class=\"count\">1</span>" in page.text
    assert "reader@test.kuulo" in page.text and "Retry now" in page.text
    retrying = client.get("/staff/admin/outbox?state=retrying").text
    assert "Connection refused" in retrying and "<td>2</td>" in retrying
    assert client.get("/staff/admin/outbox?state=bogus%00").status_code == 200


def test_retry_now_and_cancel_are_audited_and_refused_for_sent_mail(client, sm, now):
    login_admin(client, sm, now)
    add_message(sm, now, "failed-1", status="failed", attempts=8)
    add_message(sm, now, "retrying-1", attempts=2)
    add_message(sm, now, "sent-1", status="sent")
    failed, retrying, sent = (status_of(sm, k).id for k in ("failed-1", "retrying-1", "sent-1"))
    resp = client.post(f"/staff/admin/outbox/{failed}/retry?state=failed", follow_redirects=True)
    assert "The message is due now" in resp.text
    message = status_of(sm, "failed-1")
    assert message.status == "pending" and message.attempts == 0 and message.next_attempt_at == now
    client.post(f"/staff/admin/outbox/{retrying}/cancel")
    assert status_of(sm, "retrying-1").status == "cancelled"
    resp = client.post(f"/staff/admin/outbox/{sent}/cancel", follow_redirects=True)
    assert "Only a waiting, retrying or failed message can be cancelled" in resp.text
    assert status_of(sm, "sent-1").status == "sent"
    assert client.post("/staff/admin/outbox/2147483647/retry", follow_redirects=True).status_code == 200
    with sm.begin() as s:
        actions = sorted(s.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("outbox."))))
    assert actions == ["outbox.cancelled", "outbox.retry_now"]


def test_only_admins_see_the_outbox(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
    factories.login_staff(client)
    assert client.get("/staff/admin/outbox").status_code == 403
    assert client.get("/staff/admin/jobs").status_code == 403


class Delivered:
    def __init__(self):
        self.sent = []

    def send(self, message, confirm):
        assert confirm(timedelta(0))
        self.sent.append(message.body)


def test_a_one_time_link_is_not_readable_in_the_outbox_after_delivery(app, sm, now):
    link = "http://kuulo.test/reset/secret-token-abc"
    with app.app_context(), sm.begin() as s:
        from app.notify.service import enqueue

        enqueue(s, key="reset:1", channel="email", recipient="a@test.kuulo", template="reset_link",
                language="en", now=now, context={"name": "A", "link": link, "hours": 24})
    channel = Delivered()
    assert outbox_jobs.deliver_outbox(sm, now, {"email": channel})["sent"] == 1
    assert link in channel.sent[0]  # the recipient got it
    stored = status_of(sm, "reset:1")
    assert stored.status == "sent" and link not in stored.body and "secret-token-abc" not in str(stored.context)
    assert outbox_jobs.LINK_REMOVED in stored.body


def test_the_jobs_page_shows_schedule_runs_and_who_runs_now(client, sm, now):
    login_admin(client, sm, now)
    add_run(sm, "deliver-outbox", now - timedelta(minutes=5), 1.5)
    add_run(sm, "purge-expired-credentials", now - timedelta(hours=7), 0.2, status="error")
    with sm.begin() as s:
        s.add(JobLock(name="purge-expired-credentials", holder="worker-host:4242", token="t" * 32, pid=4242,
                      pid_scope="elsewhere", acquired_at=now - timedelta(seconds=30),
                      heartbeat_at=now - timedelta(seconds=5), locked_until=now + timedelta(seconds=40)))
    page = client.get("/staff/admin/jobs").text
    assert "Every 1 minutes" in page and "Every day at 03:15" in page
    assert "1.5" in page and "error" in page
    assert "yes, by worker-host:4242" in page
    # Running elsewhere: "run now" is refused, and says so.
    resp = client.post("/staff/admin/jobs/purge-expired-credentials/run", follow_redirects=True)
    assert "is running already" in resp.text
    assert client.post("/staff/admin/jobs/no-such-job/run").status_code == 404


def test_run_now_runs_the_job_under_its_lock_and_logs_the_run(client, sm, now):
    login_admin(client, sm, now)
    resp = client.post("/staff/admin/jobs/purge-expired-credentials/run", follow_redirects=True)
    assert "purge-expired-credentials ran" in resp.text
    with sm.begin() as s:
        run = s.scalar(select(JobRun).where(JobRun.name == "purge-expired-credentials"))
        assert run.status == "ok"
        assert s.get(JobLock, "purge-expired-credentials").token is None  # released
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "job.run_now")) == 1


def test_run_once_prints_progress_lines_of_the_outbox_delivery(app, sm, now, monkeypatch):
    monkeypatch.setattr(outbox_jobs, "PROGRESS_EVERY", 2)
    for i in range(5):
        add_message(sm, now, f"m-{i}")
    monkeypatch.setattr("app.notify.channels.channels_for", lambda config: {"email": Delivered()})
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "deliver-outbox"])
    assert result.exit_code == 0, result.output
    assert "deliver-outbox: 2 messages handled: 2 sent" in result.stderr
    assert "deliver-outbox: 4 messages handled: 4 sent" in result.stderr
    assert "'sent': 5" in result.stdout
