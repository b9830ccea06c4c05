"""Registration under load: 1,000 registrations, 30 % duplicates, concurrent retries, PostgreSQL, gunicorn.

    python -m benchmarks.registration_bench [--requests 1000] [--workers 4] [--threads 8] [--clients 32]

Creates a throwaway PostgreSQL database (KUULO_BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/kuulo_bench_registration), migrates it, serves Kuulo with
gunicorn on a free port and sends POST /api/v1/registrations from many client threads:
- 70 % new people, 30 % duplicates of them (sent by another librarian, any time — also at the same moment);
- every request carries an Idempotency-Key; 20 % are also retried at once with the same key, as a client
  does after a timeout (the twin gets 409 while the first runs, then the stored response).
Counts as an error: a status other than 200/201 after 409-retries, a connection failure, a retried request
whose final answer differs from the first, or a database that does not hold exactly one patron and one
credentials email per person. Prints throughput and errors; target ≥ 100 registrations/s with 0 errors.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kuulo_bench_registration"
CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
LIBRARIANS = 4


def identity_codes(n: int, rng: random.Random) -> list[str]:
    """n distinct valid Finnish identity codes, old and 2023 century signs mixed."""
    codes: set[str] = set()
    while len(codes) < n:
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 80))
        sign = rng.choice("-YXWVU") if born.year < 2000 else rng.choice("ABCDEF")
        digits = f"{born:%d%m}{born.year % 100:02d}"
        individual = f"{rng.randrange(2, 900):03d}"
        codes.add(digits + sign + individual + CHECK_CHARS[int(digits + individual) % 31])
    return sorted(codes)


def person(code: str, i: int) -> dict[str, Any]:
    return {"given_names": f"Kuormitus {i}", "surname": "Testaaja", "national_id": code,
            "email": f"bench{i}@example.test", "phone": "+358 40 123 4567", "street_address": "Kirjastokatu 1",
            "postal_code": "00100", "city": "Helsinki", "language": "fi", "eligibility_basis": "visual_impairment",
            "preferred_formats": ["audiobook"]}


def prepare_database(url: str) -> list[str]:
    """Fresh database, schema through the migrations, librarians with API tokens; returns the tokens."""
    base, name = url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    from app import clock, create_app, db
    from app.accounts import service

    app = create_app({"DATABASE_URL": url})
    db.create_schema(app)
    tokens = []
    with app.app_context(), db.get_sessionmaker(app).begin() as s:
        now = clock.now()
        for i in range(LIBRARIANS):
            lib = service.get_or_create_library(s, f"bench{i}", f"Kuormituskirjasto {i}")
            user = service.create_staff_user(s, email=f"bench{i}@bench.kuulo", name=f"Bench {i}",
                                             password="bench-password-123", roles=["librarian"], library=lib,
                                             now=now, actor="system:bench")
            tokens.append(service.issue_token(s, now=now, days=1, staff=user, name="bench")[0])
    db.engine(app).dispose()
    return tokens


def start_gunicorn(url: str, workers: int, threads: int) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, KUULO_DATABASE_URL=url, KUULO_BASE_URL="http://kuulo.bench")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
                             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
                            cwd=ROOT, env=env)
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


class Client:
    """One keep-alive connection per thread, as a library system's HTTP client would hold."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def post(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in range(3):
            conn = getattr(self.local, "conn", None) or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.local.conn = conn
            try:
                conn.request("POST", "/api/v1/registrations", json.dumps(body),
                             {"Content-Type": "application/json", **headers})
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def send(client: Client, body: dict[str, Any], headers: dict[str, str], stats: Counter[str]) -> tuple[int, bytes]:
    """POST, and on 409 (same key still running) back off and send the same request again.

    The server says Retry-After: 1; this client starts lower (0.1 s, doubling, at most 1 s), as an
    impatient library system would, which is the harder case for the server.
    """
    delay = 0.1
    for _ in range(60):
        status, payload = client.post(body, headers)
        stats[str(status)] += 1
        if status != 409:
            return status, payload
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    return 409, b""


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU of the gunicorn master and its workers, from /proc (Linux)."""
    pids = [master_pid] + [int(p) for p in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(database: str) -> float:
    """User + system CPU of the PostgreSQL backends serving ``database`` (same machine, Linux /proc)."""
    ticks = 0
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            if f" {database} ".encode() not in (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ") + b" ":
                continue
            fields = (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--duplicates", type=float, default=0.30)
    ap.add_argument("--retries", type=float, default=0.20, help="share of requests retried concurrently")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--clients", type=int, default=32)
    args = ap.parse_args()
    url = os.environ.get("KUULO_BENCH_DATABASE_URL", DEFAULT_URL)
    rng = random.Random(2026)
    unique = int(args.requests * (1 - args.duplicates))
    codes = identity_codes(unique, rng)
    work = [(c, i) for i, c in enumerate(codes)] + [(rng.choice(codes), unique + i)
                                                    for i in range(args.requests - unique)]
    rng.shuffle(work)
    tokens = prepare_database(url)
    proc, port = start_gunicorn(url, args.workers, args.threads)
    client, stats, errors = Client(port), Counter[str](), []
    patron_of_code: dict[str, set[int]] = {}
    lock = threading.Lock()

    def one(item: tuple[int, tuple[str, int]]) -> None:
        n, (code, i) = item
        headers = {"Authorization": f"Bearer {tokens[n % LIBRARIANS]}", "Idempotency-Key": f'"{uuid.uuid4()}"'}
        body = person(code, i)
        twins = 2 if rng.random() < args.retries else 1
        try:
            with ThreadPoolExecutor(twins) as pool:
                answers = list(pool.map(lambda _: send(client, body, headers, stats), range(twins)))
        except Exception as exc:  # a connection that failed three times
            errors.append(f"{code[:6]}…: {exc.__class__.__name__}")
            return
        with lock:
            if twins == 2:
                stats["concurrent retries"] += 1
            for status, payload in answers:
                if status not in (200, 201):
                    errors.append(f"status {status}: {payload[:120]!r}")
                    return
            if twins == 2 and answers[0] != answers[1]:
                errors.append("a retried request got another answer than the first")
            patron_of_code.setdefault(code, set()).add(json.loads(answers[0][1])["patron_id"])

    cpu_before, started = server_cpu_seconds(proc.pid), time.perf_counter()
    client_before = time.process_time()
    try:
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(one, enumerate(work)))
        elapsed = time.perf_counter() - started
        # CPU the gunicorn processes used for the run (start-up excluded): the cost per registration whatever
        # else the machine is doing; other work on the machine only changes how much CPU we were given.
        server_cpu = server_cpu_seconds(proc.pid) - cpu_before
        database_cpu = postgres_cpu_seconds(url.rsplit("/", 1)[1])  # its backends live as long as gunicorn
        client_cpu = time.process_time() - client_before
    finally:
        proc.terminate()
        proc.wait(20)
    errors += [f"{len(ids)} patrons for one person" for ids in patron_of_code.values() if len(ids) != 1]
    engine = create_engine(url)
    with engine.connect() as conn:
        from app.accounts.models import Patron
        from app.notify.models import OutboxMessage
        from app.registration.models import Registration

        patrons = conn.scalar(select(func.count()).select_from(Patron))
        registrations = conn.scalar(select(func.count()).select_from(Registration))
        emails = conn.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.key.like("registration-credentials:%")))
    engine.dispose()
    for label, got in (("patrons", patrons), ("registrations", registrations), ("credentials emails", emails)):
        if got != unique:
            errors.append(f"{got} {label} for {unique} people")
    http_requests = sum(v for k, v in stats.items() if k.isdigit())
    rate = args.requests / elapsed
    print(f"registrations sent: {args.requests} ({unique} people, {args.requests - unique} duplicates, "
          f"{stats['concurrent retries']} concurrently retried with the same Idempotency-Key)")
    print(f"HTTP requests: {http_requests}; statuses: "
          + ", ".join(f"{k}×{v}" for k, v in sorted(stats.items()) if k.isdigit()))
    print(f"server: gunicorn {args.workers} workers × {args.threads} threads; clients: {args.clients} threads; "
          f"PostgreSQL; {os.cpu_count()} CPU cores")
    print(f"elapsed: {elapsed:.2f} s; throughput: {rate:.1f} registrations/s "
          f"({http_requests / elapsed:.1f} HTTP requests/s); target 100/s: ratio {rate / 100:.2f}")
    print(f"server CPU: {server_cpu:.1f} s = {1000 * server_cpu / args.requests:.1f} ms per registration "
          f"(≈ {args.requests / server_cpu:.0f} registrations/s per core of app server); PostgreSQL backends: "
          f"{database_cpu:.1f} s = {1000 * database_cpu / args.requests:.1f} ms; client: {client_cpu:.1f} s; "
          f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"database: {patrons} patrons, {registrations} registrations, {emails} credentials emails "
          f"for {unique} people")
    print(f"errors: {len(errors)}")
    for error in errors[:10]:
        print("  " + error)
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
