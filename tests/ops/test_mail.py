"""Mail you can see: the file backend (one .eml per outbox key, a resend replaces it), the console backend, the
defaults per environment, the folder announced on `flask run`, and SMTP with implicit TLS or STARTTLS."""
from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import click
import pytest
from sqlalchemy import select, update

from app import create_app
from app.notify import channels
from app.notify.channels import ClaimLost, channels_for, eml_name, mail_backend, message_id
from app.notify.jobs import deliver_outbox
from app.notify.models import OutboxMessage
from tests.ops.conftest import add_message

DOMAIN = "kuulo.test"  # of MAIL_FROM


def read_eml(path: Path) -> Any:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def statuses(sm: Any) -> dict[str, str]:
    with sm.begin() as s:
        return dict(s.execute(select(OutboxMessage.key, OutboxMessage.status)).all())


@pytest.fixture()
def mail_dir(app: Any) -> Path:
    return Path(app.config["MAIL_FILE_DIR"])


def test_the_file_backend_writes_one_eml_per_message_named_by_its_key(app, sm, now, mail_dir):
    add_message(sm, now, "reset:patron:12:1", subject="Reset your PIN", body="Open http://kuulo.test/reset/x\n")
    add_message(sm, now, "status:m1:u2:s3")
    file_backend = channels_for({**app.config, "MAIL_BACKEND": "file"})
    assert deliver_outbox(sm, now, file_backend) == {"sent": 2, "retry": 0, "failed": 0}
    assert sorted(p.name for p in mail_dir.iterdir()) == sorted([eml_name("reset:patron:12:1"),
                                                                 eml_name("status:m1:u2:s3")])
    mail = read_eml(mail_dir / eml_name("reset:patron:12:1"))
    assert mail["Message-ID"] == message_id("reset:patron:12:1", DOMAIN)
    assert (mail["To"], mail["Subject"]) == ("reader@test.kuulo", "Reset your PIN")
    assert mail.get_content() == "Open http://kuulo.test/reset/x\n"
    assert eml_name("reset:patron:12:1").startswith("reset_patron_12_1-")


def test_a_message_sent_again_after_a_crash_replaces_its_file(app, sm, now, mail_dir):
    add_message(sm, now, "credentials:patron:5")
    file_backend = channels_for({**app.config, "MAIL_BACKEND": "file"})
    assert deliver_outbox(sm, now, file_backend)["sent"] == 1
    first = (mail_dir / eml_name("credentials:patron:5")).read_bytes()
    with sm.begin() as s:  # the sender died after writing, before recording it: its lease runs out
        s.execute(update(OutboxMessage).values(status="sending", lease_owner="dead:1",
                                               lease_until=now - dt.timedelta(seconds=1)))
    assert deliver_outbox(sm, now, file_backend)["sent"] == 1
    assert [p.name for p in mail_dir.iterdir()] == [eml_name("credentials:patron:5")]  # no copy, no temp file
    assert (mail_dir / eml_name("credentials:patron:5")).read_bytes() == first  # same Message-ID, same mail
    assert deliver_outbox(sm, now + dt.timedelta(hours=1), file_backend)["sent"] == 0


def test_the_file_backend_writes_nothing_once_its_claim_is_lost(app, sm, now, mail_dir):
    add_message(sm, now, "k")
    with sm.begin() as s:
        message = s.scalars(select(OutboxMessage)).one()
    with pytest.raises(ClaimLost):
        channels.FileEmail(app.config).send(message, lambda hold: False)
    assert not mail_dir.exists() or not any(mail_dir.iterdir())


def test_a_mail_folder_that_cannot_be_written_is_retried(app, sm, now, tmp_path):
    (tmp_path / "blocked").write_text("a file where the folder should be")
    backend = channels_for({**app.config, "MAIL_BACKEND": "file", "MAIL_FILE_DIR": str(tmp_path / "blocked")})
    assert deliver_outbox(sm, now, backend) == {"sent": 0, "retry": 0, "failed": 0}  # nothing queued yet
    add_message(sm, now, "k")
    assert deliver_outbox(sm, now, backend) == {"sent": 0, "retry": 1, "failed": 0}
    assert statuses(sm) == {"k": "pending"}


