"""The SIP2 server as it runs in production: `flask sip2 serve` in its own process, killed with -9 in the middle
of a burst of checkouts and checkins (nothing half done), and its systemd unit."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from app.circulation.models import Item, Loan
from app.config import PROJECT_ROOT
from tests.selfservice.sipclient import STAMP, SipClient

BARCODES = ["L0002", "L0003", "L0005", "L0006"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(app: Any, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, KUULO_DATABASE_URL=app.config["DATABASE_URL"], KUULO_FAKE_NOW=app.config["FAKE_NOW"],
               KUULO_MEDIA_ROOT=app.config["MEDIA_ROOT"], KUULO_SMTP_PORT="1")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "sip2", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.25)
    proc.kill()
    raise AssertionError("flask sip2 serve did not start")


def test_kill_minus_nine_mid_burst_leaves_nothing_half_done(demo: Any, sm: Any) -> None:
    port = free_port()
    proc = start_server(demo, port)
    try:
        kiosk = SipClient(port)
        assert kiosk.login() == "941"
        burst = b"".join(f"11NN{STAMP}{STAMP}AOlumme|AA2000000001|AB{b}|AC|AD1234|\r".encode() for b in BARCODES)
        burst += b"".join(f"09N{STAMP}{STAMP}APmikkeli|AOlumme|AB{b}|AC|\r".encode() for b in BARCODES)
        kiosk.send_raw(burst * 3)
        assert kiosk.read().startswith("12")  # the first one is answered: the server is in the middle of it
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        kiosk.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    with sm.begin() as s:
        for barcode in BARCODES:
            status = s.scalar(select(Item.status).where(Item.barcode == barcode))
            open_loans = s.scalar(select(func.count()).select_from(Loan).join(Item, Item.id == Loan.item_id)
                                  .where(Item.barcode == barcode, Loan.status == "open"))
            assert (status == "on_loan") == (open_loans == 1) and open_loans <= 1, (barcode, status, open_loans)
    port = free_port()
    proc = start_server(demo, port)  # and it starts again on the same database
    try:
        with SipClient(port) as kiosk:
            assert kiosk.login() == "941"
    finally:
        proc.terminate()
        proc.wait(20)
    assert proc.returncode == 0  # TERM: a clean stop


UNIT = PROJECT_ROOT / "deploy" / "kuulo-sip2.service"


def test_the_systemd_unit_runs_the_sip2_server() -> None:
    import re

    assert re.search(r"^ExecStart=/srv/kuulo/\.venv/bin/flask --app app sip2 serve ", UNIT.read_text(), re.M)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_systemd_unit_verifies(tmp_path: Any) -> None:
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/srv/kuulo", str(PROJECT_ROOT)))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True,
                            timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if UNIT.name in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr
