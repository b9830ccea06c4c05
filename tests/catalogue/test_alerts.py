"""Saved searches with alerts (Tampere's [003]): a patron saves a search (text and facets) with none, daily or
weekly alerts; the job emails the records new since the last alert through the outbox, once per search and
period (a rerun after a crash sends nothing twice); every alert has a stop link that works without login."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app, scheduler
from app.accounts.models import Patron
from app.catalogue import alerts
from app.catalogue.lists_models import SavedSearch, SearchAlert
from app.catalogue.models import Record
from app.notify.models import OutboxMessage
from tests.catalogue.helpers import book, run_import, write
from tests.circulation import helpers
from tests.factories import login_patron


def setup(app, sm, now, tmp_path):
    path = write(tmp_path / "first.mrc",
                 book("1", "Tuntematon sotilas", subjects=("jatkosota",), year=1954),
                 book("2", "Täällä Pohjantähden alla", subjects=("sisällissota",), year=1959))
    assert run_import(app, str(path)).exit_code == 0
    with sm.begin() as s:
        patron_id = helpers.borrower(s, now, "lumme", email="lukija@example.fi")
        other_id = helpers.borrower(s, now, "lumme")
        cards = {pid: s.get(Patron, pid).card_number for pid in (patron_id, other_id)}
    return patron_id, other_id, cards


def import_more(app, tmp_path, name, *records):
    assert run_import(app, str(write(tmp_path / name, *records))).exit_code == 0


def outbox(sm):
    with sm() as s:
        return s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def save(client, frequency="weekly", **query):
    return client.post("/catalogue/saved-searches/new", data={"name": "", "frequency": frequency, **query})


def test_saving_listing_changing_and_deleting_a_search(app, client, sm, libraries, now, tmp_path):
    patron_id, other_id, cards = setup(app, sm, now, tmp_path)
    results = client.get("/catalogue?q=jatkosota&material_type=book").get_data(as_text=True)
    link = "/catalogue/saved-searches/new?q=jatkosota&amp;material_type=book"
    assert link in results
    assert client.get(link.replace("&amp;", "&")).status_code == 302  # log in first
    login_patron(client, cards[patron_id])
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "“jatkosota” · Material type: Book" in form and 'value="jatkosota"' in form
    assert '<input checked id="frequency-2" name="frequency" type="radio" value="weekly">' in form
    response = client.post("/catalogue/saved-searches/new", data={"name": "Sotakirjat", "frequency": "weekly",
                                                                   "q": "jatkosota", "material_type": "book"},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "The search “Sotakirjat” was saved. New titles will come to your email weekly." in text
    assert "Run the search" in text and "/catalogue?q=jatkosota&amp;material_type=book" in text
    with sm() as s:
        saved = s.scalar(select(SavedSearch))
        assert saved.query == {"q": "jatkosota", "material_type": "book"} and saved.frequency == "weekly"
        assert saved.seen_record_id == s.scalar(select(func.max(Record.id)))
    changed = client.post(f"/catalogue/saved-searches/{saved.id}/frequency", data={f"s{saved.id}-frequency": "daily"},
                          follow_redirects=True)
    assert "Alerts for “Sotakirjat”: Daily." in changed.get_data(as_text=True)
    assert client.post(f"/catalogue/saved-searches/{saved.id}/frequency",
                       data={f"s{saved.id}-frequency": "hourly"}).status_code == 422
    other = app.test_client()
    login_patron(other, cards[other_id])
    assert other.post(f"/catalogue/saved-searches/{saved.id}/delete").status_code == 404
    assert other.post(f"/catalogue/saved-searches/{saved.id}/frequency",
                      data={f"s{saved.id}-frequency": "none"}).status_code == 404
    assert "Sotakirjat" not in other.get("/catalogue/saved-searches").get_data(as_text=True)
    deleted = client.post(f"/catalogue/saved-searches/{saved.id}/delete", follow_redirects=True)
    assert "The saved search “Sotakirjat” was deleted." in deleted.get_data(as_text=True)
    assert "You have no saved searches yet." in deleted.get_data(as_text=True)


def test_hostile_saved_search_input_gets_4xx(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    assert save(client).status_code == 422  # nothing to save
    assert save(client, frequency="hourly", q="sota").status_code == 422
    assert save(client, frequency="", q="sota").status_code == 422
    weird = save(client, q="\x00<b>sota</b>" + "x" * 900, age_rating="-5", years="abc", material_type="z" * 99)
    assert weird.status_code == 303
    with sm() as s:
        saved = s.scalar(select(SavedSearch))
        assert saved.query["q"].startswith("<b>sota</b>") and len(saved.query["q"]) == 200
        assert "age_rating" not in saved.query and "years" not in saved.query
        assert len(saved.query["material_type"]) == 20 and len(saved.name) == 100
    page = client.get("/catalogue/saved-searches").get_data(as_text=True)
    assert "<b>sota</b>" not in page
    assert client.get("/catalogue/saved-searches/new?q=%00").status_code == 200
    assert client.post("/catalogue/saved-searches/999999/delete").status_code == 404
    assert client.get("/catalogue/saved-searches/stop/nonsense").status_code == 404


def _job(app, when):
    return scheduler.run_job(app, "catalogue-search-alerts", when)


def test_weekly_alert_emails_only_new_matching_records_once(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    save(client, q="jatkosota")
    run = _job(app, now)
    assert run.status == "ok" and "0 alerts queued, 1 searches without new records" in run.summary
    assert outbox(sm) == []  # nothing new → no email
    # this week is handled: a new record waits for next week's alert
    import_more(app, tmp_path, "second.mrc", book("3", "Sotaromaani", subjects=("jatkosota",)),
                book("4", "Kalaopas", subjects=("kalastus",)))
    assert "0 alerts queued" in _job(app, now + timedelta(days=1)).summary
    next_week = now + timedelta(days=7)
    assert "1 alerts queued" in _job(app, next_week).summary
    [mail] = outbox(sm)
    assert mail.recipient == "lukija@example.fi" and mail.template == "catalogue_alert"
    assert mail.subject == "1 new record for your search “jatkosota”"
    assert "Sotaromaani" in mail.body and "Kalaopas" not in mail.body and "Tuntematon sotilas" not in mail.body
    assert "http://kuulo.test/catalogue/records/" in mail.body
    assert "http://kuulo.test/catalogue/saved-searches/stop/" in mail.body
    assert mail.key.startswith("catalogue:alert:") and mail.key.endswith(":w2026-W49")
    # a rerun (same week, or the same moment) sends nothing twice
    assert "0 alerts queued" in _job(app, next_week).summary
    assert "0 alerts queued" in _job(app, next_week + timedelta(days=2)).summary
    assert len(outbox(sm)) == 1
    with sm() as s:
        alert = s.scalar(select(SearchAlert).where(SearchAlert.outbox_key == mail.key))
        assert alert.period == "w2026-W49" and len(alert.record_ids) == 1
    # the next week, the same record is not new any more
    assert "1 searches without new records" in _job(app, next_week + timedelta(days=7)).summary
    assert len(outbox(sm)) == 1


def test_daily_alert_and_no_alerts(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    save(client, frequency="daily", q="sota")
    save(client, frequency="none", q="sota", material_type="book")
    import_more(app, tmp_path, "second.mrc", book("3", "Sotaromaani", subjects=("jatkosota",)),
                book("5", "Sotapeli", subjects=("jatkosota",), leader_type="m", fixed_extra={26: "g"}, age_rating=18))
    _job(app, now)
    [mail] = outbox(sm)
    assert mail.subject == "2 new records for your search “sota”" and mail.key.endswith(":d2026-11-23")
    import_more(app, tmp_path, "third.mrc", book("6", "Sotahistoria", subjects=("sotahistoria",)))
    _job(app, now + timedelta(hours=3))  # the same day: done already
    assert len(outbox(sm)) == 1
    _job(app, now + timedelta(days=1))
    assert len(outbox(sm)) == 2 and "Sotahistoria" in outbox(sm)[1].body and "Sotaromaani" not in outbox(sm)[1].body


def test_a_rerun_after_a_crash_sends_nothing_twice(app, client, sm, libraries, now, tmp_path, monkeypatch):
    patron_id, other_id, cards = setup(app, sm, now, tmp_path)
    with app.app_context(), sm.begin() as s:
        for pid in (patron_id, other_id):
            alerts.save_search(s, patron_id=pid, name="Sota", query={"q": "sota"}, frequency="daily", now=now)
    import_more(app, tmp_path, "second.mrc", book("3", "Sotaromaani", subjects=("jatkosota",)))
    real = alerts.alert_one
    calls = []

    def crash_on_second(session, saved, when, timezone):
        calls.append(saved.id)
        if len(calls) == 2:
            real(session, saved, when, timezone)  # the message is queued, then the process dies
            raise RuntimeError("power cut")
        return real(session, saved, when, timezone)

    monkeypatch.setattr(alerts, "alert_one", crash_on_second)
    with pytest.raises(RuntimeError):
        _job(app, now)
    assert len(outbox(sm)) == 1  # the first search's transaction was committed; the second rolled back
    monkeypatch.setattr(alerts, "alert_one", real)
    assert "1 alerts queued" in _job(app, now).summary
    assert "0 alerts queued" in _job(app, now).summary
    messages = outbox(sm)
    assert len(messages) == 2 and len({m.key for m in messages}) == 2
    assert {m.recipient for m in messages} == {"lukija@example.fi", messages[1].recipient}


def test_the_outbox_key_keeps_a_lost_alert_row_from_sending_twice(app, sm, libraries, now, tmp_path):
    patron_id, _other, _cards = setup(app, sm, now, tmp_path)
    with app.app_context(), sm.begin() as s:
        saved = alerts.save_search(s, patron_id=patron_id, name="Sota", query={"q": "sota"}, frequency="daily",
                                   now=now)
        saved_id, seen = saved.id, saved.seen_record_id
    import_more(app, tmp_path, "second.mrc", book("3", "Sotaromaani", subjects=("jatkosota",)))
    _job(app, now)
    with sm.begin() as s:  # as if the alert row and the watermark were lost but the message was queued
        s.execute(SearchAlert.__table__.delete())
        s.get(SavedSearch, saved_id).seen_record_id = seen
    _job(app, now)
    assert len(outbox(sm)) == 1


def test_stop_link_works_without_login_and_says_what_it_stopped(app, client, sm, libraries, now, tmp_path):
    patron_id, _other, cards = setup(app, sm, now, tmp_path)
    login_patron(client, cards[patron_id])
    save(client, q="jatkosota")
    import_more(app, tmp_path, "second.mrc", book("3", "Sotaromaani", subjects=("jatkosota",)))
    _job(app, now)
    link = re.search(r"http://kuulo.test(/catalogue/saved-searches/stop/\S+)", outbox(sm)[0].body).group(1)
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the words below
    page = anonymous.get(link).get_data(as_text=True)
    assert "no more email alerts for the saved search “jatkosota” (“jatkosota”)" in page
    done = anonymous.post(link)
    assert done.status_code == 200
    assert "You will get no more alerts for the saved search “jatkosota”" in done.get_data(as_text=True)
    with sm() as s:
        assert s.scalar(select(SavedSearch)).frequency == "none"
    assert anonymous.post(link).status_code == 200  # twice is harmless
    assert anonymous.get(link[:-3] + "abc").status_code == 404  # a tampered signature
    with app.app_context():
        forged = alerts._signer().dumps({"s": 1, "p": 999})
    assert anonymous.get(f"/catalogue/saved-searches/stop/{forged}").status_code == 404
    assert anonymous.get("/catalogue/saved-searches/stop/" + "a" * 600).status_code == 404


def test_the_alert_arrives_over_smtp(app_config, smtp, sm, libraries, now, tmp_path):
    app = create_app({**app_config, "SMTP_PORT": smtp.port})
    patron_id, _other, _cards = setup(app, sm, now, tmp_path)
    with app.app_context(), sm.begin() as s:
        alerts.save_search(s, patron_id=patron_id, name="Sota", query={"q": "sota"}, frequency="weekly", now=now)
    import_more(app, tmp_path, "second.mrc", book("3", "Sotaromaani", subjects=("jatkosota",)))
    _job(app, now)
    scheduler.run_job(app, "deliver-outbox", now)
    [message] = smtp.messages
    assert message["To"] == "lukija@example.fi" and "Sota" in message["Subject"]
    assert "Sotaromaani" in message.get_content()


def test_period_keys():
    from datetime import UTC, datetime

    sunday_night_utc = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # Monday 00:30 in Helsinki
    assert alerts.period_of("daily", sunday_night_utc) == "d2026-11-30"
    assert alerts.period_of("weekly", sunday_night_utc) == "w2026-W49"
    assert alerts.period_of("weekly", datetime(2027, 1, 1, 12, tzinfo=UTC)) == "w2026-W53"
