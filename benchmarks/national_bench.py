"""Kuulo at national size: the main pages and APIs measured on a national data set and, in the same run,
on the small one, so that the growth is visible (issue 22).

    python -m benchmarks.national_bench --dataset URL [--small URL] [--seconds 60] [--rounds 6]
                                        [--registrations 1000] [--explain]

``--dataset`` is a database built by ``python -m benchmarks.dataset --scale national`` (or any scale).
``--small`` is one built with ``--scale small``; without it a small data set is built for this run in a
throwaway database of the same kind (PostgreSQL: database ``kuulo_bench_small`` on the same server,
dropped and created again; SQLite: a temporary file). Both are served at once by gunicorn (the project's
``gunicorn.conf.py`` settings: gthread, one worker per core, 4 threads) with the clock at the data sets'
present; every round runs every load against both servers in turn, so a machine that gets busier during
the run affects both alike. Printed per load and data set: requests/s, p50/p95/p99, errors; then the
median round and the range over rounds, against the issue's targets:

- reader-app poll ``GET /api/v1/loans`` and its 304 ≥ 0.5× the bare endpoint, p99 ≤ 50 ms (32 connections);
- the book manifest, the status page;
- staff pages (institution queue, audiobook catalogue, CD clubs dashboard) p95 ≤ 150 ms (4 connections);
- registration (70 % new people, 30 % duplicates of people already in the data set) ≥ 100/s, 0 errors.

``--explain``: instead of the load, runs each measured request once in-process against the national data
set, records the SQL it sends, and prints for each statement ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL
(``EXPLAIN QUERY PLAN`` on SQLite) with its time: the plan behind every figure. The benchmark adds to the
data set a staff user ``bench@national.kuulo.test`` and API tokens (idempotent). Not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import dataset, lending_bench
from benchmarks.lending_bench import free_port, read_response, request_bytes

ROOT = Path(__file__).resolve().parent.parent
BENCH_EMAIL = "bench@national.kuulo.test"
BENCH_PASSWORD = "national-bench-2026"
BENCH_ROLES = ["librarian", "reviewer", "producer", "status_editor"]
PAGES = {"queue": "/staff/institutions/applications", "audiobooks": "/staff/audiobooks",
         "clubs": "/staff/clubs"}


@dataclass
class Served:
    """One data set behind one gunicorn: what the loads need to call it."""

    name: str
    url: str
    patron_token: str = ""
    staff_token: str = ""
    cookie: str = ""
    book_id: int = 0
    etag: str = ""
    known_codes: list[str] = field(default_factory=list)
    port: int = 0
    proc: Any = None


def fake_now(now: datetime) -> str:
    return (now + timedelta(hours=1)).isoformat()


def server_env(url: str, media: Path, now: datetime) -> dict[str, str]:
    return {"KUULO_DATABASE_URL": url, "KUULO_MEDIA_ROOT": str(media), "KUULO_BASE_URL": "http://127.0.0.1",
            "KUULO_FAKE_NOW": fake_now(now), "KUULO_RATELIMIT_ENABLED": "false", "KUULO_LOG_LEVEL": "WARNING"}


def prepare(served: Served, media: Path, now: datetime) -> None:
    """Tokens, a staff user for the pages, a patron with active e-loans and a book of hers (in-process)."""
    from sqlalchemy import func, select

    from app import create_app, db
    from app.accounts import service as accounts
    from app.accounts.models import Library, Patron, StaffUser
    from app.lending.models import EbookLoan as Loan

    app = create_app({"DATABASE_URL": served.url, "MEDIA_ROOT": str(media), "FAKE_NOW": fake_now(now)})
    at = now + timedelta(hours=1)
    with app.app_context(), db.get_sessionmaker(app).begin() as s:
        staff = s.scalar(select(StaffUser).where(StaffUser.email == BENCH_EMAIL))
        if staff is None:  # registers for the data set's librarian's library
            library = s.scalar(select(Library).order_by(Library.id).limit(1))
            staff = accounts.create_staff_user(s, email=BENCH_EMAIL, name="Bench", password=BENCH_PASSWORD,
                                               roles=BENCH_ROLES, library=library, now=at, actor="bench")
        served.staff_token = accounts.issue_token(s, now=at, days=1, staff=staff, name="bench")[0]
        live = (Loan.ended_at.is_(None), Loan.until > at)
        active = (select(Loan.patron_id, func.count().label("n")).where(*live)
                  .group_by(Loan.patron_id).order_by(func.count().desc()).limit(1)).subquery()
        patron_id = s.scalar(select(active.c.patron_id))
        if patron_id is None:
            raise SystemExit(f"{served.name}: no patron with an active e-loan at {at:%Y-%m-%d %H:%M} UTC")
        patron = s.get(Patron, patron_id)
        served.patron_token = accounts.issue_token(s, now=at, days=1, patron=patron, name="bench")[0]
        served.book_id = s.scalar(select(Loan.audiobook_id).where(Loan.patron_id == patron_id, *live).limit(1))
        count = s.scalar(select(func.count()).select_from(Patron)) or 0
    db.engine(app).dispose()
    # Registered people of the data set (duplicates when sent again): person n's code is identity_code(n).
    served.known_codes = [dataset.identity_code(n) for n in random.Random(7).sample(range(1, max(2, count // 2)),
                                                                                   k=min(300, count // 2))]


def start_gunicorn(port: int, env: dict[str, str], workers: int, threads: int) -> subprocess.Popen[bytes]:
    return lending_bench.start_gunicorn(port, env, workers, threads, app="benchmarks.lending_bench:make_wsgi()", access_log=False)


def staff_cookie(port: int) -> str:
    """Log in through the staff login form (CSRF token from the page) and return the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", "/staff/login")
    answer = conn.getresponse()
    page = answer.read().decode()
    cookie = answer.headers.get("Set-Cookie", "").split(";")[0]
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    body = f"csrf_token={csrf.group(1) if csrf else ''}&email={BENCH_EMAIL}&password={BENCH_PASSWORD}"
    conn.request("POST", "/staff/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    answer = conn.getresponse()
    answer.read()
    conn.close()
    new = answer.headers.get("Set-Cookie", "").split(";")[0]
    if answer.status != 302 or not new:
        raise SystemExit(f"staff login failed on port {port}: {answer.status}")
    return new


def etag_of(port: int, path: str, headers: dict[str, str]) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer.headers.get("ETag", "")


# -- loads -----------------------------------------------------------------------------------------------

def loads_of(served: Served) -> dict[str, tuple[str, dict[str, str], int]]:
    """name → (path, headers, connections)."""
    patron = {"Authorization": f"Bearer {served.patron_token}"}
    cookie = {"Cookie": served.cookie}
    out = {"bare": ("/bench/bare", {}, 32), "poll": ("/api/v1/loans", patron, 32),
           "304": ("/api/v1/loans", {**patron, "If-None-Match": served.etag}, 32),
           "manifest": (f"/api/v1/books/{served.book_id}/manifest", patron, 32),
           "status": ("/status", {}, 8)}
    out.update({name: (path, cookie, 4) for name, path in PAGES.items()})
    return out


async def one_load(port: int, raw: bytes, connections: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(raw)
                status, _ = await read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status >= 400:
                    errors.append(status)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return ordered[max(0, int(len(ordered) * p) - 1)] * 1000

    return {"rps": len(latencies) / elapsed, "p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99),
            "errors": float(len(errors)), "requests": float(len(latencies))}


def registration_load(served: Served, count: int, clients: int) -> dict[str, float]:
    """``count`` registrations: 70 % new people, 30 % people the data set already has (found, not doubled)."""
    rng = random.Random(uuid.uuid4().int)
    # Fresh people each run: identity_code(n) is valid and distinct for n < 26,000,000; the data set uses n ≤ 1,000,000.
    base = rng.randrange(2_000_000, 26_000_000 - count)
    bodies = []
    for i in range(count):
        code = rng.choice(served.known_codes) if i % 10 < 3 and served.known_codes else \
            dataset.identity_code(base + i)
        bodies.append({"given_names": f"Kuormitus {i}", "surname": "Testaaja", "national_id": code,
                       "email": f"bench{base + i}@example.test", "street_address": "Kirjastokatu 1",
                       "postal_code": "00100", "city": "Helsinki", "language": "fi",
                       "eligibility_basis": "visual_impairment", "preferred_formats": ["audiobook"]})
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    local = threading.local()

    def send(body: dict[str, Any]) -> None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
        started = time.perf_counter()
        try:
            local.conn.request("POST", "/api/v1/registrations", body=json.dumps(body), headers={
                "Authorization": f"Bearer {served.staff_token}", "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4())})
            answer = local.conn.getresponse()
            answer.read()
            status = answer.status
        except (OSError, http.client.HTTPException):
            local.conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
            status = 0
        with lock:
            latencies.append(time.perf_counter() - started)
            if status not in (200, 201):
                errors.append(status)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, bodies))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"rps": len(latencies) / elapsed, "p50": ordered[len(ordered) // 2] * 1000,
            "p95": ordered[int(len(ordered) * 0.95) - 1] * 1000, "p99": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "errors": float(len(errors)), "requests": float(len(latencies))}


# -- EXPLAIN ---------------------------------------------------------------------------------------------

def explain(served: Served, media: Path, now: datetime) -> None:
    """Each measured request once in-process; EXPLAIN of every statement it sent."""
    from sqlalchemy import event

    from app import create_app, db

    app = create_app({"DATABASE_URL": served.url, "MEDIA_ROOT": str(media), "FAKE_NOW": fake_now(now),
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    engine = db.engine(app)
    postgres = engine.dialect.name == "postgresql"
    client = app.test_client()
    client.post("/staff/login", data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD})
    for name, (path, headers, _) in loads_of(served).items():
        if name in ("bare", "304"):
            continue
        sent: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool,
                   sent: list[tuple[str, Any]] = sent) -> None:
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                sent.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        try:
            started = time.perf_counter()
            answer = client.get(path, headers={k: v for k, v in headers.items() if k != "Cookie"})
            took = (time.perf_counter() - started) * 1000
        finally:
            event.remove(engine, "before_cursor_execute", record)
        print(f"\n== {name}: GET {path} → {answer.status_code}, {took:.1f} ms in-process, "
              f"{len(sent)} SELECT statements through the engine"
              + (" (the loans list is read by a raw DBAPI query: app/db.py Prepared)" if name == "poll" else ""))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in sent:
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
                cursor.execute(prefix + statement, parameters)
                plan = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
                head = " ".join(statement.split())[:150]
                print(f"-- {head}")
                for line in plan[:12]:
                    print(f"   {line}")
                if len(plan) > 12:
                    print(f"   … {len(plan) - 12} more lines; " + next(
                        (line for line in plan if line.startswith("Execution Time")), ""))
            raw.rollback()
        finally:
            raw.close()
    engine.dispose()


# -- the run ---------------------------------------------------------------------------------------------

def small_database(like: str) -> str:
    """A throwaway database of the same kind as ``like``, filled with the small data set."""
    if like.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        server = like.rsplit("/", 1)[0]
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "kuulo_bench_small" WITH (FORCE)'))
            conn.execute(text('CREATE DATABASE "kuulo_bench_small"'))
        admin.dispose()
        url = f"{server}/kuulo_bench_small"
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='kuulo-small-')) / 'kuulo.db'}"
    dataset.build(url, scale="small")
    return url


