"""Benchmark: catalogue search under gunicorn with concurrent clients.

    python -m benchmarks.catalogue_search [--records N] [--clients 8] [--requests 200]

Loads the demo and imports N generated MARC records (benchmarks/catalogue_import.py's generator, 1.5 copies
each) with `flask catalogue import`, starts gunicorn (2 workers × 4 threads), then each client thread sends
two-word queries with facet filters (`/api/v1/records?q=W1+W2&material_type=book`) and identifier lookups
(`?q=<ISBN>`) over keep-alive connections, and prints p50/p95 of both. SQLite in a temporary file by default;
KUULO_BENCH_DATABASE_URL=postgresql+psycopg://… for PostgreSQL (the database is emptied first).
Targets (issue 17), at 1,000,000 records: queries p95 ≤ 100 ms, identifier lookups p95 ≤ 20 ms. Not a test.
"""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote_plus

from benchmarks.catalogue_import import WORDS, generate

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed: " + done.stderr[-2000:])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "--workers", "2", "--worker-class", "gthread", "--threads", "4",
                             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--access-logfile", "/dev/null",
                             "app:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/records?q=x")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="per client")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kuulo-bench-search-"))
    url = os.environ.get("KUULO_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        admin.dispose()
    env = dict(os.environ, KUULO_DATABASE_URL=url, KUULO_MEDIA_ROOT=str(tmp / "media"), KUULO_RATELIMIT_ENABLED="0")
    flask(env, "demo")
    generate(tmp / "records.mrc", args.records)
    started = time.perf_counter()
    flask(env, "catalogue", "import", "--batch-size", "2000", str(tmp / "records.mrc"))
    print(f"imported {args.records} records in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    port = free_port()
    proc = start_server(env, port)
    latencies: dict[str, list[float]] = {"query": [], "identifier": []}
    errors = [0]
    lock = threading.Lock()

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(args.requests):
            k = n * args.requests + i
            if i % 4 == 3:
                kind, path = "identifier", f"/api/v1/records?q=978951{(k * 7919) % args.records:07d}"
            else:
                kind = "query"
                words = f"{WORDS[k % len(WORDS)]} {WORDS[(k * 7) % len(WORDS)][:4]}"
                path = f"/api/v1/records?q={quote_plus(words)}&material_type=book"
            t = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - t
            with lock:
                latencies[kind].append(elapsed)
                errors[0] += response.status != 200

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"database: {url.split(':')[0]}; {args.records} records; {args.clients} clients; errors {errors[0]}")
    for kind, target in (("query", 100), ("identifier", 20)):
        values = sorted(latencies[kind])
        p95 = values[int(len(values) * 0.95) - 1] * 1000
        print(f"{kind}: {len(values)} requests, p50 {statistics.median(values) * 1000:.0f} ms, p95 {p95:.0f} ms "
              f"(target ≤ {target} ms)")


if __name__ == "__main__":
    main()
