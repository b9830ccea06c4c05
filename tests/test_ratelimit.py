"""Rate limits on the anonymous endpoints: per client address, 429 with Retry-After, shared through Redis."""
from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app import create_app, db
from app.ratelimit import LIMITED

APPLY_API = "/api/v1/institution-applications"
REDIS_URL = os.environ.get("KUULO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture()
def make_app(app_config: dict[str, Any]) -> Iterator[Any]:
    """Apps on the test database with rate limits on (they are off under TESTING unless a test says so)."""
    made: list[Any] = []

    def make(**settings: Any) -> Any:
        application = create_app({**app_config, "RATELIMIT_ENABLED": True, **settings})
        made.append(application)
        return application

    yield make
    for application in made:
        db.engine(application).dispose()


@pytest.fixture()
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test alone on the shared Redis (skips when Redis cannot be reached)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as err:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {err}")
    prefix = f"kuulo-test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(client.scan_iter(match=f"*{prefix}*", count=100))
    if keys:
        client.delete(*keys)
    client.close()


def client_of(application: Any, address: str = "198.51.100.1", language: str = "en") -> Any:
    c = application.test_client()
    c.environ_base.update({"REMOTE_ADDR": address, "HTTP_ACCEPT_LANGUAGE": language})
    return c


def assert_api_429(resp: Any, window_seconds: int) -> None:
    assert resp.status_code == 429, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"] == "https://kuulo.fi/problems/too-many-requests" and body["status"] == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= window_seconds


def test_limits_are_off_in_tests_and_on_in_development_and_production(app_config):
    testing = create_app(app_config)
    development = create_app({**app_config, "TESTING": False})
    production = create_app({**app_config, "TESTING": False, "ENV_NAME": "production", "SECRET_KEY": "s",
                             "IDENTITY_HASH_KEY": "i", "PAYTRAIL_SECRET": "p"})
    try:
        assert testing.config["RATELIMIT_ENABLED"] is False
        assert development.config["RATELIMIT_ENABLED"] is True and production.config["RATELIMIT_ENABLED"] is True
        c = client_of(testing)
        assert all(c.post(APPLY_API, json={}).status_code == 422 for _ in range(12))
    finally:
        for application in (testing, development, production):
            db.engine(application).dispose()


def test_every_limited_endpoint_exists_and_takes_post(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    assert set(LIMITED) <= posts  # a renamed view must not silently lose its limit


def test_the_eleventh_form_in_a_minute_gets_the_translated_page_and_other_addresses_carry_on(make_app):
    application = make_app()  # the default limits, counted in memory
    noisy = client_of(application, language="fi")
    for _ in range(10):
        assert noisy.post("/status/subscribe", data={"email": "not-an-address"}).status_code == 200
    blocked = noisy.post("/status/subscribe", data={"email": "not-an-address"})
    assert blocked.status_code == 429 and blocked.mimetype == "text/html"
    assert "Liian monta yritystä. Yritä myöhemmin uudelleen." in blocked.get_data(as_text=True)
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert noisy.get("/status/subscribe").status_code == 200  # reading the form is not limited
    assert noisy.post(APPLY_API, json={}).status_code == 422  # each endpoint has its own counter
    other = client_of(application, address="203.0.113.9")
    assert other.post("/status/subscribe", data={"email": "not-an-address"}).status_code == 200


def test_a_limited_api_call_is_problem_json_and_documented(make_app):
    application = make_app(RATELIMIT_SUBMISSIONS="3/minute;100/hour")
    c = client_of(application)
    assert [c.post(APPLY_API, json={}).status_code for _ in range(3)] == [422, 422, 422]
    assert_api_429(c.post(APPLY_API, json={}), 60)  # API_CHECK_RESPONSES: the 429 matches the document
    documented = c.get("/api/openapi.json").get_json()["paths"][APPLY_API]["post"]["responses"]
    assert "Retry-After" in documented["429"]["headers"]


def test_the_token_endpoint_has_a_per_address_limit_besides_the_card_lockout(make_app):
    application = make_app(RATELIMIT_SIGN_IN="2/minute")
    c = client_of(application)
    for card in ("1000001", "1000002"):  # different cards: no card's own lockout is near
        assert c.post("/api/v1/token", auth=(card, "0000")).status_code == 401
    assert_api_429(c.post("/api/v1/token", auth=("1000003", "0000")), 60)


def test_two_instances_sharing_redis_count_against_one_limit(make_app, redis_prefix):
    settings = {"RATELIMIT_STORAGE_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix,
                "RATELIMIT_SUBMISSIONS": "4/minute"}
    first, second = client_of(make_app(**settings)), client_of(make_app(**settings))
    assert [c.post(APPLY_API, json={}).status_code for c in (first, second, first, second)] == [422] * 4
    assert_api_429(first.post(APPLY_API, json={}), 60)
    assert_api_429(second.post(APPLY_API, json={}), 60)
    elsewhere = client_of(make_app(**{**settings, "RATELIMIT_KEY_PREFIX": redis_prefix + "-other"}))
    assert elsewhere.post(APPLY_API, json={}).status_code == 422  # another deployment's prefix counts apart


def test_in_memory_each_instance_counts_alone(make_app):
    first, second = client_of(make_app(RATELIMIT_SUBMISSIONS="2/minute")), client_of(
        make_app(RATELIMIT_SUBMISSIONS="2/minute"))
    assert [c.post(APPLY_API, json={}).status_code for c in (first, second, first, second)] == [422] * 4
    assert_api_429(first.post(APPLY_API, json={}), 60)


def test_unreachable_redis_falls_back_to_counting_in_each_instance(make_app):
    with socket.socket() as closed:  # bound, never listening: connections are refused at once
        closed.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
        c = client_of(make_app(RATELIMIT_STORAGE_URL=url, RATELIMIT_SUBMISSIONS="2/minute"))
        assert [c.post(APPLY_API, json={}).status_code for _ in range(2)] == [422, 422]  # answered, no 500
        assert_api_429(c.post(APPLY_API, json={}), 60)


def test_a_malformed_limit_stops_start_up(app_config):
    with pytest.raises(ValueError):
        create_app({**app_config, "RATELIMIT_SUBMISSIONS": "ten a minute"})