def show_round(number: int, results: dict[str, dict[str, dict[str, float]]]) -> None:
    print(f" round {number}")
    for load in next(iter(results.values())):
        cells = []
        for name, by_load in results.items():
            r = by_load[load]
            cells.append(f"{name}: {r['rps']:6.0f}/s p95 {r['p95']:6.1f} p99 {r['p99']:6.1f} ms"
                         + (f" {r['errors']:.0f} err" if r["errors"] else ""))
        print(f"  {load:10} " + " | ".join(cells))


def verdict(rounds: list[dict[str, dict[str, dict[str, float]]]], names: list[str]) -> None:
    def over(name: str, pick: Callable[[dict[str, dict[str, float]]], float]) -> str:
        values = sorted(pick(r[name]) for r in rounds)
        return f"{statistics.median(values):.2f} ({values[0]:.2f}–{values[-1]:.2f})"

    print("\nmedian round (range over rounds):")
    for name in names:
        print(f" {name}:")
        print(f"  poll/bare ratio {over(name, lambda r: r['poll']['rps'] / r['bare']['rps'])} (target ≥ 0.5); "
              f"poll p99 {over(name, lambda r: r['poll']['p99'])} ms (≤ 50)")
        print(f"  304/bare ratio  {over(name, lambda r: r['304']['rps'] / r['bare']['rps'])} (target ≥ 0.5); "
              f"304 p99 {over(name, lambda r: r['304']['p99'])} ms (≤ 50)")
        print(f"  manifest p99 {over(name, lambda r: r['manifest']['p99'])} ms; "
              f"status page p95 {over(name, lambda r: r['status']['p95'])} ms")
        for page in PAGES:
            print(f"  {page:10} p95 {over(name, lambda r, page=page: r[page]['p95'])} ms (target ≤ 150)")
        errors = sum(r[name][load]["errors"] for r in rounds for load in r[name])
        print(f"  errors in all rounds: {errors:.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help="URL of a database built by benchmarks.dataset")
    parser.add_argument("--small", default="", help="URL of a small data set (default: built for this run)")
    parser.add_argument("--seconds", type=float, default=60, help="per load and data set, all rounds together")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--registrations", type=int, default=1000, help="per data set; 0 leaves them out")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--now", default=dataset.DEFAULT_NOW.isoformat(), help="the data sets' present")
    parser.add_argument("--explain", action="store_true", help="print the query plans instead of measuring")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now)
    media = Path(tempfile.mkdtemp(prefix="kuulo-national-bench-"))
    national = Served("national", args.dataset)
    if args.explain:
        prepare(national, media, now)
        explain(national, media, now)
        return 0
    small = Served("small", args.small or small_database(args.dataset))
    sets = [small, national]
    try:
        for served in sets:
            prepare(served, media, now)
            served.port = free_port()
            served.proc = start_gunicorn(served.port, server_env(served.url, media, now), args.workers,
                                         args.threads)
            served.cookie = staff_cookie(served.port)
            served.etag = etag_of(served.port, "/api/v1/loans", {"Authorization": f"Bearer {served.patron_token}"})
        for served in sets:  # warm both up
            for path, headers, _ in loads_of(served).values():
                asyncio.run(one_load(served.port, request_bytes(path, headers), 2, 0.5))
        print(f"\n{args.rounds} rounds, {args.seconds / args.rounds:.1f} s per load and data set per round; "
              f"gunicorn gthread {args.workers}×{args.threads} per data set; load from one asyncio process")
        rounds = []
        for number in range(1, args.rounds + 1):
            results: dict[str, dict[str, dict[str, float]]] = {s.name: {} for s in sets}
            for load in loads_of(small):
                for served in sets:
                    path, headers, connections = loads_of(served)[load]
                    results[served.name][load] = asyncio.run(one_load(
                        served.port, request_bytes(path, headers), connections, args.seconds / args.rounds))
            show_round(number, results)
            rounds.append(results)
        verdict(rounds, [s.name for s in sets])
        if args.registrations:
            print(f"\nregistration: {args.registrations} per data set, 30 % people already registered, "
                  f"32 clients (target ≥ 100/s, 0 errors)")
            for served in sets:
                r = registration_load(served, args.registrations, 32)
                print(f"  {served.name:9} {r['rps']:6.1f}/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
                      f"p99 {r['p99']:6.1f} ms  {r['errors']:.0f} errors")
        return 0
    finally:
        for served in sets:
            if served.proc is not None:
                served.proc.terminate()
                try:
                    served.proc.wait(30)
                except subprocess.TimeoutExpired:
                    served.proc.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
