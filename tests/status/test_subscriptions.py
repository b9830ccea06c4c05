"""Email subscriptions: double opt-in per component and language, unsubscribe link in every message;
patrons can stop the advance notices; a retried job or request sends nothing twice."""
from __future__ import annotations

import re
from datetime import timedelta

from app import scheduler
from app.status import queries, service
from tests import factories
from tests.status.helpers import incident, maintenance, outbox


def link_path(body: str, part: str) -> str:
    match = re.search(rf"http://kuulo\.test(/status/{part}/\S+)", body)
    assert match, body
    return match.group(1)


def subscribe(client, email="fan@example.org", language="sv", components=("reader_apps",)):
    resp = client.post("/status/subscribe", data={"email": email, "language": language,
                                                  "components": list(components)})
    assert resp.status_code == 200 and "Check your email" in resp.text
    return outbox(client.application.extensions["kuulo.sessionmaker"], "status:confirm:")


def test_nothing_is_sent_before_the_address_is_confirmed(app, client, sm, now):
    confirmations = subscribe(client)
    assert len(confirmations) == 1 and confirmations[0].language == "sv"
    maintenance(app, sm, now, components=("reader_apps",))
    assert [m.template for m in outbox(sm)] == ["status_confirm_subscription"]


def test_confirmed_subscribers_get_news_of_their_components_in_their_language(app, client, sm, now):
    confirmation = subscribe(client)[0]
    confirm = link_path(confirmation.body, "subscribe/confirm")
    assert client.get(confirm).status_code == 200  # a page with a button: link scanners confirm nothing
    assert client.post(confirm).status_code == 302
    mid = maintenance(app, sm, now, components=("reader_apps", "login"))
    maintenance(app, sm, now, components=("cd_clubs",))  # not theirs
    news = [m for m in outbox(sm) if m.template != "status_confirm_subscription"]
    assert len(news) == 1 and news[0].recipient == "fan@example.org" and news[0].language == "sv"
    assert "Uppdatering av systemet" in news[0].subject and f"/status/maintenance/{mid}" in news[0].body
    unsubscribe = link_path(news[0].body, "unsubscribe")
    assert client.post(unsubscribe).status_code == 302
    maintenance(app, sm, now, components=("reader_apps",))
    assert len([m for m in outbox(sm) if m.template != "status_confirm_subscription"]) == 1


def test_a_subscriber_without_components_hears_of_everything_including_incidents(app, client, sm, now):
    confirmation = subscribe(client, language="en", components=())
    client.post(link_path(confirmation[0].body, "subscribe/confirm"))
    iid = incident(app, sm, now, {"search": "degraded_performance"})
    with app.app_context(), sm.begin() as s:
        service.update_incident(s, queries.incident(s, iid), status="identified", bodies={"en": "Found it."},
                                impact="minor", component_statuses={"search": "degraded_performance"},
                                expected_end=None, actor="test", now=now)
    news = [m for m in outbox(sm) if m.template == "status_update"]
    assert len(news) == 2 and "Found it." in news[1].body and "State: Identified" in news[1].body


def test_tampered_or_expired_links_do_nothing(app, client, sm, now):
    confirmation = subscribe(client)[0]
    confirm = link_path(confirmation.body, "subscribe/confirm")
    assert client.post(confirm[:-3] + "xyz").status_code == 404
    app.config["FAKE_NOW"] = (now + timedelta(days=8)).isoformat()
    assert client.post(confirm).status_code == 410


def test_asking_twice_sends_one_confirmation_a_day(client, sm):
    subscribe(client)
    assert len(subscribe(client)) == 1


def test_patrons_get_notices_with_a_stop_link_that_works(app, client, sm, now):
    with sm.begin() as s:
        factories.patron(s, now, email="a@test.kuulo", pin=None)
        factories.patron(s, now, email="b@test.kuulo", pin=None)
    first = maintenance(app, sm, now, starts_in=timedelta(days=10))
    scheduler.run_job(app, "status-send-notices", now)
    notices = outbox(sm, f"status:m{first}:advance:")
    assert len(notices) == 2
    stop = link_path(notices[0].body, "notices/stop")
    assert client.get(stop).status_code == 200 and client.post(stop).status_code == 302
    assert client.post(stop).status_code == 302  # twice is fine
    second = maintenance(app, sm, now, starts_in=timedelta(days=12))
    scheduler.run_job(app, "status-send-notices", now)
    assert [m.recipient for m in outbox(sm, f"status:m{second}:advance:")] == [notices[1].recipient]


def test_patrons_who_join_after_the_notice_still_get_it_and_nobody_gets_two(app, sm, now):
    with sm.begin() as s:
        factories.patron(s, now, email="early@test.kuulo", pin=None)
    mid = maintenance(app, sm, now, starts_in=timedelta(days=5))
    scheduler.run_job(app, "status-send-notices", now)
    later = now + timedelta(days=1)
    with sm.begin() as s:
        factories.patron(s, later, email="late@test.kuulo", pin=None)
    scheduler.run_job(app, "status-send-notices", later)
    scheduler.run_job(app, "status-send-notices", later + timedelta(minutes=15))
    assert sorted(m.recipient for m in outbox(sm, f"status:m{mid}:advance:")) == ["early@test.kuulo",
                                                                                   "late@test.kuulo"]


def test_reschedule_and_cancel_reach_the_patrons_already_told(app, sm, now):
    with sm.begin() as s:
        factories.patron(s, now, email="reader@test.kuulo", language="fi", pin=None)
    told = maintenance(app, sm, now, starts_in=timedelta(days=5))
    not_yet = maintenance(app, sm, now, starts_in=timedelta(days=40))
    scheduler.run_job(app, "status-send-notices", now)
    with app.app_context(), sm.begin() as s:
        for mid in (told, not_yet):
            m = queries.maintenance(s, mid)
            service.reschedule_maintenance(s, m, scheduled_for=m.scheduled_for + timedelta(days=1),
                                           scheduled_until=m.scheduled_until + timedelta(days=1), bodies={},
                                           actor="test", now=now)
            service.cancel_maintenance(s, m, bodies={"fi": "Ei tarvita."}, actor="test", now=now)
    templates = [m.template for m in outbox(sm, f"status:m{told}:u")]
    assert templates == ["status_rescheduled", "status_cancelled"]
    assert "Ei tarvita." in outbox(sm, f"status:m{told}:u")[1].body
    assert outbox(sm, f"status:m{not_yet}:") == []
