"""Helpers for the browser tests: Chromium settings, the demo credentials, logging in through the real
forms, choosing a language with the switcher, and the axe-core check."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LANGUAGES = ["fi", "sv", "en"]
STAFF_PASSWORD = "kuulo-demo-2026"
PIN = "1234"
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def set_language(page: Any, code: str) -> None:
    """Choose the language with the switcher, as a person would; the cookie then holds it."""
    page.goto(f"/language/{code}?next=/")
    assert page.evaluate("document.documentElement.lang") == code


def login_patron(page: Any, card: str = "2000000001", secret: str = PIN) -> None:
    page.goto("/login")
    page.fill("#card_number", card)
    page.fill("#secret", secret)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def login_staff(page: Any, email: str, password: str = STAFF_PASSWORD) -> None:
    page.goto("/staff/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.url.endswith("/staff"), f"staff login as {email} failed: {page.url}"


def format_violations(violations: list[dict[str, Any]], url: str) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for v in violations:
        lines.append(f"\n[{v.get('impact')}] {v['id']}: {v['help']}\n    {v.get('helpUrl', '')}")
        for node in v.get("nodes", [])[:10]:
            lines.append(f"    - {', '.join(str(t) for t in node.get('target', []))}")
            lines.append(f"      {node.get('html', '')[:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n        ")
            if summary:
                lines.append(f"        {summary}")
    return "\n".join(lines)


def axe_check(page: Any) -> None:
    """Run axe-core for WCAG 2.0/2.1 A and AA; fail with a readable report if anything is violated."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    if violations:
        report = format_violations(violations, page.url)
        print(report)
        pytest.fail(report, pytrace=False)


@contextmanager
def db_session(app: Any) -> Iterator[Any]:
    """One transaction on the live server's database, for setting up what a test needs through the services."""
    from app import db

    with app.app_context(), db.get_sessionmaker(app).begin() as session:
        yield session


# ---------------------------------------------------------------- the page checks (axe, headings, landmarks)

@dataclass(frozen=True)
class PageCase:
    """One page (or page state), reached the way a person would. ``who`` logs in first (a card number or a
    staff email); ``status`` is the expected HTTP status; ``expect`` a CSS selector that shows the page is in
    the intended state."""

    name: str
    open: Callable[[Any, Any], Any]
    who: str | None = None
    status: int = 200
    has_error_summary: bool = False
    expect: str | None = None


def goto(path: str) -> Callable[[Any, Any], Any]:
    return lambda page, server: page.goto(path)


# The first element that the Tab key reaches, in document order (what a keyboard user meets first).
FIRST_TABBABLE_JS = """() => {
  const sel = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]),'
            + ' textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const el = [...document.querySelectorAll(sel)].find(e => e.tabIndex >= 0 && getComputedStyle(e).visibility !== 'hidden'
                                                        && getComputedStyle(e).display !== 'none');
  return el ? el.outerHTML : null;
}"""


# A result message (role=status or alert) that took focus when the page loaded (autofocus).
MESSAGE_HAS_FOCUS_JS = """() => { const e = document.activeElement;
  return !!e && e.hasAttribute('autofocus') && ['status', 'alert'].includes(e.getAttribute('role')); }"""


def check_page(make_context: Any, login_state: Any, live_server: Any, case: PageCase, lang: str) -> None:
    """Open the page in ``lang`` as ``case.who`` and check it: no axe-core WCAG 2.1 A/AA violations, one h1,
    the right <html lang>, the landmarks, a descriptive <title>, and a skip link that is the first Tab stop
    and moves focus to <main>."""
    page = make_context(storage_state=login_state(case.who) if case.who else None).new_page()
    set_language(page, lang)
    response = case.open(page, live_server)
    assert response is not None and response.status == case.status, f"{case.name}: {page.url}"
    if case.who:
        assert page.locator("form[action$='/logout']").count() == 1, f"logged in as {case.who}"
    if case.expect:
        assert page.locator(case.expect).count() >= 1, f"{case.name}: {case.expect!r} not on {page.url}"

    axe_check(page)

    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator("h1").count() == 1, "exactly one h1"
    assert page.locator("h1").inner_text().strip()
    title = page.title()
    assert title.endswith(" – Kuulo") and any(ch.isalpha() for ch in title.removesuffix(" – Kuulo")), \
        f"the <title> must say what the page is: {title!r}"
    for role in ("banner", "main", "contentinfo"):
        assert page.get_by_role(role).count() == 1, f"one {role} landmark"
    assert page.get_by_role("navigation").count() >= 1, "a navigation landmark"

    skip_link = page.locator("a.skip-link")
    assert skip_link.get_attribute("href") == "#main"
    assert "skip-link" in (page.evaluate(FIRST_TABBABLE_JS) or ""), "the skip link is the first Tab stop"
    if case.has_error_summary:
        # The error summary takes focus on load, so Tab continues from it: check the summary instead.
        assert page.evaluate("document.activeElement.id") == "error-summary"
        return
    if page.evaluate(MESSAGE_HAS_FOCUS_JS):
        return  # a result message took focus on load (autofocus) so that it is read first; Tab continues from it
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')"), "Tab reaches the skip link first"
    box = skip_link.bounding_box()
    viewport = page.viewport_size
    assert box and 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"] and 0 <= box["y"] < viewport["height"], \
        "the focused skip link is visible"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main", "the skip link moves focus to main"
    if page.locator("main").evaluate(
            "m => !!m.querySelector('a[href], button, input:not([type=hidden]), select, textarea')"):
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('main')"), "the next Tab stays in main"


