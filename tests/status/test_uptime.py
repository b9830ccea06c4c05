"""The 90-day uptime bars: each day's worst state per component, the share of time without an outage
(breaks are announced, so they are not downtime), and a table of the eventful days next to the bars."""
from __future__ import annotations

from datetime import timedelta

from app.status import queries, service
from tests.status.helpers import incident, maintenance, set_clock


def test_outages_and_breaks_show_on_their_days_and_outages_lower_the_uptime(app, client, sm, now):
    maintenance(app, sm, now - timedelta(days=6), starts_in=timedelta(days=1), hours=2, components=("search",))
    iid = incident(app, sm, now - timedelta(days=2), {"login": "major_outage"})
    with app.app_context(), sm.begin() as s:
        service.update_incident(s, queries.incident(s, iid), status="resolved", bodies={"en": "Fixed."},
                                impact="major", component_statuses={}, expected_end=None, actor="t",
                                now=now - timedelta(days=2) + timedelta(hours=18))
    with app.app_context(), sm() as s:
        view = queries.status_view(s, now, "en")
    bars = {u.code: u for u in view.uptime}
    assert len(bars["login"].days) == 90 and bars["login"].days[-1].day == now.date()
    assert [d.status for d in bars["login"].eventful] == ["major_outage"] * len(bars["login"].eventful)
    assert 1 <= len(bars["login"].eventful) <= 2  # 18 hours may cross midnight in Helsinki
    # the period starts at midnight in Helsinki 89 days ago; it is 12.00 there now: 18 hours down
    assert bars["login"].percent == round(100 * (1 - 18 / (89 * 24 + 12)), 2)
    assert [d.status for d in bars["search"].eventful] == ["under_maintenance"] and bars["search"].percent == 100.0
    assert bars["cd_clubs"].eventful == [] and bars["cd_clubs"].percent == 100.0
    set_clock(app, now)
    page = client.get("/status", headers={"Accept-Language": "en"}).text
    assert "Uptime over the last 90 days" in page and '<svg class="status-bars"' in page
    assert "Days with breaks or disruptions: Logging in (web library and reader apps)" in page
    assert "No breaks or disruptions in the last 90 days." in page  # the quiet services say so in words
