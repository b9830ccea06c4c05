"""The project's own SIP2 client for tests and benchmarks: sends a request, reads the answer up to ``\\r``."""
from __future__ import annotations

import socket
import ssl
from datetime import datetime

from app.circulation.sip2.protocol import checksum

STAMP = "20261123    120000"


def stamp(moment: datetime | None = None) -> str:
    return moment.strftime("%Y%m%d    %H%M%S") if moment else STAMP


class SipClient:
    def __init__(self, port: int, *, error_detection: bool = False, charset: str = "utf-8",
                 tls: ssl.SSLContext | None = None, timeout: float = 20) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock: socket.socket = tls.wrap_socket(sock, server_hostname="localhost") if tls else sock
        self.error_detection, self.charset, self.sequence = error_detection, charset, 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> SipClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> str:
        data = b""
        while not data.endswith(b"\r"):
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode(self.charset, errors="replace").rstrip("\r")

    def send(self, message: str) -> str:
        if self.error_detection:
            message += f"AY{self.sequence}AZ"
            message += checksum(message, self.charset)
            self.sequence = (self.sequence + 1) % 10
        self.send_raw((message + "\r").encode(self.charset))
        return self.read()

    def login(self, name: str = "kiosk-mikkeli", password: str = "kuulo-demo-2026", branch: str = "mikkeli") -> str:
        return self.send(f"9300CN{name}|CO{password}|CP{branch}|")


# Lengths of the fixed part of each answer (after the two-digit code).
ANSWER_FIXED = {"98": 34, "94": 1, "24": 35, "26": 35, "64": 59, "12": 22, "10": 22, "30": 22, "66": 27, "18": 24,
                "16": 20, "38": 19, "36": 19, "96": 0}


def fields(response: str) -> dict[str, list[str]]:
    """The variable fields of an answer by their two-letter ids (AY/AZ included when present)."""
    body = response[2 + ANSWER_FIXED[response[:2]]:]
    out: dict[str, list[str]] = {}
    for part in body.split("|"):
        if len(part) >= 2:
            out.setdefault(part[:2], []).append(part[2:])
    return out


def field(response: str, field_id: str) -> str | None:
    values = fields(response).get(field_id)
    return values[0] if values else None
