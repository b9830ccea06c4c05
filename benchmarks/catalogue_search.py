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


def query_words(n: int) -> str:
    """Two words of generated record n (catalogue_import.generate): a title word and the start of a subject,
    as a patron types them; such a pair matches about one record in thirty."""
    w = [WORDS[(n * k + k) % len(WORDS)] for k in (3, 7, 11, 13)]
    return f"{w[0]} {w[2][:4]}"


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
    parser.add_argument("--rounds", type=int, default=1, help="measure this many rounds (median and range)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="a directory for the database and the file; a second run with the same directory "
                             "(and database URL) searches the records already imported")
    args = parser.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="kuulo-bench-search-"))
    tmp.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("KUULO_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    env = dict(os.environ, KUULO_DATABASE_URL=url, KUULO_MEDIA_ROOT=str(tmp / "media"), KUULO_RATELIMIT_ENABLED="0")
    marker = tmp / f"imported-{args.records}-{url.split(':')[0]}"
    if not marker.exists():
        if url.startswith("postgresql"):
            from sqlalchemy import create_engine, text

            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            admin.dispose()
        flask(env, "demo")
        generate(tmp / "records.mrc", args.records)
        started = time.perf_counter()
        flask(env, "catalogue", "import", "--batch-size", "2000", str(tmp / "records.mrc"))
        print(f"imported {args.records} records in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        from sqlalchemy import create_engine, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:  # fresh statistics, as a production database has them
            conn.execute(text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
        engine.dispose()
        marker.touch()
    port = free_port()
    proc = start_server(env, port)
    results: dict[str, list[tuple[float, float]]] = {"query": [], "identifier": []}
    errors = [0]
    lock = threading.Lock()

    def measure(round_no: int) -> None:
        latencies: dict[str, list[float]] = {"query": [], "identifier": []}

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for i in range(args.requests):
                k = (round_no * args.clients + n) * args.requests + i
                if i % 4 == 3:
                    kind, path = "identifier", f"/api/v1/records?q=978951{(k * 7919) % args.records:07d}"
                else:
                    kind = "query"
                    words = query_words((k * 7919) % args.records)
                    path = f"/api/v1/records?q={quote_plus(words)}&material_type=book"
                t = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - t
                with lock:
                    latencies[kind].append(elapsed)
                    errors[0] += response.status != 200

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for kind, values in latencies.items():
            values.sort()
            p95 = values[max(int(len(values) * 0.95) - 1, 0)] * 1000
            results[kind].append((statistics.median(values) * 1000, p95))
            print(f"round {round_no + 1}: {kind} p50 {results[kind][-1][0]:.0f} ms, p95 {p95:.0f} ms", file=sys.stderr)

    try:
        for round_no in range(args.rounds):
            measure(round_no)
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    print(f"database: {url.split(':')[0]}; {args.records} records; {args.clients} clients; "
          f"{args.rounds} rounds of {args.requests} requests per client; errors {errors[0]}")
    for kind, target in (("query", 100), ("identifier", 20)):
        p50s, p95s = [r[0] for r in results[kind]], [r[1] for r in results[kind]]
        print(f"{kind}: p50 median {statistics.median(p50s):.0f} ms; p95 median {statistics.median(p95s):.0f} ms "
              f"(range {min(p95s):.0f}–{max(p95s):.0f}; target ≤ {target} ms)")

if __name__ == "__main__":
    main()
