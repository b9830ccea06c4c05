"""Delivery channels. ``send`` confirms its claim right before the hand-over; it raises ``DeliveryError`` to retry."""
from __future__ import annotations

import hashlib
import logging
import re
import smtplib
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Protocol

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


class SmtpEmail:
    def __init__(self, config: dict) -> None:
        self.config = config

    def build(self, message: OutboxMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config["MAIL_FROM"]
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        domain = self.config["MAIL_FROM"].rpartition("@")[2].strip(">") or "kuulo.test"
        mail["Message-ID"] = message_id(message.key, domain)
        mail["Content-Language"] = message.language
        mail.set_content(message.body)
        return mail

    def send(self, message: OutboxMessage, confirm: Confirm) -> None:
        c = self.config
        timeout = float(c["SMTP_TIMEOUT_SECONDS"])
        try:
            with smtplib.SMTP(c["SMTP_HOST"], int(c["SMTP_PORT"]), timeout=timeout) as smtp:
                smtp.ehlo_or_helo_if_needed()
                if c.get("SMTP_STARTTLS"):
                    smtp.starttls()
                if c.get("SMTP_USERNAME"):
                    smtp.login(c["SMTP_USERNAME"], c["SMTP_PASSWORD"])
                mail = self.build(message)
                # The hand-over (MAIL, RCPT, DATA, the content, the server's answer) takes at most six
                # timeouts; the lease must outlast it, or a successor might send while we still are.
                if not confirm(timedelta(seconds=6 * timeout)):
                    raise ClaimLost()
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(_describe(exc)) from exc


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


SMS_GATEWAYS: dict[str, type] = {"logging": LoggingSmsGateway}


def channels_for(config: dict) -> dict[str, Channel]:
    """Email and SMS are sent by the job; letters wait in the printable queue for staff."""
    return {"email": SmtpEmail(config), "sms": Sms(SMS_GATEWAYS[config.get("SMS_GATEWAY", "logging")]())}
