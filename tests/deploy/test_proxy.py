"""KUULO_PROXY_COUNT: behind nginx the client's address (rate limits), scheme and host come from X-Forwarded-*."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import jsonify, request

from app import create_app, db

NGINX = "127.0.0.1"  # the TCP peer gunicorn sees behind nginx


@pytest.fixture()
def make_app(app_config: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(**settings: Any) -> Any:
        application = create_app({**app_config, **settings})

        @application.get("/test-peer")
        def peer() -> Any:  # what the views see
            return jsonify(address=request.remote_addr, scheme=request.scheme, host=request.host,
                           url=request.url_root)

        made.append(application)
        return application

    yield make
    for application in made:
        db.engine(application).dispose()


def seen(application: Any, **headers: str) -> dict[str, str]:
    c = application.test_client()
    c.environ_base["REMOTE_ADDR"] = NGINX
    return c.get("/test-peer", headers=headers, base_url="http://127.0.0.1:8000").json


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "kuulo.example.fi"}


def test_one_trusted_proxy_gives_the_clients_address_scheme_and_host(make_app):
    assert seen(make_app(PROXY_COUNT=1), **FORWARDED) == {
        "address": "203.0.113.7", "scheme": "https", "host": "kuulo.example.fi", "url": "https://kuulo.example.fi/"}


def test_a_client_cannot_choose_its_address_through_one_proxy(make_app):
    # The client sent X-Forwarded-For: 198.51.100.1 itself; nginx appended the address it saw.
    got = seen(make_app(PROXY_COUNT=1), **{**FORWARDED, "X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    assert got["address"] == "203.0.113.7"


def test_without_proxies_the_headers_are_ignored(make_app):
    assert seen(make_app(), **FORWARDED) == {
        "address": NGINX, "scheme": "http", "host": "127.0.0.1:8000", "url": "http://127.0.0.1:8000/"}


@pytest.mark.parametrize("proxies,other_client_limited", [(1, False), (0, True)])
def test_rate_limits_count_per_forwarded_client_only_with_a_trusted_proxy(make_app, proxies, other_client_limited):
    """Behind nginx with PROXY_COUNT=1 one client's sign-in attempts do not lock out another; with 0 every
    client is nginx and all share one limit."""
    application = make_app(PROXY_COUNT=proxies, RATELIMIT_ENABLED=True, RATELIMIT_SIGN_IN="2/minute")
    c = application.test_client()
    c.environ_base["REMOTE_ADDR"] = NGINX

    def sign_in(client_address: str) -> int:
        return c.post("/staff/login", data={"email": "nobody@kuulo.test", "password": "wrong"},
                      headers={"X-Forwarded-For": client_address}).status_code

    statuses = [sign_in("203.0.113.7") for _ in range(3)]
    assert 429 not in statuses[:2] and statuses[2] == 429
    assert (sign_in("203.0.113.8") == 429) is other_client_limited


def test_a_negative_proxy_count_stops_start_up(app_config):
    with pytest.raises(ValueError, match="KUULO_PROXY_COUNT"):
        create_app({**app_config, "PROXY_COUNT": -1})
