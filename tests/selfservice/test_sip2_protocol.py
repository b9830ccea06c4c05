"""Protocol hygiene: parsing and formatting (pure), and a server that survives whatever a terminal sends."""
from __future__ import annotations

import socket
import ssl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.circulation.models import Item
from app.circulation.sip2 import protocol
from app.circulation.sip2.server import BackgroundServer
from tests.selfservice.sipclient import STAMP, SipClient, field


def test_checksum_matches_the_specification_example() -> None:
    # The checksum and the 16-bit sum of every byte up to AZ add up to zero (SIP2 2.00 error detection).
    text = "9300CNuser|COpass|CPmikkeli|AY1AZ"
    total = sum(text.encode()) & 0xFFFF
    assert int(protocol.checksum(text), 16) == (-total) & 0xFFFF
    assert (int(protocol.checksum(text), 16) + total) & 0xFFFF == 0


def test_parse_fixed_and_variable_fields_and_the_trailer() -> None:
    text = protocol.trail(f"63001{STAMP}Y         AOlumme|AA2000000001|AD1234|", "4")
    msg = protocol.parse(text)
    assert msg.code == "63" and msg.sequence == "4" and msg.checksummed
    assert msg.fixed_at(21, 10) == "Y         " and msg.get("AA") == "2000000001" and msg.get("AD") == "1234"
    for bad in ("", "x", "XX", "6300", "63" + "0" * 31 + "AA1|\x00", "88" + "0" * 40, "23" + "0" * 21 + "A|"):
        with pytest.raises(protocol.MalformedMessage):
            protocol.parse(bad)
    with pytest.raises(protocol.MalformedMessage):  # a wrong checksum
        protocol.parse(text[:-4] + ("0000" if not text.endswith("0000") else "0001"))


def test_formatting_cleans_values_and_encodes_cp850() -> None:
    assert protocol.fmt("94", "1") == "941"
    assert protocol.fmt("24", "", [("AE", "A|B\rC"), ("AF", None)]) == "24AEABC|"
    assert protocol.encode("AEÄiti", "cp850") == "AEÄiti\r".encode("cp850")
    assert protocol.encode("AE\u0161", "cp850") == b"AE?\r"  # what cp850 cannot say becomes ?
    assert protocol.sip_datetime(datetime(2026, 11, 23, 12, 5, 9, tzinfo=UTC)) == "20261123    120509"


def test_error_detection_and_resend(sip: Any) -> None:
    with SipClient(sip.port, error_detection=True) as kiosk:
        answer = kiosk.login()
        assert answer.startswith("941AY0AZ")
        assert protocol.checksum(answer[:-4]) == answer[-4:]
        info = kiosk.send(f"63001{STAMP}          AOlumme|AA2000000001|AD1234|")
        assert "AY1AZ" in info and protocol.checksum(info[:-4]) == info[-4:]
        kiosk.send_raw(b"97\r")
        assert kiosk.read() == info  # the last answer again
        kiosk.send_raw(f"63001{STAMP}          AOlumme|AA2000000001|AY2AZ0000\r".encode())
        assert kiosk.read() == "96"  # a corrupted message: the terminal asks again


def test_garbage_oversized_and_truncated_input_never_stop_the_server(sip: Any, caplog: Any) -> None:
    with SipClient(sip.port) as kiosk:
        kiosk.login()
        assert kiosk.send("this is not sip") == "96"
        assert kiosk.send("\x00\x01\x02") == "96"
        kiosk.send_raw(b"63" + b"A" * (protocol.MAX_MESSAGE_BYTES * 3) + b"\r")
        assert kiosk.read() == "96"
        kiosk.send_raw("11NN\udcff".encode("utf-8", errors="surrogatepass") + b"\r")
        assert kiosk.read() == "96"
        assert kiosk.send("9900302.00").startswith("98")  # still in session
    with socket.create_connection(("127.0.0.1", sip.port)) as half:
        half.sendall(b"9300CNkiosk-mikkeli|COkuulo-de")  # and hangs up mid-message
    with SipClient(sip.port) as kiosk:
        assert kiosk.login() == "941"
    assert "2000000001" not in caplog.text


def test_idle_connections_time_out(demo: Any) -> None:
    with BackgroundServer(demo, idle_timeout=0.3) as server, SipClient(server.port, timeout=10) as kiosk:
        kiosk.login()
        assert kiosk.sock.recv(10) == b""  # closed by the server, not left hanging


def test_a_cp850_terminal(sip: Any, sm: Any, now: Any) -> None:
    from app.circulation import service_selfservice as selfservice

    with sm.begin() as s:
        selfservice.add_terminal(s, name="sorter-mikkeli", password="sorter-password-1", branch="lumme/mikkeli",
                                 now=now, actor="test", charset="cp850", language="sv")
    with SipClient(sip.port, charset="cp850") as sorter:
        assert sorter.login("sorter-mikkeli", "sorter-password-1") == "941"
        info = sorter.send(f"63001{STAMP}          AOlumme|AA2000000001|AD1234|")
        assert field(info, "AE") == "Maija Meikäläinen"  # ä in cp850 (0x84), read back as cp850
        assert info.startswith("64") and "006" in info[16:19]  # Swedish


@pytest.fixture()
def certificate(tmp_path: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "sip2.crt", tmp_path / "sip2.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_tls(demo: Any, certificate: tuple[str, str]) -> None:
    from app.circulation.sip2.server import tls_context

    client_context = ssl.create_default_context(cafile=certificate[0])
    with BackgroundServer(demo, ssl_context=tls_context(*certificate)) as server:
        with SipClient(server.port, tls=client_context) as kiosk:
            assert kiosk.login() == "941"
        with socket.create_connection(("127.0.0.1", server.port)) as plain:  # no TLS: dropped, server lives
            plain.sendall(b"9300CNkiosk-mikkeli|COkuulo-demo-2026|\r")
            plain.settimeout(10)
            plain.recv(100)  # whatever comes back (a TLS alert, or nothing): the connection ends
        with SipClient(server.port, tls=client_context) as kiosk:
            assert kiosk.login() == "941"


def test_two_terminals_race_for_the_last_copy(sip: Any, sm: Any) -> None:
    """Two kiosks check out the one copy at the same moment: exactly one loan, the other is refused."""
    answers: list[str] = []
    barrier = threading.Barrier(2)

    def kiosk(card: str) -> None:
        with SipClient(sip.port) as client:
            client.login()
            barrier.wait(10)
            answers.append(client.send(f"11NN{STAMP}{STAMP}AOlumme|AA{card}|ABL0006|AC|AD1234|"))

    threads = [threading.Thread(target=kiosk, args=(card,)) for card in ("2000000001", "2000000005")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answer[:3] for answer in answers) == ["120", "121"]
    with sm.begin() as s:
        assert s.scalar(select(Item.status).where(Item.barcode == "L0006")) == "on_loan"


def test_only_questions_that_write_nothing_run_in_a_read_only_session() -> None:
    from app.circulation.sip2.dispatch import reads_only

    assert reads_only(protocol.parse(f"17{STAMP}AOlumme|ABL0001|"))
    assert reads_only(protocol.parse(f"63001{STAMP}          AOlumme|AA2000000001|"))
    assert not reads_only(protocol.parse(f"63001{STAMP}          AOlumme|AA2000000001|AD1234|"))  # counts a PIN
    assert not reads_only(protocol.parse(f"63001{STAMP}          AOlumme|AA2000000001|AD1234|PA|"))  # audited
    assert not reads_only(protocol.parse(f"11NN{STAMP}{STAMP}AOlumme|AA2000000001|ABL0001|"))
