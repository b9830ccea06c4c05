"""Outbox delivery throughput: the ``deliver-outbox`` job sending to a real SMTP server on loopback.

    python -m benchmarks.outbox_bench [--messages 5000] [--rounds 3] [--database-url URL] [--dataset URL]

Queues ``--messages`` rendered emails (as the nightly job does: one multi-row INSERT of outbox rows) and
times one delivery run of ``app.notify.jobs.deliver_outbox`` — the job's own code with its SMTP channel —
to an aiosmtpd server on 127.0.0.1 that accepts everything. Each round queues new messages; every round
and the median are printed. Target (issue 22): ≥ 200 messages/s with the national data set's 5,000,000
outbox rows (mostly sent) in the table: ``--dataset URL`` runs against such a database (built by
``python -m benchmarks.dataset``; the rows this benchmark adds are marked ``bench-outbox:`` and removed
at the end) and, in the same run, against a fresh database of the same kind (``--database-url``, default
a throwaway SQLite file), alternating rounds. Not a test.
"""
from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import dataset


class Sink:
    """An SMTP server on loopback that counts what it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.received = 0
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.received += 1
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()
        self.port = port

    def stop(self) -> None:
        self.controller.stop()


class Target:
    def __init__(self, name: str, url: str, now: datetime, fresh: bool) -> None:
        from app import create_app, db

        self.name, self.now = name, now
        self.app = create_app({"DATABASE_URL": url, "FAKE_NOW": now.isoformat(), "TESTING": True,
                               "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1"})
        if fresh:
            db.create_schema(self.app)
        self.sm = db.get_sessionmaker(self.app)

    def queue(self, count: int) -> None:
        from sqlalchemy import insert

        from app.notify.models import OutboxMessage
        from app.notify.service import outbox_row

        run = uuid.uuid4().hex[:8]
        rows = [outbox_row(key=f"bench-outbox:{run}:{n}", channel="email", recipient=f"reader{n}@example.test",
                           language="fi", template="bench", subject="Eräpäivä lähestyy / Due date soon",
                           body="Hei,\n\nlainasi eräpäivä on pian.\n\nKuulo\n" * 4, context={"n": n},
                           now=self.now - timedelta(seconds=1)) for n in range(count)]
        with self.app.app_context(), self.sm.begin() as s:
            for start in range(0, count, 1000):
                s.execute(insert(OutboxMessage), rows[start:start + 1000])

    def deliver(self, port: int) -> tuple[int, float]:
        from app.notify.channels import channels_for
        from app.notify.jobs import deliver_outbox

        config = {**self.app.config, "SMTP_PORT": port}
        with self.app.app_context():
            started = time.perf_counter()
            counts = deliver_outbox(self.sm, self.now, channels_for(config), max_seconds=3600)
            return counts["sent"], time.perf_counter() - started

    def clean(self) -> None:
        from sqlalchemy import delete

        from app.notify.models import OutboxMessage

        with self.sm.begin() as s:
            s.execute(delete(OutboxMessage).where(OutboxMessage.key.like("bench-outbox:%")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="", help="a fresh database (default: a throwaway SQLite file)")
    parser.add_argument("--dataset", default="", help="a database built by benchmarks.dataset (national)")
    parser.add_argument("--now", default=(dataset.DEFAULT_NOW + timedelta(hours=1)).isoformat())
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    now = datetime.fromisoformat(args.now)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='kuulo-outbox-bench-')) / 'kuulo.db'}"
    targets = [Target("empty outbox", url, now, fresh=True)]
    if args.dataset:
        targets.append(Target("data set", args.dataset, now, fresh=False))
    sink = Sink()
    rates: dict[str, list[float]] = {t.name: [] for t in targets}
    try:
        for number in range(1, args.rounds + 1):
            for target in targets:
                target.queue(args.messages)
                sent, seconds = target.deliver(sink.port)
                rates[target.name].append(sent / seconds)
                print(f" round {number} {target.name:13} {sent:6d} sent in {seconds:6.2f} s = "
                      f"{sent / seconds:7.1f} messages/s", flush=True)
        for name, values in rates.items():
            values.sort()
            print(f"{name}: median {statistics.median(values):.1f} messages/s, range {values[0]:.1f}–"
                  f"{values[-1]:.1f} (target ≥ 200); the SMTP server received {sink.received} in all")
    finally:
        sink.stop()
        for target in targets:
            target.clean()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
