"""Delivery channels. Each ``send`` raises ``DeliveryError`` when the message should be retried."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from app.notify.models import OutboxMessage

log = logging.getLogger("kuulo.notify")


class DeliveryError(Exception):
    pass


class Channel(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


class SmtpEmail:
    def __init__(self, config: dict) -> None:
        self.config = config

    def build(self, message: OutboxMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config["MAIL_FROM"]
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        # A Message-ID derived from the outbox key: should a crash make us deliver again, receiving
        # systems see the same message, not a new one.
        domain = self.config["MAIL_FROM"].rpartition("@")[2].strip(">") or "kuulo.test"
        mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=domain)
        mail["Content-Language"] = message.language
        mail.set_content(message.body)
        return mail

    def send(self, message: OutboxMessage) -> None:
        c = self.config
        try:
            with smtplib.SMTP(c["SMTP_HOST"], int(c["SMTP_PORT"]), timeout=c["SMTP_TIMEOUT_SECONDS"]) as smtp:
                if c.get("SMTP_STARTTLS"):
                    smtp.starttls()
                if c.get("SMTP_USERNAME"):
                    smtp.login(c["SMTP_USERNAME"], c["SMTP_PASSWORD"])
                smtp.send_message(self.build(message))
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP: {exc.__class__.__name__}: {exc}") from exc


class SmsGateway(Protocol):
    def send_sms(self, phone: str, text: str) -> None: ...


class LoggingSmsGateway:
    """The default SMS gateway: it does NOT send SMS, it writes them to the log and says so."""

    def send_sms(self, phone: str, text: str) -> None:
        log.warning("SMS not sent (logging gateway; configure a real one): to=%s text=%r", phone, text)


class Sms:
    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    def send(self, message: OutboxMessage) -> None:
        try:
            self.gateway.send_sms(message.recipient, f"{message.subject}\n{message.body}")
        except OSError as exc:
            raise DeliveryError(f"SMS: {exc}") from exc


SMS_GATEWAYS: dict[str, type] = {"logging": LoggingSmsGateway}


def channels_for(config: dict) -> dict[str, Channel]:
    """Email and SMS are sent by the job; letters wait in the printable queue for staff."""
    return {"email": SmtpEmail(config), "sms": Sms(SMS_GATEWAYS[config.get("SMS_GATEWAY", "logging")]())}
