"""gunicorn as deployed (gunicorn.conf.py, two workers, JSON logs): the access log has the request id and the
path without its query string; /metrics adds up the requests of every worker (prometheus multiprocess mode)."""
from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WAIT = 60  # seconds: two workers importing the app on a busy machine


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode()
    finally:
        conn.close()


def test_two_workers_log_json_access_lines_and_share_their_request_counts(app, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR" and not k.startswith("KUULO_")}
    env.update(KUULO_DATABASE_URL=app.config["DATABASE_URL"], KUULO_LOG_FORMAT="json", KUULO_BASE_URL="http://kuulo.test",
               KUULO_MEDIA_ROOT=app.config["MEDIA_ROOT"], KUULO_FAKE_NOW=app.config["FAKE_NOW"])
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", "127.0.0.1:0",
                               "-w", "2", "--threads", "2", "app:create_app()"], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [errors.put(line) for line in server.stderr], daemon=True)
    reader.start()
    try:
        port = 0
        while not port:  # bounded: each get waits at most WAIT seconds, and the stream ends when gunicorn does
            line = errors.get(timeout=WAIT)
            if found := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
                port = int(found.group(1))
        for i in range(6):
            status, headers, _ = get(port, f"/healthz?card=200000000{i}", {"X-Request-ID": f"gunicorn-{i}"})
            assert status == 200 and headers["X-Request-ID"] == f"gunicorn-{i}"
        status, _, text = get(port, "/metrics")
        assert status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=WAIT)
        reader.join(WAIT)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    key = ("kuulo_http_requests_total", (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200")))
    assert samples[key] == 6  # whichever worker answered each request and the scrape
    access = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    healthz = sorted((r for r in access if r.get("path") == "/healthz"), key=lambda r: r["request_id"])
    assert [r["request_id"] for r in healthz] == [f"gunicorn-{i}" for i in range(6)]
    first = healthz[0]
    assert (first["logger"], first["method"], first["status"], first["message"]) == \
        ("gunicorn.access", "GET", 200, "GET /healthz 200")
    assert isinstance(first["duration_ms"], float) and first["bytes"] > 0 and first["time"]
    assert "2000000000" not in out and "card=" not in out and "127.0.0.1" not in out
    errors_text = "".join(errors.queue)
    assert all(line.startswith("{") for line in errors_text.splitlines() if line.strip()), errors_text[:2000]
