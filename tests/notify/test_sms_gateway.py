"""The generic HTTP SMS gateway against a fake gateway on loopback, and the production refusal of the logging one."""
from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.notify import channels
from app.notify.channels import DeliveryError, HttpSmsGateway


class FakeGateway:
    def __init__(self, status=200):
        self.requests = []
        self.status = status
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.requests.append((self.path, dict(self.headers), body))
                self.send_response(fake.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/send"


@pytest.fixture()
def gateway():
    fake = FakeGateway()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def config(url, **extra):
    return {"SMS_BACKEND": "http", "SMS_HTTP_URL": url, "SMS_HTTP_TIMEOUT_SECONDS": 5,
            "SMS_HTTP_BODY_TEMPLATE": '{"recipient": "{to}", "message": "{text}", "sender": "Kuulo"}', **extra}


def test_the_sms_is_posted_with_the_template_and_basic_credentials(gateway):
    sms = channels.sms_gateway(config(gateway.url, SMS_HTTP_USERNAME="kirjasto", SMS_HTTP_PASSWORD="salainen"))
    sms.send_sms("+358401234567", 'Laina "Kalevala"\nerääntyy')
    path, headers, body = gateway.requests[0]
    assert path == "/send" and headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"kirjasto:salainen").decode()
    assert json.loads(body) == {"recipient": "+358401234567", "message": 'Laina "Kalevala"\nerääntyy',
                                "sender": "Kuulo"}


def test_bearer_token(gateway):
    channels.sms_gateway(config(gateway.url, SMS_HTTP_BEARER_TOKEN="abc")).send_sms("+358401", "x")
    assert gateway.requests[0][1]["Authorization"] == "Bearer abc"


def test_a_refusal_or_an_unreachable_gateway_is_retried_without_the_number(gateway):
    gateway.status = 503
    with pytest.raises(DeliveryError, match="HTTP 503") as caught:
        channels.sms_gateway(config(gateway.url)).send_sms("+358401234567", "hello")
    assert "358401234567" not in str(caught.value)
    from tests.conftest import closed_port

    with pytest.raises(DeliveryError, match="SMS gateway"):
        HttpSmsGateway(config(f"http://127.0.0.1:{closed_port()}/")).send_sms("+358401234567", "hello")


def test_the_outbox_channel_sends_subject_and_body(gateway):
    sms = channels.channels_for({**config(gateway.url), "MAIL_BACKEND": "console"})["sms"]
    message = type("M", (), {"recipient": "+358409", "subject": "Kuulo", "body": "Noutovaraus odottaa\n"})()
    sms.send(message, lambda hold: True)
    assert json.loads(gateway.requests[0][2])["message"] == "Kuulo\nNoutovaraus odottaa\n"


def test_bad_settings_are_refused_at_start():
    with pytest.raises(ValueError, match="KUULO_SMS_BACKEND"):
        channels.check_sms_gateway({"SMS_BACKEND": "carrier-pigeon"}, list)
    with pytest.raises(ValueError, match="KUULO_SMS_HTTP_URL"):
        channels.check_sms_gateway({"SMS_BACKEND": "http", "SMS_HTTP_URL": "file:///etc/passwd"}, list)


def test_production_refuses_the_logging_gateway_when_a_preset_sends_sms():
    with pytest.raises(RuntimeError, match="czech"):
        channels.check_sms_gateway({"ENV_NAME": "production", "SMS_BACKEND": "log"}, lambda: ["czech"])
    channels.check_sms_gateway({"ENV_NAME": "production", "SMS_BACKEND": "log"}, list)
    channels.check_sms_gateway({"ENV_NAME": "development", "SMS_GATEWAY": "logging"}, lambda: ["czech"])
    channels.check_sms_gateway({"ENV_NAME": "production", **config("https://sms.example/api")}, lambda: ["czech"])


def test_the_presets_in_use_that_send_sms_are_found(app):
    from app import _presets_sending_sms

    assert "czech" in _presets_sending_sms() and _presets_sending_sms(app) == []  # no library uses one yet
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0  # the demo has the Czech library
    assert "czech" in _presets_sending_sms(app)


def test_production_with_the_demo_data_refuses_the_logging_gateway(app, app_config):
    from app import create_app

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    production = {**app_config, "TESTING": False, "ENV_NAME": "production", "SECRET_KEY": "s" * 40,
                  "IDENTITY_HASH_KEY": "i" * 40, "PAYTRAIL_SECRET": "p" * 40, "BASE_URL": "https://kuulo.example",
                  "IDENTITY_KEY_CHECK": False}
    with pytest.raises(RuntimeError, match="KUULO_SMS_BACKEND=http"):
        create_app(production)
    from app import db

    started = create_app({**production, **config("https://sms.example/api")})
    db.engine(started).dispose()


def test_confirm_is_respected_before_the_hand_over(gateway):
    sms = channels.Sms(channels.sms_gateway(config(gateway.url)))
    message = type("M", (), {"recipient": "+358409", "subject": "s", "body": "b"})()
    with pytest.raises(channels.ClaimLost):
        sms.send(message, lambda hold: hold < timedelta(0))
    assert gateway.requests == []
