"""Delivery channels. ``send`` confirms its claim right before the hand-over; it raises ``DeliveryError`` to retry."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import smtplib
import ssl
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from app.config import DefaultConfig, is_production
from app.notify.models import OutboxMessage

log = logging.getLogger("kuulo.notify")

# Called by a channel right before it hands a message over: True when this sender still owns the message,
# which then stays leased to it for at least the given time; False when another sender took it over.
Confirm = Callable[[timedelta], bool]


class DeliveryError(Exception):
    pass


class ClaimLost(Exception):
    """Another sender took the message over before this one handed it over: nothing was sent here."""


class Channel(Protocol):
    def send(self, message: OutboxMessage, confirm: Confirm) -> None: ...


def message_id(key: str, domain: str) -> str:
    """The Message-ID of outbox message ``key``: from the key alone (no time, no random part), so a message
    sent again after a crash is the same message to every receiving system, which may drop the copy."""
    return f"<outbox.{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


_ADDRESS = re.compile(r"[^\s<>()\[\]'\",;:]+@[^\s<>()\[\]'\",;:]+")


def _describe(exc: Exception) -> str:
    """An SMTP failure without the addresses that servers echo back (``last_error`` is no place for them)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"SMTP: recipient refused ({', '.join(map(str, codes))})"
    return _ADDRESS.sub("<address>", f"SMTP: {exc.__class__.__name__}: {exc}")


def build_email(config: dict, message: OutboxMessage) -> EmailMessage:
    """The email of outbox message ``message``, the same for every backend and every attempt."""
    mail = EmailMessage()
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    domain = config["MAIL_FROM"].rpartition("@")[2].strip(">") or "kuulo.test"
    mail["Message-ID"] = message_id(message.key, domain)
    mail["Content-Language"] = message.language
    mail.set_content(message.body)
    return mail


class SmtpEmail:
    """SMTP, plain, with STARTTLS (``SMTP_STARTTLS``) or with implicit TLS (``SMTP_SSL``, port 465); TLS
    verifies the server's certificate against the system's CAs (``SSL_CERT_FILE`` names another bundle).

    One delivery run keeps one connection open for all its messages (``close`` ends it): opening a
    connection, TLS and the login cost more than sending a message. A connection the server closed
    between two messages is opened again for the next; any other failure drops it."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self._local = threading.local()  # one connection per thread: runs may share a channel

    @property
    def _smtp(self) -> smtplib.SMTP | None:
        return getattr(self._local, "smtp", None)

    @_smtp.setter
    def _smtp(self, smtp: smtplib.SMTP | None) -> None:
        self._local.smtp = smtp

    def build(self, message: OutboxMessage) -> EmailMessage:
        return build_email(self.config, message)

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        host, port, timeout = c["SMTP_HOST"], int(c["SMTP_PORT"]), float(c["SMTP_TIMEOUT_SECONDS"])
        if c.get("SMTP_SSL"):
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        return smtplib.SMTP(host, port, timeout=timeout)

    def _session(self) -> smtplib.SMTP:
        if self._smtp is None:
            c = self.config
            smtp = self._connect()
            try:
                smtp.ehlo_or_helo_if_needed()
                if c.get("SMTP_STARTTLS") and not c.get("SMTP_SSL"):
                    smtp.starttls(context=ssl.create_default_context())
                if c.get("SMTP_USERNAME"):
                    smtp.login(c["SMTP_USERNAME"], c["SMTP_PASSWORD"])
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def close(self) -> None:
        """End the run's connection politely (QUIT)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def send(self, message: OutboxMessage, confirm: Confirm) -> None:
        timeout = float(self.config["SMTP_TIMEOUT_SECONDS"])
        try:
            reused = self._smtp is not None
            smtp = self._session()
            mail = self.build(message)
            # The hand-over (MAIL, RCPT, DATA, the content, the server's answer) takes at most six
            # timeouts; the lease must outlast it, or a successor might send while we still are.
            if not confirm(timedelta(seconds=6 * timeout)):
                raise ClaimLost()
            try:
                smtp.send_message(mail)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The server closed the kept connection between two messages (its idle timeout): it
                # accepted nothing of this one, so it goes once more on a new connection.
                self._drop()
                self._session().send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError(_describe(exc)) from exc


