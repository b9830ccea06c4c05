"""DAISY Online benchmark under gunicorn: the SOAP operations players poll, and streaming through the DODP
resource URLs, each against a baseline served by the same gunicorn in the same run.

    python -m benchmarks.dodp_bench [--seconds 20] [--rounds 5] [--connections 16] [--database-url URL]

1. ``getContentList`` (issued, 20 loans) and ``getContentResources`` (a book of one track) vs a bare POST
   endpoint of the same app answering a small XML document (``/bench/bare-soap``). Target: ratio ≥ 0.5.
2. Ranged GETs (4 MiB ranges, 4 connections) of a 100 MB track through ``/daisy-online/content/<book>/001.mp3``
   (session cookie checked, loan checked) vs the same file as a static file. Target: ratio ≥ 0.5.

The load comes from one asyncio process with keep-alive HTTP/1.1 connections (benchmarks/lending_bench.py's
load generator). Not a test: it prints what one run measured.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import lending_bench
from benchmarks.lending_bench import (
    BIG_TRACK_MB,
    SAMPLE,
    compare,
    free_port,
    measure,
    ranges,
    show,
    synthetic_mp3,
)

ROOT = Path(__file__).resolve().parent.parent
DO = 'xmlns="http://www.daisy.org/ns/daisy-online/"'
ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
            "<s:Body>{}</s:Body></s:Envelope>")
RSA = (f"<setReadingSystemAttributes {DO}><readingSystemAttributes><manufacturer>Bench</manufacturer>"
       "<model>Bench</model><version>1</version><config><supportsMultipleSelections>false"
       "</supportsMultipleSelections><preferredUILanguage>fi</preferredUILanguage><supportedContentFormats/>"
       "<supportedContentProtectionFormats/><supportedMimeTypes/><supportedInputTypes/>"
       "<requiresAudioLabels>false</requiresAudioLabels></config></readingSystemAttributes>"
       "</setReadingSystemAttributes>")


def make_wsgi() -> Any:
    """gunicorn 'benchmarks.dodp_bench:make_wsgi()': the Kuulo app plus the two baselines."""
    from flask import Response, request, send_from_directory

    from app import create_app
    from app.security import csrf

    app = create_app()
    static_dir = Path(app.config["MEDIA_ROOT"]).parent / "static"

    @app.post("/bench/bare-soap")
    @csrf.exempt
    def bare_soap() -> Any:
        request.get_data()
        return Response(ENVELOPE.format(f"<logOffResponse {DO}><logOffResult>true</logOffResult>"
                                        "</logOffResponse>"), mimetype="text/xml")

    @app.get("/bench/static/<path:name>")
    def static_file(name: str) -> Any:
        return send_from_directory(static_dir, name, conditional=True)

    return app


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
            reader = accounts.create_patron(s, name="Bench Player", now=now, actor="bench", pin="1234")
            policy = service.lending_policy()
            first = None
            for n in range(20):
                copy = dataclasses.replace(sample, identifier=f"urn:bench:{n}", title=f"Bench book {n}")
                result = ingest.ingest(s, store, copy, now=now, actor="bench")
                first = first or result.book_id
                service.borrow(s, reader, service.get_book(s, result.book_id), now=now, policy=policy)
            big_book = ingest.ingest(s, store, ingest.read_source(big, "urn:bench:big"), now=now, actor="bench")
            service.borrow(s, reader, service.get_book(s, big_book.book_id), now=now, policy=policy)
            card = reader.card_number
    db.engine(app).dispose()
    return {"card": card, "book": first, "big_book": big_book.book_id, "big_size": big.stat().st_size}


def start_gunicorn(port: int, env: dict[str, str], workers: int, threads: int) -> subprocess.Popen[bytes]:
    return lending_bench.start_gunicorn(port, env, workers, threads, app="benchmarks.dodp_bench:make_wsgi()", access_log=False)


def soap_call(port: int, action: str, body: str, cookie: str = "") -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)  # the first request waits for the app to load
    headers = {"Host": "127.0.0.1", "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"/{action}"'}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", "/daisy-online", body=ENVELOPE.format(body).encode(), headers=headers)
    answer = conn.getresponse()
    text = answer.read().decode()
    set_cookie = (answer.headers.get("Set-Cookie") or "").split(";", 1)[0]
    conn.close()
    return answer.status, text, set_cookie


def log_on(port: int, card: str) -> str:
    status, text, cookie = soap_call(port, "logOn", f"<logOn {DO}><username>{card}</username>"
                                                    "<password>1234</password></logOn>")
    assert status == 200 and "true" in text, text
    soap_call(port, "getServiceAttributes", f"<getServiceAttributes {DO}/>", cookie)
    status, text, _ = soap_call(port, "setReadingSystemAttributes", RSA, cookie)
    assert status == 200, text
    return cookie


def post_bytes(path: str, action: str, body: str, cookie: str = "") -> bytes:
    payload = ENVELOPE.format(body).encode()
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: text/xml; charset=utf-8",
             f'SOAPAction: "/{action}"', f"Content-Length: {len(payload)}", *([f"Cookie: {cookie}"] if cookie else []),
             "", ""]
    return "\r\n".join(lines).encode() + payload


def repeat(raw: bytes) -> Any:
    def make() -> Any:
        while True:
            yield raw
    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="per load, all rounds together")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default="", help="default: a throwaway SQLite file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kuulo-dodp-bench-"))
    env = {"KUULO_DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'kuulo.db'}",
           "KUULO_MEDIA_ROOT": str(tmp / "media"), "KUULO_BASE_URL": "http://127.0.0.1"}
    proc = None
    try:
        print(f"setting up in {tmp} (20 loans, a {BIG_TRACK_MB} MB track)…")
        data = prepare(tmp, env)
        port = free_port()
        proc = start_gunicorn(port, env, args.workers, args.threads)
        cookie = log_on(port, data["card"])
        loads = {
            "bare": repeat(post_bytes("/bench/bare-soap", "logOff", f"<logOff {DO}/>")),
            "list": repeat(post_bytes("/daisy-online", "getContentList",
                                      f"<getContentList {DO}><id>issued</id><firstItem>0</firstItem>"
                                      "<lastItem>-1</lastItem></getContentList>", cookie)),
            "resources": repeat(post_bytes("/daisy-online", "getContentResources",
                                           f"<getContentResources {DO}><contentID>book-{data['book']}</contentID>"
                                           "</getContentResources>", cookie)),
        }
        for make in loads.values():
            asyncio.run(measure(port, make, 2, 1.0))  # warm up
        print(f"\n1. SOAP, {args.connections} connections, gunicorn gthread {args.workers}×{args.threads}")
        rounds = [asyncio.run(compare(port, loads, args.connections, args.seconds / args.rounds, rounds=1))
                  for _ in range(args.rounds)]
        labels = {"bare": "bare POST endpoint (small XML)", "list": "getContentList issued (20 loans)",
                  "resources": "getContentResources (one book)"}
        for number, results in enumerate(rounds, 1):
            print(f" round {number}")
            for name, result in results.items():
                show(labels[name], result)
        for name in ("list", "resources"):
            ratios = sorted(r[name]["rps"] / r["bare"]["rps"] for r in rounds)
            print(f"  {labels[name]}: median ratio {statistics.median(ratios):.2f} (target ≥ 0.5), "
                  f"rounds {ratios[0]:.2f}–{ratios[-1]:.2f}")

        track = ranges(f"/daisy-online/content/{data['big_book']}/001.mp3", data["big_size"], {"Cookie": cookie})
        static = ranges("/bench/static/big-track.mp3", data["big_size"], {})
        print(f"\n2. ranged streaming of a {BIG_TRACK_MB} MB track, 4 MiB ranges, 4 connections")
        asyncio.run(measure(port, static, 2, 1.0))
        results = asyncio.run(compare(port, {"static": static, "track": track}, 4, args.seconds))
        show("static file (send_from_directory)", results["static"])
        show("DODP resource URL (cookie + loan)", results["track"])
        print(f"  ratio {results['track']['mb_s'] / results['static']['mb_s']:.2f} (target ≥ 0.5)")
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
