"""Lending benchmark: reader-app polling and ranged streaming under gunicorn, each against a baseline
served by the same gunicorn in the same run.

    python -m benchmarks.lending_bench [--seconds 30] [--rounds 15] [--connections 32] [--database-url URL]

1. ``GET /api/v1/loans`` for a patron with 20 loans vs a bare Flask JSON endpoint (``/bench/bare``,
   registered on the same app, so both pay the same platform hooks): requests/s and p50/p99
   latency at 32 keep-alive connections. Targets: ratio ≥ 0.5, p99 ≤ 50 ms. Also shown: the
   same poll with If-None-Match (304), which is what reader apps send.
2. Ranged GETs (4 MiB ranges, 4 connections) of a 100 MB track through
   ``/api/v1/books/<id>/tracks/1`` vs the same file served as a static file
   (``send_from_directory``). Target: ratio ≥ 0.5.

The server is gunicorn with the project's ``gunicorn.conf.py`` (gthread, one worker per core, 4
threads). Each comparison alternates its loads in rounds, so a machine that gets busier during the
run affects both sides alike; every round is printed, and the verdict uses the median round. The
polling load comes from ``wrk`` when it is installed (``apt-get install wrk``: a C load generator
that leaves the server the CPU), otherwise from a single asyncio process with raw keep-alive
HTTP/1.1 connections, which costs the server some CPU on a small machine. Not a test: it prints
what one run measured.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "media" / "samples" / "kuulo-pieni-tarina.mp3"
BIG_TRACK_MB = 100
RANGE_BYTES = 4 * 1024 * 1024


def make_wsgi() -> Any:
    """gunicorn 'benchmarks.lending_bench:make_wsgi()': the Kuulo app plus the two baselines."""
    from flask import jsonify, send_from_directory

    from app import create_app

    app = create_app()
    static_dir = Path(app.config["MEDIA_ROOT"]).parent / "static"

    @app.get("/bench/bare")
    def bare() -> Any:
        return jsonify({"status": "ok", "loans": []})

    @app.get("/bench/static/<path:name>")
    def static_file(name: str) -> Any:
        return send_from_directory(static_dir, name, conditional=True)

    return app


# -- set-up ------------------------------------------------------------------------------------------

def synthetic_mp3(path: Path, megabytes: int) -> None:
    """MPEG-1 layer III frames of silence (128 kbps, 417 bytes each): a valid, ingestible track."""
    frame = bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)
    count = megabytes * 1024 * 1024 // len(frame)
    with open(path, "wb") as out:
        for _ in range(count // 1000):
            out.write(frame * 1000)
        out.write(frame * (count % 1000))


def prepare(tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    os.environ.update(env)
    from app import clock, create_app, db, storage
    from app.accounts import service as accounts
    from app.lending import ingest, service

    app = create_app()
    db.create_schema(app)
    big = tmp / "static" / "big-track.mp3"
    big.parent.mkdir(parents=True)
    synthetic_mp3(big, BIG_TRACK_MB)
    with app.app_context():
        now = clock.now()
        store, sm = storage.store(app), db.get_sessionmaker(app)
        sample = ingest.read_source(SAMPLE)
        with sm.begin() as s:
            reader = accounts.create_patron(s, name="Bench Reader", now=now, actor="bench", pin="1234")
            listener = accounts.create_patron(s, name="Bench Listener", now=now, actor="bench", pin="1234")
            token, _ = accounts.issue_token(s, now=now, days=1, patron=reader, name="bench")
            listener_token, _ = accounts.issue_token(s, now=now, days=1, patron=listener, name="bench")
            policy = service.lending_policy()
            for n in range(20):
                copy = dataclasses.replace(sample, identifier=f"urn:bench:{n}", title=f"Bench book {n}")
                result = ingest.ingest(s, store, copy, now=now, actor="bench")
                service.borrow(s, reader, service.get_book(s, result.book_id), now=now, policy=policy)
            big_book = ingest.ingest(s, store, ingest.read_source(big, "urn:bench:big"), now=now, actor="bench")
            service.borrow(s, listener, service.get_book(s, big_book.book_id), now=now, policy=policy)
    db.engine(app).dispose()
    return {"token": token, "listener_token": listener_token, "big_book": big_book.book_id,
            "big_size": big.stat().st_size}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(port: int, env: dict[str, str], workers: int, threads: int,
                   app: str = "benchmarks.lending_bench:make_wsgi()", access_log: bool = True) -> subprocess.Popen[bytes]:
    """gunicorn serving ``app`` (gthread, keep-alive), once it accepts connections. ``access_log=False`` starts
    it without the deployment's gunicorn.conf.py, whose access line per request would cost the 2-core machine
    more than some of the requests measured."""
    config = [] if access_log else ["--config", os.devnull]
    cmd = [sys.executable, "-m", "gunicorn", *config, "-k", "gthread", "--workers", str(workers),
           "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--keep-alive", "30", "--log-level", "warning",
           app]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


# -- load generator ----------------------------------------------------------------------------------

async def read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
    if length:
        await reader.readexactly(length)
    return status, length


async def worker(port: int, requests: Any, deadline: float, latencies: list[float], sizes: list[int],
                 errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            raw = next(requests)
            started = time.perf_counter()
            writer.write(raw)
            status, length = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            sizes.append(length)
            if status >= 400 or status == 0:
                errors.append(status)
    finally:
        writer.close()


def request_bytes(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


async def measure(port: int, make_request: Any, connections: int, seconds: float) -> dict[str, float]:
    return (await compare(port, {"only": make_request}, connections, seconds, rounds=1))["only"]


async def compare(port: int, loads: dict[str, Any], connections: int, seconds: float,
                  rounds: int = 3) -> dict[str, dict[str, float]]:
    """Run the loads in turn, ``rounds`` times each (seconds/rounds per turn): a machine that gets busier
    or quieter during the run affects every load alike."""
    samples: dict[str, tuple[list[float], list[int], list[int], list[float]]] = {
        name: ([], [], [], [0.0]) for name in loads}
    for _ in range(rounds):
        for name, make_request in loads.items():
            latencies, sizes, errors, elapsed = samples[name]
            deadline = time.perf_counter() + seconds / rounds
            started = time.perf_counter()
            await asyncio.gather(*(worker(port, make_request(), deadline, latencies, sizes, errors)
                                   for _ in range(connections)))
            elapsed[0] += time.perf_counter() - started
    return {name: summary(*values) for name, values in samples.items()}


def summary(latencies: list[float], sizes: list[int], errors: list[int], elapsed_box: list[float]
            ) -> dict[str, float]:
    elapsed = elapsed_box[0]
    ordered = sorted(latencies)
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "mb_s": sum(sizes) / elapsed / 1e6,
            "p50_ms": statistics.median(ordered) * 1000, "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
            "errors": len(errors)}


def repeat(raw: bytes) -> Any:
    def make() -> Any:
        while True:
            yield raw
    return make


def ranges(path: str, size: int, headers: dict[str, str]) -> Any:
    def make() -> Any:
        rng = random.Random(len(path))
        while True:
            start = rng.randrange(0, size - RANGE_BYTES)
            yield request_bytes(path, {**headers, "Range": f"bytes={start}-{start + RANGE_BYTES - 1}"})
    return make


def loans_etag(port: int, auth: dict[str, str]) -> str:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/v1/loans", headers={"Host": "127.0.0.1", **auth})  # the Host the load sends
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer.headers["ETag"]


def show(label: str, result: dict[str, float]) -> None:
    print(f"  {label:34} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms"
          f"  {result['mb_s']:8.1f} MB/s  ({result['requests']:.0f} requests, {result['errors']:.0f} errors)")


def wrk_once(port: int, path: str, headers: dict[str, str], connections: int, seconds: float) -> dict[str, float]:
    """One wrk run: requests/s and latency percentiles."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
           *(arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")), f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result = {"errors": 0.0, "mb_s": 0.0}
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(words[1])
        elif words[:1] in (["50%"], ["99%"]):
            result[f"p{words[0][:-1]}_ms"] = wrk_ms(words[1])
        elif "requests in" in line:
            result["requests"] = float(words[0])
        elif line.startswith("Transfer/sec:"):
            result["mb_s"] = wrk_bytes(words[1]) / 1e6
        elif "Non-2xx or 3xx responses:" in line:
            result["errors"] += float(words[-1])
        elif line.strip().startswith("Socket errors:"):
            result["errors"] += sum(float(w.rstrip(",")) for w in words[3::2])
    return result


def wrk_ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * factor
    return float(text)


def wrk_bytes(text: str) -> float:
    for unit, factor in (("KB", 1024.0), ("MB", 1024.0 ** 2), ("GB", 1024.0 ** 3), ("B", 1.0)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * factor
    return float(text)


def polling_rounds(port: int, loads: dict[str, tuple[str, dict[str, str]]], connections: int, seconds: float,
                   rounds: int) -> list[dict[str, dict[str, float]]]:
    """Each round runs every load in turn for seconds/rounds."""
    out = []
    for _ in range(rounds):
        if shutil.which("wrk"):
            out.append({name: wrk_once(port, path, headers, connections, seconds / rounds)
                        for name, (path, headers) in loads.items()})
        else:
            requests = {name: repeat(request_bytes(path, headers)) for name, (path, headers) in loads.items()}
            out.append(asyncio.run(compare(port, requests, connections, seconds / rounds, rounds=1)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="per load, all rounds together")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default="", help="default: a throwaway SQLite file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kuulo-lending-bench-"))
    env = {"KUULO_DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'kuulo.db'}",
           "KUULO_MEDIA_ROOT": str(tmp / "media"), "KUULO_BASE_URL": "http://127.0.0.1"}
    proc = None
    try:
        print(f"setting up in {tmp} (20 loans, a {BIG_TRACK_MB} MB track)…")
        data = prepare(tmp, env)
        port = free_port()
        proc = start_gunicorn(port, env, args.workers, args.threads)
        auth = {"Authorization": f"Bearer {data['token']}"}
        asyncio.run(measure(port, repeat(request_bytes("/api/v1/loans", auth)), 4, 1.0))  # warm up both
        asyncio.run(measure(port, repeat(request_bytes("/bench/bare", {})), 4, 1.0))
        generator = "wrk" if shutil.which("wrk") else "asyncio client (install wrk for a lighter load generator)"
        print(f"\n1. polling, {args.connections} connections, gunicorn gthread {args.workers}×{args.threads}, "
              f"{args.rounds} rounds of {args.seconds / args.rounds:.0f} s per load; load from {generator}")
        loads = {"bare": ("/bench/bare", {}), "loans": ("/api/v1/loans", auth),
                 "304": ("/api/v1/loans", {**auth, "If-None-Match": loans_etag(port, auth)})}
        labels = {"bare": "bare Flask JSON endpoint", "loans": "GET /api/v1/loans (20 loans)",
                  "304": "  … with If-None-Match (304)"}
        rounds = polling_rounds(port, loads, args.connections, args.seconds, args.rounds)
        for number, results in enumerate(rounds, 1):
            print(f" round {number}")
            for name, result in results.items():
                show(labels[name], result)
        ratios = sorted(r["loans"]["rps"] / r["bare"]["rps"] for r in rounds)
        p99s = sorted(r["loans"]["p99_ms"] for r in rounds)
        errors = sum(r[name]["errors"] for r in rounds for name in r)
        print(f"  median round: ratio {statistics.median(ratios):.2f} (target ≥ 0.5), "
              f"loans p99 {statistics.median(p99s):.1f} ms (target ≤ 50 ms); "
              f"all rounds: ratio {ratios[0]:.2f}–{ratios[-1]:.2f}, p99 {p99s[0]:.1f}–{p99s[-1]:.1f} ms; "
              f"{errors:.0f} errors")

        listener = {"Authorization": f"Bearer {data['listener_token']}"}
        track = ranges(f"/api/v1/books/{data['big_book']}/tracks/1", data["big_size"], listener)
        static = ranges("/bench/static/big-track.mp3", data["big_size"], {})
        print(f"\n2. ranged streaming of a {BIG_TRACK_MB} MB track, 4 MiB ranges, 4 connections")
        asyncio.run(measure(port, static, 2, 1.0))
        results = asyncio.run(compare(port, {"static": static, "track": track}, 4, args.seconds))
        baseline, streamed = results["static"], results["track"]
        show("static file (send_from_directory)", baseline)
        show("track endpoint (loan checked)", streamed)
        print(f"  ratio {streamed['mb_s'] / baseline['mb_s']:.2f} (target ≥ 0.5)")
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
