"""Email once: a killed sender's copy has the same Message-ID, two senders never share a message, no addresses in logs."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

from sqlalchemy import select

from app import create_app, db
from app.config import PROJECT_ROOT
from app.notify import service as notify
from app.notify.channels import channels_for
from app.notify.jobs import LEASE, claim_due, deliver_outbox
from app.notify.models import OutboxMessage

WAIT = 60  # seconds: the bound of every wait; reached only when something is broken
CONTEXT = {"name": "Maija", "link": "http://kuulo.test/reset/abc", "hours": 24}
ADDRESS, PHONE = "maija@example.test", "+358401234567"


def enqueue(app: Any, sm: Any, now: datetime, key: str, channel: str = "email", recipient: str = ADDRESS) -> None:
    with app.app_context(), sm.begin() as s:
        notify.enqueue(s, key=key, channel=channel, recipient=recipient, template="reset_link", language="fi",
                       context=CONTEXT, now=now)


class HoldingSmtp:
    """A real SMTP server on loopback (aiosmtpd) that can hold its first client: at EHLO ("ehlo"), or after
    it has the message but before its "250" ("data"); or refuse every recipient ("refuse")."""

    def __init__(self, mode: str = "") -> None:
        from aiosmtpd.controller import Controller

        self.mode, self.messages = mode, []
        self.holding, self.release = threading.Event(), threading.Event()
        sink = self

        class Handler:
            async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                                  responses: list[str]) -> list[str]:
                session.host_name = hostname
                await sink.hold_first("ehlo")
                return responses

            async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                                  options: list[str]) -> str:
                if sink.mode == "refuse":
                    return f"550 5.1.1 <{address}>: Recipient address rejected"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                await sink.hold_first("data")
                return "250 OK"

        with socket.socket() as probe:  # aiosmtpd's start-up check cannot use port 0
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    async def hold_first(self, step: str) -> None:
        if self.mode == step and not self.holding.is_set():  # no await in between: one client only
            self.holding.set()
            await asyncio.to_thread(self.release.wait, WAIT)

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]

    def __enter__(self) -> HoldingSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.controller.stop()


def rows(sm: Any) -> list[OutboxMessage]:
    with sm.begin() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_sender_killed_after_smtp_took_the_message_resends_it_with_the_same_message_id(app, app_config, sm, now,
                                                                                        tmp_path):
    enqueue(app, sm, now, "crash:1")
    with HoldingSmtp("data") as server:
        env = {**os.environ, "KUULO_DATABASE_URL": app_config["DATABASE_URL"], "KUULO_SMTP_HOST": "127.0.0.1",
               "KUULO_SMTP_PORT": str(server.port), "KUULO_SMTP_TIMEOUT_SECONDS": "20",
               "KUULO_FAKE_NOW": now.isoformat()}
        with open(tmp_path / "sender.log", "wb") as output:
            sender = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs", "run-once",
                                       "deliver-outbox"], cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output)
            try:
                held = server.holding.wait(WAIT)  # the server has the message and holds back its "250"
                os.kill(sender.pid, signal.SIGKILL)
                sender.wait(WAIT)
            finally:
                if sender.poll() is None:
                    sender.kill()
        assert held, (tmp_path / "sender.log").read_text()
        server.release.set()
        [row] = rows(sm)
        assert row.status == "sending" and row.lease_until - now <= timedelta(minutes=5)  # a short lease
        up = channels_for({**app.config, "SMTP_PORT": server.port})
        assert deliver_outbox(sm, now + timedelta(minutes=1), up)["sent"] == 0  # the lease still holds
        assert deliver_outbox(sm, row.lease_until + timedelta(seconds=1), up)["sent"] == 1  # taken over
        assert deliver_outbox(sm, row.lease_until + timedelta(hours=1), up)["sent"] == 0
    # At-least-once across the crash, but one Message-ID: a receiving system can drop the copy.
    assert len(server.messages) == 2 and len(set(server.message_ids())) == 1
    assert [r.status for r in rows(sm)] == ["sent"]


def test_two_senders_at_once_send_each_message_once(app_config, app, sm, now, smtp):
    for i in range(12):
        enqueue(app, sm, now, f"both:{i}")
    apps = [create_app({**app_config, "SMTP_PORT": smtp.port}) for _ in range(2)]  # own engines and sessions
    start = threading.Barrier(2)

    def sender(instance: Any) -> dict[str, int]:
        start.wait(WAIT)
        return deliver_outbox(db.get_sessionmaker(instance), now, channels_for(instance.config))

    try:
        with ThreadPoolExecutor(2) as pool:
            results = [f.result(WAIT) for f in [pool.submit(sender, a) for a in apps]]
    finally:
        for instance in apps:
            db.engine(instance).dispose()
    assert sum(r["sent"] for r in results) == 12
    assert len(smtp.messages) == 12 and len({m["Message-ID"] for m in smtp.messages}) == 12
    assert {r.status for r in rows(sm)} == {"sent"}


class SharedClock:
    """The time both senders see; the test moves it."""

    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def test_a_run_that_outlives_its_lease_leaves_the_message_to_its_successor(app, sm, now, caplog):
    for i in range(3):
        enqueue(app, sm, now, f"slow:{i}")
    clock, results = SharedClock(now), {}
    with HoldingSmtp("ehlo") as server:
        up = channels_for({**app.config, "SMTP_PORT": server.port, "SMTP_TIMEOUT_SECONDS": WAIT})
        first = threading.Thread(target=lambda: results.update(first=deliver_outbox(sm, now, up, clock=clock)))
        first.start()
        try:
            assert server.holding.wait(WAIT)  # the first run has claimed a message and is stuck before sending
            clock.t = now + LEASE + timedelta(seconds=1)  # ... for longer than its lease
            results["second"] = deliver_outbox(sm, clock.t, up, clock=clock)
        finally:
            server.release.set()
            first.join(WAIT)
        assert not first.is_alive()
    assert results["second"]["sent"] == 3 and results["first"]["sent"] == 0
    assert len(server.messages) == 3 and len(set(server.message_ids())) == 3
    assert {r.status for r in rows(sm)} == {"sent"}
    assert "taken over by another sender before the hand-over" in caplog.text


def test_a_message_whose_senders_keep_dying_ends_as_failed(app, sm, now, smtp):
    enqueue(app, sm, now, "poison:1")
    t = now
    for sender in range(3):  # three senders claim it and die before they record anything
        with sm.begin() as s:
            assert len(claim_due(s, t, owner=f"dead-{sender}")) == 1
        t += LEASE + timedelta(seconds=1)
    up = channels_for({**app.config, "SMTP_PORT": smtp.port})
    assert deliver_outbox(sm, t, up, max_attempts=3) == {"sent": 0, "retry": 0, "failed": 1}
    [row] = rows(sm)
    assert row.status == "failed" and "interrupted" in row.last_error and smtp.messages == []


def test_no_log_line_or_error_carries_an_address_or_a_body(app, sm, now, caplog):
    caplog.set_level(logging.DEBUG)
    enqueue(app, sm, now, "refused:1")
    enqueue(app, sm, now, "sms:1", "sms", PHONE)
    with HoldingSmtp("refuse") as server:
        counts = deliver_outbox(sm, now, channels_for({**app.config, "SMTP_PORT": server.port}))
    assert counts == {"sent": 1, "retry": 1, "failed": 0}  # the SMS (to the log), the refused email
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))  # aiosmtpd's
    assert "SMS not sent" in logged
    email = rows(sm)[0]
    assert "refused (550)" in email.last_error
    for personal in (ADDRESS, PHONE, "Maija", CONTEXT["link"]):
        assert personal not in logged and personal not in email.last_error
