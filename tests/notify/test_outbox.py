"""The outbox: one row per logical message; delivered over real SMTP; survives an SMTP outage."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.notify import service as notify
from app.notify.channels import channels_for
from app.notify.jobs import deliver_outbox
from app.notify.models import OutboxMessage
from app.scheduler import run_job

CONTEXT = {"name": "Maija", "link": "http://kuulo.test/reset/abc", "hours": 24}


def enqueue(sm, now, key="reset:1", language="fi"):
    with sm.begin() as s:
        notify.enqueue(s, key=key, channel="email", recipient="maija@example.test", template="reset_link",
                       language=language, context=CONTEXT, now=now)


def test_same_key_enqueues_once(app, sm, now):
    with app.app_context():
        enqueue(sm, now)
        enqueue(sm, now)
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_message_is_rendered_in_the_recipients_language(app, sm, now):
    with app.app_context():
        enqueue(sm, now, "k-en", "en")
    with sm.begin() as s:
        msg = s.scalar(select(OutboxMessage))
        assert msg.subject == "Kuulo: set a new PIN or password"
        assert "http://kuulo.test/reset/abc" in msg.body and "Maija" in msg.body


def test_smtp_outage_keeps_messages_and_they_go_out_exactly_once_later(app, sm, now, smtp):
    with app.app_context():
        enqueue(sm, now, "a")
        enqueue(sm, now, "b")
    down = channels_for({**app.config, "SMTP_PORT": 9, "SMTP_TIMEOUT_SECONDS": 2})  # nothing listens on 9
    assert deliver_outbox(sm, now, down) == {"sent": 0, "retry": 2, "failed": 0}
    with sm.begin() as s:
        rows = s.scalars(select(OutboxMessage)).all()
        assert {r.status for r in rows} == {"pending"} and all("SMTP" in r.last_error for r in rows)
        assert all(r.next_attempt_at == now + timedelta(seconds=60) for r in rows)
    up = channels_for({**app.config, "SMTP_PORT": smtp.port})
    # Before the backoff ends nothing is tried, even with the server back.
    assert deliver_outbox(sm, now + timedelta(seconds=30), up)["sent"] == 0
    assert deliver_outbox(sm, now + timedelta(seconds=61), up)["sent"] == 2
    assert deliver_outbox(sm, now + timedelta(minutes=10), up)["sent"] == 0  # a re-run sends nothing again
    assert len(smtp.messages) == 2
    assert {m["To"] for m in smtp.messages} == {"maija@example.test"}
    assert smtp.messages[0]["Subject"].startswith("Kuulo")


def test_backoff_doubles_and_gives_up_after_max_attempts(app, sm, now):
    with app.app_context():
        enqueue(sm, now)
    down = channels_for({**app.config, "SMTP_PORT": 9, "SMTP_TIMEOUT_SECONDS": 2})
    t = now
    for attempt in range(1, 4):
        deliver_outbox(sm, t, down, max_attempts=3, backoff_seconds=60)
        with sm.begin() as s:
            msg = s.scalar(select(OutboxMessage))
            assert msg.attempts == attempt
            if attempt < 3:
                assert msg.next_attempt_at == t + timedelta(seconds=60 * 2 ** (attempt - 1))
                t = msg.next_attempt_at
    assert msg.status == "failed"


def test_a_message_claimed_by_a_running_sender_is_not_sent_by_another(app, sm, now, smtp):
    from app.notify.jobs import claim_due

    with app.app_context():
        enqueue(sm, now)
    with sm.begin() as s:
        assert len(claim_due(s, now)) == 1  # another sender holds the lease now
    up = channels_for({**app.config, "SMTP_PORT": smtp.port})
    assert deliver_outbox(sm, now + timedelta(minutes=1), up)["sent"] == 0
    # A sender that died mid-send: after the lease, the message is delivered (once).
    assert deliver_outbox(sm, now + timedelta(minutes=6), up)["sent"] == 1
    assert len(smtp.messages) == 1


def test_the_scheduled_job_delivers_through_the_configured_smtp(app_config, smtp, sm, now):
    from app import create_app

    app = create_app({**app_config, "SMTP_PORT": smtp.port})
    with app.app_context():
        enqueue(sm, now)
    run = run_job(app, "deliver-outbox", now)
    assert run.status == "ok" and "'sent': 1" in run.summary
    assert len(smtp.messages) == 1


def test_sms_through_the_logging_gateway_is_marked_and_logged(app, sm, now, caplog):
    with app.app_context(), sm.begin() as s:
        notify.enqueue(s, key="sms:1", channel="sms", recipient="+358401234567", template="reset_link",
                       language="en", context=CONTEXT, now=now)
    deliver_outbox(sm, now, channels_for(app.config))
    assert "SMS not sent (logging gateway" in caplog.text


def test_letters_wait_for_staff_to_print(client, app, sm, now):
    from tests import factories

    with app.app_context(), sm.begin() as s:
        notify.enqueue(s, key="letter:1", channel="letter", recipient="Maija M\nKatu 1\n00100 Helsinki",
                       template="reset_link", language="fi", context=CONTEXT, now=now)
        factories.staff(s, now, "librarian")
    assert deliver_outbox(sm, now, channels_for(app.config))["sent"] == 0  # not sent by the job
    factories.login_staff(client)
    page = client.get("/staff/letters").text
    assert "00100 Helsinki" in page
    with sm.begin() as s:
        letter_id = s.scalar(select(OutboxMessage.id))
    client.post("/staff/letters/printed", data={"letter": str(letter_id)})
    assert "No letters wait" in client.get("/staff/letters").text
