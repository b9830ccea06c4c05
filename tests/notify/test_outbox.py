"""The outbox: one row per logical message; delivered over real SMTP; survives an SMTP outage."""
from __future__ import annotations

import smtplib
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


def test_one_run_sends_a_whole_backlog_over_one_connection(app, sm, now, smtp):
    """A night's notices do not wait a minute per hundred: one run sends them all, on one SMTP connection."""
    connections = []
    real_connect = smtplib.SMTP.connect

    def counting_connect(self, *args, **kwargs):
        connections.append(args)
        return real_connect(self, *args, **kwargs)

    with app.app_context(), sm.begin() as s:
        for n in range(150):  # more than one run sent before (100)
            notify.enqueue(s, key=f"backlog:{n}", channel="email", recipient=f"p{n}@example.test",
                           template="reset_link", language="fi", context=CONTEXT, now=now)
    smtplib.SMTP.connect = counting_connect
    try:
        counts = deliver_outbox(sm, now, channels_for({**app.config, "SMTP_PORT": smtp.port}))
    finally:
        smtplib.SMTP.connect = real_connect
    assert counts == {"sent": 150, "retry": 0, "failed": 0}
    assert len(smtp.messages) == 150 and len(connections) == 1
    assert {m["To"] for m in smtp.messages} == {f"p{n}@example.test" for n in range(150)}


def test_a_run_stops_at_its_limit_and_the_next_run_goes_on(app, sm, now, smtp):
    with app.app_context(), sm.begin() as s:
        for n in range(5):
            notify.enqueue(s, key=f"limit:{n}", channel="email", recipient=f"p{n}@example.test",
                           template="reset_link", language="fi", context=CONTEXT, now=now)
    up = {**app.config, "SMTP_PORT": smtp.port}
    assert deliver_outbox(sm, now, channels_for(up), max_messages=3)["sent"] == 3
    assert deliver_outbox(sm, now, channels_for(up))["sent"] == 2
    assert len(smtp.messages) == 5


def test_a_connection_the_server_closed_between_messages_is_opened_again(app, sm, now, smtp):
    """The SMTP server's idle timeout closes the kept connection: the next message goes on a new one, once."""
    from app.notify.channels import SmtpEmail

    with app.app_context():
        enqueue(sm, now, "idle:1")
        enqueue(sm, now, "idle:2")
    channel = SmtpEmail({**app.config, "SMTP_PORT": smtp.port})
    with sm.begin() as s:
        first, second = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    channel.send(first, lambda hold: True)
    channel._smtp.sock.close()  # the server's side went away (as after its idle timeout)
    channel.send(second, lambda hold: True)
    channel.close()
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(
        {m["Message-ID"] for m in smtp.messages}) and len(smtp.messages) == 2


def test_messages_a_broken_run_claimed_but_did_not_reach_are_due_again_at_once(app, sm, now, smtp):
    import pytest

    with app.app_context(), sm.begin() as s:
        for n in range(5):
            notify.enqueue(s, key=f"broken:{n}", channel="email", recipient=f"p{n}@example.test",
                           template="reset_link", language="fi", context=CONTEXT, now=now)
    channels = channels_for({**app.config, "SMTP_PORT": smtp.port})
    real_send, calls = channels["email"].send, []

    def send_then_break(message, confirm):
        calls.append(message.id)
        if len(calls) == 2:
            raise RuntimeError("the process is going down")
        return real_send(message, confirm)

    channels["email"].send = send_then_break
    with pytest.raises(RuntimeError):
        deliver_outbox(sm, now, channels)
    with sm.begin() as s:
        states = [(m.status, m.attempts) for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    # the sent one, the one in hand when it broke (its lease runs out first), and three never reached
    assert states == [("sent", 1), ("sending", 1), ("pending", 0), ("pending", 0), ("pending", 0)]
    assert deliver_outbox(sm, now, channels_for({**app.config, "SMTP_PORT": smtp.port}))["sent"] == 3
