"""One set of date formats (issue 16): app/i18n.py's helpers and the Jinja filters that every page and
message uses — Finnish and Swedish conventions, British order for English (never the US 12/3/26), times in
the site's zone without a zone name — and `lang` on text in another language than the page."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import render_template_string

from app import gate
from app.i18n import format_clock, format_day, format_moment, in_lang, lang_attr

MOMENT = datetime(2026, 12, 3, 9, 4, tzinfo=UTC)  # 11.04 in Helsinki


@pytest.mark.parametrize(("language", "day", "long_day", "moment", "clock"), [
    ("fi", "3.12.2026", "3. joulukuuta 2026", "3.12.2026 klo 11.04", "11.04"),
    ("sv", "3 dec. 2026", "3 december 2026", "3 dec. 2026 kl. 11:04", "11:04"),
    ("en", "3 Dec 2026", "3 December 2026", "3 Dec 2026, 11:04", "11:04"),
])
def test_formats_per_language(app, language, day, long_day, moment, clock):
    with app.app_context():
        assert format_day(MOMENT, language) == day
        assert format_day(MOMENT.date(), language, long=True) == long_day
        assert format_moment(MOMENT, language) == moment
        assert format_clock(MOMENT, language) == clock


def test_a_day_is_the_local_day(app):
    late = datetime(2026, 12, 3, 22, 30, tzinfo=UTC)  # already 4 December in Helsinki
    with app.app_context():
        assert format_day(late, "en") == "4 Dec 2026"
        assert format_day(None, "en") == "" and format_moment(None, "en") == ""


def test_filters_in_templates_follow_the_page_language(app):
    template = "{{ d | date }} | {{ d | date('long') }} | {{ m | datetime('short') }} | {{ m | datetime('full') }}"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        text = render_template_string(template, d=date(2026, 12, 3), m=MOMENT)
    assert text == "3 Dec 2026 | 3 December 2026 | 3 Dec 2026, 11:04 | 3 December 2026, 11:04"
    assert "12/3/26" not in text and "AM" not in text
    with app.test_request_context(headers={"Accept-Language": "fi"}):
        assert render_template_string("{{ m | datetime }}", m=MOMENT) == "3.12.2026 klo 11.04"
        assert render_template_string("{{ d | date('LLLL yyyy') }}", d=date(2026, 12, 3)) == "joulukuu 2026"


def test_the_503_page_has_no_long_zone_name(client, now):
    class Closed:
        def closure(self, component, at, language):
            return gate.Closure(component, now + timedelta(hours=1, minutes=4), "http://kuulo.test/status/m/1",
                                "Maintenance break")

    gate.set_provider(Closed())
    try:
        page = client.get("/reset", headers={"Accept-Language": "en"})
    finally:
        gate.set_provider(None)
    assert page.status_code == 503
    assert "Expected to reopen: 23 November 2026, 13:04." in page.text  # 11:04 UTC is 13:04 in Helsinki
    assert "Eastern European" not in page.text and " AM" not in page.text and " PM" not in page.text


def test_lang_marks_only_other_languages(app):
    with app.test_request_context(headers={"Accept-Language": "fi"}):
        assert str(lang_attr("en")) == ' lang="en"' and str(lang_attr("fi")) == "" and str(lang_attr("")) == ""
        assert str(in_lang("A <Small> Voyage", "en")) == '<span lang="en">A &lt;Small&gt; Voyage</span>'
        assert str(in_lang("Pieni tarina", "fi")) == "Pieni tarina"
        assert 'onload="' not in str(lang_attr('en" onload="x'))  # escaped, never a new attribute


def test_emails_use_the_same_formats(app):
    from app.circulation.messages import date_text
    from app.notify.service import render_message

    context = {"club_name": "Dekkariklubi", "name": "Maija", "first_delivery": date(2027, 2, 1), "delivery_format": "cd"}
    with app.app_context():
        _, en = render_message("cdclub_joined", "en", "email", context)
        _, fi = render_message("cdclub_joined", "fi", "email", context)
        assert "1 February 2027" in en and "February 1, 2027" not in en
        assert "1. helmikuuta 2027" in fi
    assert date_text(date(2027, 2, 1), "en") == "1 February 2027"  # circulation notices' due dates
