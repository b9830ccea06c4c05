"""Benchmark: /status and /api/v2/summary.json under load, against a static file served by the same server.

    python -m benchmarks.status_bench [--seconds 4] [--rounds 3] [--concurrency 8] [--no-cache]

Starts gunicorn (one gthread worker) on a throwaway SQLite database with the demo data, then, in
interleaved rounds, hammers /static/kuulo.css, /status and /api/v2/summary.json with keep-alive
connections from client processes, and prints requests/s and the ratio to the static file (target
≥ 0.8: the status renderings are cached in memory and dropped on change).
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = {"static file": "/static/kuulo.css", "/status": "/status", "summary.json": "/api/v2/summary.json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict[str, str]) -> None:
    """Schema and demo data, in a child process so this one never imports the app."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("flask demo failed: " + done.stderr[-2000:])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "--workers", "1", "--worker-class", "gthread", "--threads", "8",
                             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])


def _client(port: int, path: str, seconds: float, threads: int, out: multiprocessing.Queue) -> None:
    counts = [0] * threads
    errors = [0]
    stop = time.perf_counter() + seconds

    def loop(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Accept-Language": "fi", "Connection": "keep-alive"}
        while time.perf_counter() < stop:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors[0] += 1
            counts[i] += 1
            if resp.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((sum(counts), errors[0]))


def measure(port: int, path: str, seconds: float, concurrency: int, processes: int = 2) -> float:
    out: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_client, args=(port, path, seconds, concurrency // processes, out))
             for _ in range(processes)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    total, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    if errors:
        raise RuntimeError(f"{path}: {errors} non-200 answers")
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-cache", action="store_true", help="STATUS_CACHE_SECONDS=0: render every request")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kuulo-status-bench-"))
    env = dict(os.environ, KUULO_DATABASE_URL=f"sqlite:///{tmp}/bench.db", KUULO_MEDIA_ROOT=str(tmp / "media"),
               PYTHONPATH=str(ROOT))
    if args.no_cache:
        env["KUULO_STATUS_CACHE_SECONDS"] = "0"
    prepare(env)
    port = free_port()
    server = start_server(env, port)
    try:
        for path in PATHS.values():  # warm up: first rendering, caches, connections
            measure(port, path, 0.5, 2, processes=1)
        rates: dict[str, list[float]] = {name: [] for name in PATHS}
        for _ in range(args.rounds):  # interleaved, so load on the machine hits every path alike
            for name, path in PATHS.items():
                rates[name].append(measure(port, path, args.seconds, args.concurrency))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in rates.items()}
    base = median["static file"]
    print(f"gunicorn 1 worker × 8 threads, {args.concurrency} keep-alive clients, {args.rounds} rounds of "
          f"{args.seconds:g} s each (median requests/s){', cache off' if args.no_cache else ''}")
    for name, rate in median.items():
        ratio = rate / base
        verdict = "" if name == "static file" else ("  ok (≥ 0.8)" if ratio >= 0.8 else "  BELOW 0.8")
        print(f"{name:14} {rate:9.0f} req/s   {ratio:5.2f}× static{verdict}")


if __name__ == "__main__":
    main()
