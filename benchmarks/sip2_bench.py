"""Benchmark: N SIP2 terminals doing patron information, checkout and checkin in a loop, against the same
operations through the HTTP desk API (staff token), in one run.

    python -m benchmarks.sip2_bench [--terminals 50] [--rounds 20]

Each terminal (and each HTTP client) has its own patron and item, so they do not wait for each other's rows.
The SIP2 63 carries no PIN (a sorter's or staff kiosk's question), as the desk API's account summary asks none:
both sides then do the same database work. Prints operations per second of both, their ratio, the SIP2 p99
latency, the error count and the server's RSS before and after. SQLite in a temporary file by default; set
KUULO_BENCH_DATABASE_URL=postgresql+psycopg://… for PostgreSQL (emptied first). Targets (issue 20): ratio ≥ 0.8,
p99 ≤ 100 ms, 0 errors, memory flat. Not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STAMP = "20261123    120000"


def make_app(url: str) -> Any:
    from benchmarks import desk

    return desk.make_app(url, SIP2_WORKERS=8)


def build(app: Any, n: int) -> tuple[list[tuple[str, str]], str]:
    """n (card, barcode) pairs for SIP2 and n for HTTP (the desk benchmark's world), the kiosk, and a staff token."""
    from app import db
    from app.circulation import service_selfservice as selfservice
    from benchmarks import desk

    pairs, raw = desk.build(app, 2 * n, roles=("librarian",), card_prefix="30", barcode_prefix="B")
    with app.app_context(), db.get_sessionmaker(app).begin() as s:
        selfservice.add_terminal(s, name="bench-kiosk", password="bench-password-1", branch="lumme/mikkeli", now=NOW,
                                 actor="bench")
    return pairs, raw


def sip_worker(port: int, card: str, barcode: str, rounds: int, latencies: list[float], errors: list[str]) -> None:
    from tests.selfservice.sipclient import SipClient

    with SipClient(port) as kiosk:
        if kiosk.login("bench-kiosk", "bench-password-1", "mikkeli") != "941":
            errors.append("login")
            return
        for _ in range(rounds):
            for message, expect in ((f"63001{STAMP}          AOlumme|AA{card}|", "64"),
                                    (f"11NN{STAMP}{STAMP}AOlumme|AA{card}|AB{barcode}|AC|", "121"),
                                    (f"09N{STAMP}{STAMP}APmikkeli|AOlumme|AB{barcode}|AC|", "101")):
                started = time.perf_counter()
                answer = kiosk.send(message)
                latencies.append(time.perf_counter() - started)
                if not answer.startswith(expect):
                    errors.append(answer[:40])


def http_worker(base: str, token: str, card: str, barcode: str, rounds: int, errors: list[str]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: Any = None) -> int:
        request = urllib.request.Request(base + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    for _ in range(rounds):
        for status, want in ((call("GET", f"/api/v1/circulation/patrons/{card}/account"), 200),
                             (call("POST", "/api/v1/circulation/checkouts",
                                   {"card_number": card, "item_barcode": barcode, "branch": "lumme/mikkeli",
                                    "channel": "self_service"}), 201),
                             (call("POST", "/api/v1/circulation/checkins",
                                   {"item_barcode": barcode, "branch": "lumme/mikkeli"}), 200)):
            if status != want:
                errors.append(str(status))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(workers: list[threading.Thread]) -> float:
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terminals", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("KUULO_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = make_app(url)
    pairs, token = build(app, args.terminals)
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from app.circulation.sip2.server import BackgroundServer

    web = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{web.server_port}"
    sip_pairs, http_pairs = pairs[:args.terminals], pairs[args.terminals:]
    latencies: list[float] = []
    sip_errors: list[str] = []
    http_errors: list[str] = []
    with BackgroundServer(app) as server:
        before = rss_mb()
        sip_seconds = run([threading.Thread(target=sip_worker, args=(server.port, c, b, args.rounds, latencies,
                                                                     sip_errors)) for c, b in sip_pairs])
        after = rss_mb()
    http_seconds = run([threading.Thread(target=http_worker, args=(base, token, c, b, args.rounds, http_errors))
                        for c, b in http_pairs])
    web.shutdown()
    operations = 3 * args.rounds * args.terminals
    sip_rate, http_rate = operations / sip_seconds, operations / http_seconds
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    print(f"SIP2: {operations} messages in {sip_seconds:.1f} s = {sip_rate:.0f}/s, p99 {p99:.0f} ms, "
          f"errors {len(sip_errors)} {sip_errors[:3]}; RSS {before:.0f} -> {after:.0f} MB")
    print(f"HTTP desk API: {operations} requests in {http_seconds:.1f} s = {http_rate:.0f}/s, "
          f"errors {len(http_errors)} {http_errors[:3]}")
    print(f"ratio SIP2/HTTP: {sip_rate / http_rate:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
