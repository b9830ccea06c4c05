"""Helpers for the browser tests: Chromium settings, the demo credentials, logging in through the real
forms, choosing a language with the switcher, and the axe-core check."""
from __future__ import annotations

from typing import Any

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
