"""Browser tests: the real app (CSRF on, demo data, a fixed clock) served on loopback, driven by headless
Chromium through Playwright's sync API. One server and one browser per session, one context per test."""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, login_patron, login_staff
from tests.conftest import FIXED_NOW, empty_database_url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " — browser tests must run in CI", pytrace=False)
    pytest.skip(reason)


class LiveServer:
    """The app served by werkzeug (threaded) in a daemon thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="kuulo-live-server", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A database of its own (not the shared test database other tests empty), so demo data stays put; of the
    suite's kind, so the journeys run on PostgreSQL too."""
    _require_chromium()
    from app import create_app, db

    root = tmp_path_factory.mktemp("kuulo-browser")
    worker = re.sub(r"[^a-z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "main").lower())
    app = create_app({  # SQLite, or PostgreSQL when the suite runs on it (KUULO_TEST_DATABASE_URL)
        "DATABASE_URL": empty_database_url(root, f"kuulo_browser_{worker}"),
        "WTF_CSRF_ENABLED": True,  # the real forms, with their tokens
        "SECRET_KEY": "browser-tests",
        "MEDIA_ROOT": str(root / "media"),
        "FAKE_NOW": FIXED_NOW.isoformat(),
        "SMTP_PORT": 1,
    })
    assert app.config["WTF_CSRF_ENABLED"]
    with app.app_context():  # as `flask demo` does: some domains' loaders read current_app.config
        db.create_schema(app)
        _load_demo_data(app)
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    db.engine(app).dispose()


def _load_demo_data(app: Any) -> None:
    """The whole demo, exactly as ``flask demo`` loads it: a broken loader fails the browser tests."""
    from app import demo

    demo.load_demo(app, FIXED_NOW)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def make_context(chromium_browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Make a fresh browser context (own cookies) with ``base_url`` set; all are closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        ctx = chromium_browser.new_context(base_url=live_server.base_url, **options)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture()
def web_page(make_context: Callable[..., Any]) -> Any:
    """A page in a context of its own. (Named apart from pytest-playwright's ``page``/``new_context``, which
    launch a downloaded browser and parametrise tests by browser name.)"""
    return make_context().new_page()


@pytest.fixture(scope="session")
def login_state(chromium_browser: Any, live_server: LiveServer) -> Callable[[str], dict[str, Any]]:
    """Cookies of a session opened through the real login form, once per account and test session:
    ``make_context(storage_state=login_state("2000000003"))`` starts a test already logged in.
    A card number logs in a patron, an email address a staff user."""
    states: dict[str, dict[str, Any]] = {}

    def state(who: str) -> dict[str, Any]:
        if who not in states:
            ctx = chromium_browser.new_context(base_url=live_server.base_url)
            page = ctx.new_page()
            if "@" in who:
                login_staff(page, who)
            else:
                login_patron(page, who)
                assert page.url.endswith("/account"), f"patron login with card {who} failed: {page.url}"
            states[who] = ctx.storage_state()
            ctx.close()
        return states[who]

    return state
