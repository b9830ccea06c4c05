"""Benchmark: My account's loans page for a heavy patron, under gunicorn, against a bare endpoint of the same
app in the same run; and renewing all of 100 loans at once.

    python -m benchmarks.account_pages [--seconds 20] [--rounds 5] [--connections 16] [--database-url URL]

The patron (Lumme preset) has 100 loans, 20 waiting holds and 50 fee entries (5.00 in all: no ban). She logs
in through the real login form (CSRF token and session cookie); the load is ``GET /account/loans`` with her
session cookie, alternated round by round with ``GET /bench/bare`` (a bare Flask JSON endpoint of the same
app, see ``benchmarks/lending_bench.py``), each at ``--connections`` keep-alive connections. Then
``POST /account/loans/renew`` (Renew all) for three other patrons with 100 loans each, one request each,
timed end to end. The clock is fixed (``KUULO_FAKE_NOW``), so every run renews the same loans.

Targets (issue 18): loans page ≥ 0.3 × the bare endpoint's requests/s, p99 ≤ 100 ms at 16 connections;
Renew all of 100 loans ≤ 1 s. SQLite in a throwaway file by default; ``--database-url
postgresql+psycopg://…`` for PostgreSQL (an empty database: the tables are created in it). Not a test: it
prints what one run measured; on a loaded machine alternate rounds and read the median and the range.
"""
from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.lending_bench import compare, free_port, measure, repeat, request_bytes, show, start_gunicorn

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LOANS, HOLDS, FEES, RENEWERS = 100, 20, 50, 3
PIN = "1234"


