"""Benchmark: N circulation desks scanning at once — each desk checks out and checks in its own item in a
loop through the desk endpoints of the JSON API (POST /api/v1/circulation/checkouts and /checkins, a staff
token with the role circulation).

    python -m benchmarks.desk [--desks 32] [--rounds 20] [--passes 3]

Each desk has its own patron and item, so desks do not wait for each other's rows (two desks never lend the
same copy). Prints transactions per second, p50/p99 latency and the error count. SQLite in a temporary file
by default; set KUULO_BENCH_DATABASE_URL=postgresql+psycopg://… for PostgreSQL (its tables are created in
it: use an empty database). Targets (issue 19), on PostgreSQL: ≥ 200 transactions/s at 32 desks, p99 ≤ 50 ms,
0 errors. Not a test.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from typing import Any

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def make_app(url: str, **settings: Any) -> Any:
    """The app on ``url`` with a fixed clock and no rate limits (the SIP2 benchmark uses it too)."""
    from app import create_app, db

    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench", "FAKE_NOW": NOW.isoformat(),
                      "RATELIMIT_ENABLED": False, "DATABASE_POOL_SIZE": 40, **settings})
    db.create_schema(app)
    return app


def build(app: Any, desks: int, *, roles: tuple[str, ...] = ("circulation",), card_prefix: str = "31",
          barcode_prefix: str = "D") -> tuple[list[tuple[str, str]], str]:
    """Lumme's Mikkeli branch, one (card, barcode) pair per desk, and a staff token with ``roles``."""
    from app import db
    from app.accounts import service as accounts
    from app.circulation import service
    from app.circulation.money import Money

    pairs = []
    with app.app_context(), db.get_sessionmaker(app).begin() as s:
        service.create_library(s, code="lumme", name="Lumme", preset="lumme", now=NOW)
        branch = service.add_branch(s, library_code="lumme", code="mikkeli", name="Mikkeli")
        service.add_calendar_version(s, branch_id=branch.id, valid_from=date(2020, 1, 1),
                                     weekly={d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri")},
                                     closed_dates=[], now=NOW, actor="bench")
        staff = accounts.create_staff_user(s, email="desk-bench@kuulo.test", name="Desk bench",
                                           password="bench-password-1", roles=list(roles), library=None, now=NOW,
                                           actor="bench")
        raw, _tok = accounts.issue_token(s, now=NOW, days=1, staff=staff, name="desk-bench")
        for i in range(desks):
            card = f"{card_prefix}{i:08d}"
            patron = accounts.create_patron(s, name=f"Desk bench {i}", now=NOW, actor="bench", card_number=card)
            service.enrol_patron(s, patron_id=patron.id, library_code="lumme", category="adult",
                                 home_branch="mikkeli", notice_channels=[], postal_address="", now=NOW,
                                 actor="bench", card_expires_on=date(2030, 1, 1))
            barcode = f"{barcode_prefix}{i:06d}"
            service.add_item(s, library_code="lumme", barcode=barcode, record_key=f"bench:{barcode}",
                             title=f"Book {i}", material_type="book", home_branch="mikkeli",
                             replacement_price=Money(1000, "EUR"), now=NOW)
            pairs.append((card, barcode))
    return pairs, raw


def desk(base: str, token: str, card: str, barcode: str, rounds: int, latencies: list[float],
         errors: list[str]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(path: str, body: dict[str, Any]) -> int:
        request = urllib.request.Request(base + path, method="POST", headers=headers, data=json.dumps(body).encode())
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = int(exc.code)
        latencies.append(time.perf_counter() - started)
        return status

    for _ in range(rounds):
        for status, want in ((call("/api/v1/circulation/checkouts", {"card_number": card, "item_barcode": barcode,
                                                                     "branch": "lumme/mikkeli"}), 201),
                             (call("/api/v1/circulation/checkins", {"item_barcode": barcode,
                                                                    "branch": "lumme/mikkeli"}), 200)):
            if status != want:
                errors.append(str(status))


def measure(base: str, token: str, pairs: list[tuple[str, str]], rounds: int) -> tuple[float, float, float, list[str]]:
    """One pass: every desk scans ``rounds`` checkouts and checkins; (transactions/s, p50 ms, p99 ms, errors)."""
    latencies: list[float] = []
    errors: list[str] = []
    workers = [threading.Thread(target=desk, args=(base, token, card, barcode, rounds, latencies, errors))
               for card, barcode in pairs]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else float("nan")
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else float("nan")
    return 2 * rounds * len(pairs) / seconds, p50, p99, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--desks", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--passes", type=int, default=1, help="measure this many times; median and range")
    args = parser.parse_args()
    url = os.environ.get("KUULO_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = make_app(url)
    pairs, token = build(app, args.desks)
    from sqlalchemy import event
    from werkzeug.serving import make_server

    from app import db

    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(db.engine(app), "before_cursor_execute", count)  # SQL statements per transaction
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    web = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{web.server_port}"
    results = []
    for number in range(1, args.passes + 1):
        statements[0] = 0
        rate, p50, p99, errors = measure(base, token, pairs, args.rounds)
        results.append((rate, p99))
        per = statements[0] / (2 * args.rounds * len(pairs))
        print(f"pass {number}: {args.desks} desks: {2 * args.rounds * len(pairs)} checkouts and checkins = "
              f"{rate:.0f} transactions/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, {per:.1f} SQL statements per "
              f"transaction, errors {len(errors)} {errors[:3]}")
    web.shutdown()
    rates, p99s = sorted(r for r, _p in results), sorted(p for _r, p in results)
    print(f"median {rates[len(rates) // 2]:.0f} transactions/s (range {rates[0]:.0f}-{rates[-1]:.0f}), "
          f"median p99 {p99s[len(p99s) // 2]:.0f} ms (range {p99s[0]:.0f}-{p99s[-1]:.0f}) "
          "(targets on PostgreSQL: >= 200/s, p99 <= 50 ms, 0 errors)")


if __name__ == "__main__":
    main()
