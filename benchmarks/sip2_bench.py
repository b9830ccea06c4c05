"""Benchmark: N SIP2 terminals doing patron information, checkout and checkin in a loop, against the same
operations through the HTTP desk API (staff token), in one run.

    python -m benchmarks.sip2_bench [--terminals 50] [--rounds 20] [--repeat 3] [--sip-only]

The memory run of issue 20 (100,000 messages): ``--sip-only --rounds 667 --repeat 1`` (50 × 667 × 3).

The SIP2 server (`flask sip2 serve`) and the web app (gunicorn, one worker) run as processes of their own, with
the same number of worker threads (``--workers``, 8). Each terminal (and each HTTP client) has its own patron and item, so they do not wait for each other's rows.
The SIP2 63 carries no PIN (a sorter's or staff kiosk's question), as the desk API's account summary asks none:
both sides then do the same database work. Prints operations per second of both, their ratio, the SIP2 p99
latency, the error count and the SIP2 server process's RSS sampled every second (SIP2 rounds and HTTP rounds
alternate: the figures are medians and ranges over ``--repeat`` rounds). SQLite in a temporary file by default; set
KUULO_BENCH_DATABASE_URL=postgresql+psycopg://… for PostgreSQL (emptied first). Targets (issue 20): ratio ≥ 0.8,
p99 ≤ 100 ms, 0 errors, memory flat. Not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STAMP = "20261123    120000"


def make_app(url: str) -> Any:
    from benchmarks import desk

    return desk.make_app(url)


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


def connect(port: int) -> Any:
    """A terminal's session: connected and logged in once, as a kiosk does in the morning (the login's
    memory-hard password hash is not part of the measured loop)."""
    from tests.selfservice.sipclient import SipClient

    kiosk = SipClient(port, timeout=300)
    if kiosk.login("bench-kiosk", "bench-password-1", "mikkeli") != "941":
        raise RuntimeError("the bench terminal could not log in")
    return kiosk


def sip_worker(kiosk: Any, card: str, barcode: str, rounds: int, latencies: list[float], errors: list[str]) -> None:
    try:
        for _ in range(rounds):
            for message, expect in ((f"63001{STAMP}          AOlumme|AA{card}|", "64"),
                                    (f"11NN{STAMP}{STAMP}AOlumme|AA{card}|AB{barcode}|AC|", "121"),
                                    (f"09N{STAMP}{STAMP}APmikkeli|AOlumme|AB{barcode}|AC|", "101")):
                started = time.perf_counter()
                answer = kiosk.send(message)
                latencies.append(time.perf_counter() - started)
                if not answer.startswith(expect):
                    errors.append(answer[:40])
    except OSError as exc:  # a timeout or a dropped connection is an error of the run, not a crash of it
        errors.append(type(exc).__name__)


def http_worker(base: str, token: str, card: str, barcode: str, rounds: int, errors: list[str],
                latencies: list[float]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: Any = None) -> int:
        request = urllib.request.Request(base + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
                latencies.append(time.perf_counter() - started)
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    for _ in range(rounds):
        for status, want in ((call("GET", f"/api/v1/circulation/patrons/{card}/account"), 200),
                             (call("POST", "/api/v1/circulation/checkouts",
                                   {"card_number": card, "item_barcode": barcode, "branch": "lumme/mikkeli",
                                    "channel": "self_service"}), 201),
                             (call("POST", "/api/v1/circulation/checkins",
                                   {"item_barcode": barcode, "branch": "lumme/mikkeli"}), 200)):
            if status != want:
                errors.append(str(status))


def rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} ended: " + (proc.stderr.read().decode()[-2000:] if proc.stderr
                                                    and hasattr(proc.stderr, "read") else "see its log"))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def run(workers: list[threading.Thread], samples: list[float] | None = None, pid: int = 0) -> float:
    """Run the workers to the end; with ``samples``, the RSS of process ``pid`` is sampled every second."""
    done = threading.Event()

    def sample() -> None:
        while samples is not None and not done.wait(1.0):
            samples.append(rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    sampler.join()
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * share) - 1, 0)] * 1000 if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terminals", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20, help="loops of 63, 11, 09 per terminal in one round")
    parser.add_argument("--repeat", type=int, default=3, help="alternating SIP2/HTTP rounds (the machine is noisy)")
    parser.add_argument("--sip-only", action="store_true", help="SIP2 only (the long memory run)")
    parser.add_argument("--workers", type=int, default=8,
                        help="worker threads of each server: the SIP2 server's pool and gunicorn's threads")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="kuulo-bench-sip2-")
    url = os.environ.get("KUULO_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = make_app(url)
    pairs, token = build(app, args.terminals)
    app.extensions["kuulo.engine"].dispose()
    # Each server is its own process, as in production (deploy/kuulo-sip2.service, kuulo-web.service), with the
    # same number of worker threads; the terminals and HTTP clients are threads of this process.
    env = dict(os.environ, KUULO_DATABASE_URL=url, KUULO_FAKE_NOW=NOW.isoformat(), KUULO_RATELIMIT_ENABLED="0",
               KUULO_MEDIA_ROOT=f"{tmp}/media", KUULO_DATABASE_POOL_SIZE=str(args.workers + 4),
               KUULO_SIP2_WORKERS=str(args.workers), KUULO_LOG_LEVEL="WARNING")
    sip_port, web_port = free_port(), free_port()
    sip2 = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "sip2", "serve", "--host", "127.0.0.1",
                             "--port", str(sip_port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    web = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--workers", "1", "--worker-class",
                            "gthread", "--threads", str(args.workers), "--bind", f"127.0.0.1:{web_port}",
                            "--log-level", "warning", "--access-logfile", "/dev/null", "app:create_app()"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/gunicorn.log", "wb"))
    try:
        wait_for(sip_port, sip2, "the SIP2 server")
        wait_for(web_port, web, "gunicorn")
        measure(args, pairs, token, sip_port, f"http://127.0.0.1:{web_port}", sip2.pid)
    finally:
        for proc in (sip2, web):
            proc.terminate()
            proc.wait(30)


def measure(args: argparse.Namespace, pairs: list[tuple[str, str]], token: str, sip_port: int, base: str,
            sip_pid: int) -> None:
    sip_pairs, http_pairs = pairs[:args.terminals], pairs[args.terminals:]
    operations = 3 * args.rounds * args.terminals
    ratios, sip_rates, http_rates, p99s, p50s, http_p99s = [], [], [], [], [], []
    sip_errors: list[str] = []
    http_errors: list[str] = []
    kiosks: list[Any] = [None] * len(sip_pairs)

    def log_in(index: int) -> None:
        kiosks[index] = connect(sip_port)

    run([threading.Thread(target=log_in, args=(i,)) for i in range(len(sip_pairs))])  # not measured
    rss = [rss_mb(sip_pid)]
    for number in range(1, args.repeat + 1):
        latencies: list[float] = []
        sip_seconds = run([threading.Thread(target=sip_worker, args=(kiosk, c, b, args.rounds, latencies,
                                                                     sip_errors))
                           for kiosk, (c, b) in zip(kiosks, sip_pairs, strict=True)], rss, sip_pid)
        sip_rates.append(operations / sip_seconds)
        p99s.append(percentile(latencies, 0.99))
        p50s.append(percentile(latencies, 0.50))
        line = (f"round {number}: SIP2 {operations} messages in {sip_seconds:.1f} s = {sip_rates[-1]:.0f}/s, "
                f"p50 {p50s[-1]:.0f} ms, p99 {p99s[-1]:.0f} ms")
        if not args.sip_only:
            http_latencies: list[float] = []
            http_seconds = run([threading.Thread(target=http_worker, args=(base, token, c, b, args.rounds,
                                                                           http_errors, http_latencies))
                                for c, b in http_pairs])
            http_rates.append(operations / http_seconds)
            http_p99s.append(percentile(http_latencies, 0.99))
            ratios.append(sip_rates[-1] / http_rates[-1])
            line += (f"; HTTP desk API {http_rates[-1]:.0f}/s, p99 {http_p99s[-1]:.0f} ms; "
                     f"ratio {ratios[-1]:.2f}")
        print(line, flush=True)

    def summary(values: list[float], unit: str = "") -> str:
        return f"median {statistics.median(values):.2f}{unit} (range {min(values):.2f}–{max(values):.2f})"

    total = operations * args.repeat
    print(f"SIP2 messages: {total}; errors SIP2 {len(sip_errors)} {sip_errors[:3]}, HTTP {len(http_errors)} "
          f"{http_errors[:3]}")
    print(f"SIP2 rate {summary(sip_rates, '/s')}; p50 {summary(p50s, ' ms')}; p99 {summary(p99s, ' ms')} "
          "(target <= 100 ms)")
    if ratios:
        print(f"HTTP rate {summary(http_rates, '/s')}, p99 {summary(http_p99s, ' ms')}; "
              f"ratio SIP2/HTTP {summary(ratios)} (target >= 0.8)")
    step = max(len(rss) // 12, 1)
    print("SIP2 server process RSS (MB, sampled each second): " + " ".join(f"{v:.0f}" for v in rss[::step])
          + f" | first {rss[0]:.0f}, last {rss[-1]:.0f}, max {max(rss):.0f}")


if __name__ == "__main__":
    main()