def eml_name(key: str) -> str:
    """The file of outbox message ``key``: readable, and from the key alone (a resend overwrites it)."""
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", key)[:80].strip("._") or "message"
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.eml"


class FileEmail:
    """Development: each message becomes ``MAIL_FILE_DIR/<eml_name(key)>``, written whole (temporary file,
    then rename) — open it in a mail program. Sent again, the same message replaces its file."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.folder = Path(config["MAIL_FILE_DIR"])

    def send(self, message: OutboxMessage, confirm: Confirm) -> None:
        data = build_email(self.config, message).as_bytes()
        if not confirm(timedelta(0)):
            raise ClaimLost()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, self.folder / eml_name(message.key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise DeliveryError(f"file: {exc.__class__.__name__}") from exc


class ConsoleEmail:
    """Development: each message is printed whole to standard output, between two marker lines."""

    def __init__(self, config: dict) -> None:
        self.config = config

    def send(self, message: OutboxMessage, confirm: Confirm) -> None:
        text = build_email(self.config, message).as_string()
        if not confirm(timedelta(0)):
            raise ClaimLost()
        try:
            sys.stdout.write(f"----- email {message.key} -----\n{text.rstrip()}\n----- end of email -----\n")
            sys.stdout.flush()
        except OSError as exc:
            raise DeliveryError(f"console: {exc.__class__.__name__}") from exc


EMAIL_BACKENDS: dict[str, type] = {"smtp": SmtpEmail, "file": FileEmail, "console": ConsoleEmail}


def mail_backend(config: Any) -> str:
    """MAIL_BACKEND; empty means smtp in production, under TESTING, or when an SMTP server was configured
    (SMTP_HOST or SMTP_PORT changed: a developer's Mailpit), and file otherwise."""
    name = str(config.get("MAIL_BACKEND") or "").strip().lower()
    if not name:
        server = (config.get("SMTP_HOST", DefaultConfig.SMTP_HOST), config.get("SMTP_PORT", DefaultConfig.SMTP_PORT))
        smtp_configured = server != (DefaultConfig.SMTP_HOST, DefaultConfig.SMTP_PORT)
        name = "smtp" if is_production(config) or config.get("TESTING") or smtp_configured else "file"
    if name not in EMAIL_BACKENDS:
        raise ValueError(f"KUULO_MAIL_BACKEND must be one of {', '.join(EMAIL_BACKENDS)}, not {name!r}")
    return name


class SmsGateway(Protocol):
    def send_sms(self, phone: str, text: str) -> None: ...


class LoggingSmsGateway:
    """The default SMS gateway: it does NOT send SMS; it logs that one was not sent (without number or text)."""

    def send_sms(self, phone: str, text: str) -> None:
        log.warning("SMS not sent (logging gateway; configure a real one): %d characters", len(text))


class Sms:
    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    def send(self, message: OutboxMessage, confirm: Confirm) -> None:
        if not confirm(timedelta(0)):
            raise ClaimLost()
        try:
            self.gateway.send_sms(message.recipient, f"{message.subject}\n{message.body}")
        except OSError as exc:
            raise DeliveryError(f"SMS: {exc.__class__.__name__}") from exc


class HttpSmsGateway:
    """A generic HTTP SMS gateway: POST ``SMS_HTTP_URL`` with ``SMS_HTTP_BODY_TEMPLATE`` (JSON in which "{to}"
    and "{text}" are replaced by the number and the text, JSON-escaped), with a bearer token or HTTP Basic
    credentials, within ``SMS_HTTP_TIMEOUT_SECONDS``. A 2xx answer is delivery; anything else a retry. The
    error kept for the outbox page names the HTTP status or the failure's class, never the number or text."""

    def __init__(self, config: Any) -> None:
        self.url = str(config.get("SMS_HTTP_URL") or "")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("KUULO_SMS_HTTP_URL must be an http:// or https:// URL for the http SMS gateway")
        self.template = str(config.get("SMS_HTTP_BODY_TEMPLATE") or DefaultConfig.SMS_HTTP_BODY_TEMPLATE)
        self.timeout = float(config.get("SMS_HTTP_TIMEOUT_SECONDS") or 10)
        self.headers = {"Content-Type": "application/json", "User-Agent": "Kuulo"}
        if config.get("SMS_HTTP_BEARER_TOKEN"):
            self.headers["Authorization"] = f"Bearer {config['SMS_HTTP_BEARER_TOKEN']}"
        elif config.get("SMS_HTTP_USERNAME"):
            pair = f"{config['SMS_HTTP_USERNAME']}:{config.get('SMS_HTTP_PASSWORD') or ''}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()

    def body(self, phone: str, text: str) -> bytes:
        def escaped(value: str) -> str:
            return json.dumps(value)[1:-1]

        return self.template.replace("{to}", escaped(phone)).replace("{text}", escaped(text)).encode()

    def send_sms(self, phone: str, text: str) -> None:
        request = urllib.request.Request(self.url, data=self.body(phone, text), headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 (http/https only)
                answer.read(65536)
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS gateway: HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"SMS gateway: {exc.__class__.__name__}") from exc


SMS_GATEWAYS: dict[str, type] = {"logging": LoggingSmsGateway, "http": HttpSmsGateway}


def sms_backend(config: Any) -> str:
    """SMS_BACKEND (``log``/``logging`` or ``http``) when set, else SMS_GATEWAY; refuses an unknown name."""
    name = str(config.get("SMS_BACKEND") or config.get("SMS_GATEWAY") or "logging").strip().lower()
    name = "logging" if name == "log" else name
    if name not in SMS_GATEWAYS:
        raise ValueError(f"KUULO_SMS_BACKEND must be log or http, not {name!r}")
    return name


def sms_gateway(config: Any) -> SmsGateway:
    name = sms_backend(config)
    return HttpSmsGateway(config) if name == "http" else LoggingSmsGateway()


def check_sms_gateway(config: Any, sms_senders: Callable[[], list[str]]) -> None:
    """Refuse to start in production with the logging gateway (which sends nothing) when ``sms_senders()``
    (the circulation presets in use whose notices may go by SMS) is not empty: their SMS would vanish."""
    name = sms_backend(config)
    if name == "http":
        HttpSmsGateway(config)  # a bad URL is refused at start, not at the first SMS
    if is_production(config) and name == "logging" and (senders := sms_senders()):
        raise RuntimeError("KUULO_SMS_BACKEND=http (with KUULO_SMS_HTTP_URL) must be set in production: the "
                           f"circulation presets {', '.join(sorted(senders))} send notices by SMS, and the "
                           "logging gateway sends nothing")


def channels_for(config: dict) -> dict[str, Channel]:
    """Email and SMS are sent by the job; letters wait in the printable queue for staff."""
    return {"email": EMAIL_BACKENDS[mail_backend(config)](config), "sms": Sms(sms_gateway(config))}


def init_app(app: Any) -> None:
    """Refuse an unknown MAIL_BACKEND at start; on ``flask run`` say once where the file backend writes."""
    import click
    from flask.helpers import get_debug_flag
    from werkzeug.serving import is_running_from_reloader

    if mail_backend(app.config) != "file":
        return
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "run":
        return
    reload = ctx.params.get("reload")
    if (get_debug_flag() if reload is None else reload) and not is_running_from_reloader():
        return  # the reloader's watcher; the server process it starts says it
    click.echo(f" * Mail is not sent: each message is written to {app.config['MAIL_FILE_DIR']}/")