def prepare(env: dict[str, str]) -> dict[str, Any]:
    """The library, the heavy patron and the renewers, through the services (as the desk would)."""
    os.environ.update(env)
    from app import create_app, db
    from app.accounts import service as accounts
    from app.circulation import service
    from app.circulation.models import CircLibrary
    from app.circulation.money import Money
    from app.circulation.service_common import add_fee

    app = create_app()
    db.create_schema(app)
    cards: list[str] = []
    with app.app_context(), db.get_sessionmaker(app).begin() as s:
        service.create_library(s, code="lumme", name="Lumme", preset="lumme", now=NOW)
        branch = service.add_branch(s, library_code="lumme", code="mikkeli", name="Mikkeli")
        service.add_calendar_version(s, branch_id=branch.id, valid_from=date(2020, 1, 1),
                                     weekly={d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
                                     closed_dates=[], now=NOW, actor="bench")
        library_id = s.query(CircLibrary.id).filter(CircLibrary.code == "lumme").scalar()

        def patron(n: int) -> int:
            card = f"41{n:08d}"
            person = accounts.create_patron(s, name=f"Account bench {n}", now=NOW, actor="bench", card_number=card,
                                            pin=PIN)
            service.enrol_patron(s, patron_id=person.id, library_code="lumme", category="adult",
                                 home_branch="mikkeli", notice_channels=[], postal_address="", now=NOW, actor="bench",
                                 card_expires_on=date(2030, 1, 1))
            cards.append(card)
            return person.id

        def copy(barcode: str, record: str) -> str:
            service.add_item(s, library_code="lumme", barcode=barcode, record_key=record, title=f"Book {barcode}",
                             material_type="book", home_branch="mikkeli", replacement_price=Money(2000, "EUR"),
                             now=NOW)
            return barcode

        def lend(patron_id: int, barcode: str, days_ago: int) -> None:
            result = service.checkout(s, patron_id=patron_id, item_barcode=barcode, branch="mikkeli",
                                      now=NOW - timedelta(days=days_ago), actor="bench")
            assert result.loan is not None, result.decision

        heavy, other = patron(0), patron(99)
        for i in range(LOANS):  # due from a week ago to three weeks ahead: overdue, due soon and on time
            lend(heavy, copy(f"H{i:05d}", f"bench:h{i}"), 35 - i % 30)
        for i in range(HOLDS):  # titles another patron has on loan: the holds wait in the queue
            lend(other, copy(f"Q{i:05d}", f"bench:q{i}"), 5)
            service.place_hold(s, patron_id=heavy, record_key=f"bench:q{i}", now=NOW, actor="bench")
        for i in range(FEES):
            add_fee(s, patron_id=heavy, library_id=library_id, kind="other", amount=Money(10, "EUR"),
                    reason=f"bench {i}", now=NOW - timedelta(days=i), actor="bench", dedup_key=f"bench-fee:{i}")
        for n in range(1, RENEWERS + 1):
            renewer = patron(n)
            for i in range(LOANS):
                lend(renewer, copy(f"R{n}{i:05d}", f"bench:r{n}:{i}"), 20)
    db.engine(app).dispose()
    return {"cards": cards}


def login(base: str, card: str) -> tuple[str, urllib.request.OpenerDirector]:
    """Log in through the form; returns the Cookie header and an opener that keeps the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login", timeout=120).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode({"card_number": card, "secret": PIN, "csrf_token": token}).encode()
    opener.open(f"{base}/login", data=body, timeout=120).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    assert "session" in cookie, "login failed"
    return cookie, opener


def renew_all(base: str, card: str) -> tuple[float, int]:
    """One Renew all, timed from the POST to the last byte of the results page; (seconds, renewed)."""
    _cookie, opener = login(base, card)
    page = opener.open(f"{base}/account/loans", timeout=120).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode({"csrf_token": token, "renew_all": "1"}).encode()
    started = time.perf_counter()
    answer = opener.open(f"{base}/account/loans/renew", data=body, timeout=120).read().decode()
    elapsed = time.perf_counter() - started
    return elapsed, answer.count("✓")  # the mark of a renewed loan, in any language


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="per load, all rounds together")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default="", help="default: a throwaway SQLite file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kuulo-account-bench-"))
    env = {"KUULO_DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'kuulo.db'}",
           "KUULO_MEDIA_ROOT": str(tmp / "media"), "KUULO_BASE_URL": "http://127.0.0.1",
           "KUULO_FAKE_NOW": NOW.isoformat(), "KUULO_SECRET_KEY": "account-bench", "KUULO_RATELIMIT_ENABLED": "false",
           "KUULO_SMTP_PORT": "1"}
    proc = None
    try:
        started = time.perf_counter()
        print(f"setting up in {tmp}: a patron with {LOANS} loans, {HOLDS} holds, {FEES} fees; "
              f"{RENEWERS} patrons with {LOANS} loans to renew…")
        data = prepare(env)
        print(f"  ({time.perf_counter() - started:.0f} s)")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_gunicorn(port, env, args.workers, args.threads)
        cookie, opener = login(base, data["cards"][0])
        page = opener.open(f"{base}/account/loans", timeout=120).read().decode()
        assert page.count('name="loan_id"') == LOANS, "the loans page lists every loan"
        headers = {"Cookie": cookie}
        loads = {"bare": repeat(request_bytes("/bench/bare", {})),
                 "loans": repeat(request_bytes("/account/loans", headers))}
        asyncio.run(measure(port, loads["loans"], 4, 2.0))  # warm up both
        asyncio.run(measure(port, loads["bare"], 4, 1.0))
        print(f"\n1. GET /account/loans ({LOANS} loans, {HOLDS} holds, {FEES} fees) vs a bare endpoint, "
              f"{args.connections} connections, gunicorn gthread {args.workers}×{args.threads}, {args.rounds} rounds "
              f"of {args.seconds / args.rounds:.0f} s per load")
        rounds = []
        for number in range(1, args.rounds + 1):
            result = asyncio.run(compare(port, loads, args.connections, args.seconds / args.rounds, rounds=1))
            rounds.append(result)
            print(f" round {number}")
            show("bare Flask JSON endpoint", result["bare"])
            show("GET /account/loans", result["loans"])
        ratios = sorted(r["loans"]["rps"] / r["bare"]["rps"] for r in rounds)
        p99s = sorted(r["loans"]["p99_ms"] for r in rounds)
        errors = sum(r[name]["errors"] for r in rounds for name in r)
        print(f"  median round: ratio {statistics.median(ratios):.2f} (target ≥ 0.3), loans page p99 "
              f"{statistics.median(p99s):.1f} ms (target ≤ 100 ms); all rounds: ratio {ratios[0]:.2f}–{ratios[-1]:.2f},"
              f" p99 {p99s[0]:.1f}–{p99s[-1]:.1f} ms; {errors:.0f} errors")

        print(f"\n2. Renew all ({LOANS} loans), one request per patron")
        times = []
        for card in data["cards"][2:]:
            elapsed, renewed = renew_all(base, card)
            times.append(elapsed)
            print(f"  patron {card}: {elapsed * 1000:.0f} ms, {renewed} renewed")
        print(f"  median {statistics.median(times) * 1000:.0f} ms (target ≤ 1000 ms), range "
              f"{min(times) * 1000:.0f}–{max(times) * 1000:.0f} ms")
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # a keep-alive connection holds a thread: stop it hard
                proc.kill()
                proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