# ---------------------------------------------------------------- keyboard-only use

# What the focused element looks like: a visible indicator is a real outline or a box-shadow.
FOCUS_STYLE_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  window.__tabStops = window.__tabStops || 0;
  if (!el.__tabStop) el.__tabStop = ++window.__tabStops;  // identity, to tell two links with the same text apart
  return {stop: el.__tabStop, tag: el.tagName.toLowerCase(), id: el.id, cls: el.className, text: (el.innerText || el.value || '').slice(0, 40),
          href: el.getAttribute('href'), type: el.getAttribute('type'), name: el.getAttribute('name'),
          outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
          outlineColor: s.outlineColor, boxShadow: s.boxShadow};
}"""


def path_of(page: Any) -> str:
    """The page's path (after the skip link the address ends in #main, and a form posted from it keeps it)."""
    return urlsplit(page.url).path


def focused(page: Any) -> dict[str, Any] | None:
    return page.evaluate(FOCUS_STYLE_JS)


def assert_focus_visible(page: Any) -> dict[str, Any]:
    info = focused(page)
    assert info is not None, "something has focus"
    outline = info["outlineStyle"] != "none" and info["outlineWidth"] > 0 and info["outlineColor"] != "rgba(0, 0, 0, 0)"
    shadow = info["boxShadow"] not in ("none", "")
    assert outline or shadow, f"no visible focus indicator on {info}"
    return info


def press(page: Any, key: str) -> dict[str, Any]:
    """Press a focus-moving key and check that the element it lands on shows focus."""
    page.keyboard.press(key)
    return assert_focus_visible(page)


def skip_to_main(page: Any) -> None:
    """Use the skip link. After a form posted from ``…#main`` the browser keeps the fragment through the
    redirect and already focuses main on load, which is just as good."""
    if page.url.endswith("#main"):
        # The fragment focuses main once the page has loaded; wait for it rather than race it.
        page.wait_for_function("document.activeElement && document.activeElement.id === 'main'", timeout=5000)
        return
    if page.evaluate(MESSAGE_HAS_FOCUS_JS):
        return  # a result message at the top of main took focus on load: Tab already continues in main
    info = press(page, "Tab")
    assert "skip-link" in info["cls"], f"first Tab stop is the skip link, not {info}"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def tab_to(page: Any, predicate: Any, limit: int = 30) -> dict[str, Any]:
    for _ in range(limit):
        info = press(page, "Tab")
        if predicate(info):
            return info
    raise AssertionError(f"Tab never reached the element (last: {focused(page)})")


def tab_through_both_ways(page: Any, limit: int = 60) -> list[Any]:
    """Tab through the whole page and back with Shift+Tab: each stop shows a focus indicator, nothing traps the
    focus, and Shift+Tab retraces the Tab order. (A radio group is one stop; Shift+Tab enters an unchosen group
    at its last button, so a group counts by its name.) Returns the stops."""
    def stop(info: dict[str, Any]) -> Any:
        return f"radio:{info['name']}" if info["type"] == "radio" else info["stop"]

    forward: list[Any] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = focused(page)
        if info is None:
            break
        assert_focus_visible(page)
        forward.append(stop(info))
    else:
        raise AssertionError(f"Tab never left the page after {limit} stops: a keyboard trap?")
    assert len(forward) >= 3 and len(set(forward)) == len(forward), forward
    backward = [stop(press(page, "Shift+Tab")) for _ in forward]
    assert backward == list(reversed(forward)), "Shift+Tab retraces the Tab order"
    return forward


# ---------------------------------------------------------------- zoom and reflow

ZOOMS = {
    "200-percent": {"viewport": {"width": 640, "height": 480}, "device_scale_factor": 2},
    "400-percent-reflow": {"viewport": {"width": 320, "height": 256}, "device_scale_factor": 4},
}
NO_HORIZONTAL_SCROLL_JS = """() => {
  const d = document.documentElement;
  const wide = [...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > d.clientWidth + 1)
                                                      .map(e => e.outerHTML.slice(0, 120));
  return {scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, wide: wide.slice(0, 5)};
}"""


def assert_no_horizontal_scrolling(page: Any) -> None:
    m = page.evaluate(NO_HORIZONTAL_SCROLL_JS)
    assert m["scrollWidth"] <= m["clientWidth"] + 1, f"horizontal scrolling on {page.url}: {m}"