def test_the_console_backend_prints_the_whole_message(app, sm, now, capsys):
    add_message(sm, now, "welcome:7", subject="Tervetuloa", body="Kirjastokorttisi on valmis.\n")
    assert deliver_outbox(sm, now, channels_for({**app.config, "MAIL_BACKEND": "console"}))["sent"] == 1
    out = capsys.readouterr().out
    assert "----- email welcome:7 -----" in out and "----- end of email -----" in out
    assert f"Message-ID: {message_id('welcome:7', DOMAIN)}" in out and "To: reader@test.kuulo" in out
    assert "Subject: Tervetuloa" in out and "Kirjastokorttisi on valmis." in out


def test_the_default_backend_is_file_in_development_and_smtp_in_production_and_tests():
    assert mail_backend({}) == "file"
    assert mail_backend({"ENV_NAME": "production"}) == "smtp"
    assert mail_backend({"TESTING": True}) == "smtp"  # the suite's own SMTP server on loopback
    assert mail_backend({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": 1025}) == "smtp"  # a developer's Mailpit
    assert mail_backend({"ENV_NAME": "production", "MAIL_BACKEND": "console"}) == "console"


def test_an_unknown_backend_stops_the_start(app_config):
    with pytest.raises(ValueError, match="KUULO_MAIL_BACKEND"):
        create_app({**app_config, "MAIL_BACKEND": "pigeon"})


def run_context(reload: bool | None) -> click.Context:
    ctx = click.Context(click.Command("run"), info_name="run")
    ctx.params = {"reload": reload}
    return ctx


def test_flask_run_says_once_where_the_mail_goes(app_config, capsys, monkeypatch, mail_dir):
    app = create_app({**app_config, "TESTING": False, "SMTP_PORT": 25})  # development defaults: file backend
    capsys.readouterr()
    with run_context(reload=False):
        channels.init_app(app)
    assert capsys.readouterr().out == f" * Mail is not sent: each message is written to {mail_dir}/\n"
    with run_context(reload=True):  # the reloader's watcher process: its server process says it
        channels.init_app(app)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")  # the server process the reloader started
    with run_context(reload=True):
        channels.init_app(app)
    assert str(mail_dir) in capsys.readouterr().out
    channels.init_app(app)  # not `flask run` (gunicorn, a CLI command, a test): nothing
    assert capsys.readouterr().out == ""


# -- SMTP over TLS, against aiosmtpd on loopback with a certificate made here --------------------------------

def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kuulo test smtp")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp.crt", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class TlsSmtp:
    """aiosmtpd on loopback, with implicit TLS (``implicit=True``) or STARTTLS required."""

    def __init__(self, cert_file: Path, key_file: Path, *, implicit: bool) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        with socket.socket() as probe:  # aiosmtpd's start-up check cannot use port 0
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        tls = {"ssl_context": context} if implicit else {"tls_context": context, "require_starttls": True}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **tls)

    def __enter__(self) -> TlsSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture()
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


@pytest.mark.parametrize("implicit", [True, False], ids=["implicit-tls-465", "starttls"])
def test_smtp_over_tls_delivers_to_a_trusted_server(app, sm, now, certificate, monkeypatch, implicit):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test's own certificate
    add_message(sm, now, "tls:1")
    with TlsSmtp(*certificate, implicit=implicit) as server:
        settings = {"SMTP_PORT": server.port, "SMTP_SSL": implicit, "SMTP_STARTTLS": not implicit}
        assert deliver_outbox(sm, now, channels_for({**app.config, **settings}))["sent"] == 1
    [mail] = server.messages
    assert mail["Message-ID"] == message_id("tls:1", DOMAIN)


@pytest.mark.parametrize("implicit", [True, False], ids=["implicit-tls-465", "starttls"])
def test_smtp_over_tls_refuses_a_server_whose_certificate_is_not_trusted(app, sm, now, certificate, implicit):
    add_message(sm, now, "tls:2")
    with TlsSmtp(*certificate, implicit=implicit) as server:
        settings = {"SMTP_PORT": server.port, "SMTP_SSL": implicit, "SMTP_STARTTLS": not implicit}
        assert deliver_outbox(sm, now, channels_for({**app.config, **settings}))["retry"] == 1
    assert server.messages == [] and statuses(sm) == {"tls:2": "pending"}
    with sm.begin() as s:
        assert "SSL" in s.scalars(select(OutboxMessage.last_error)).one()
