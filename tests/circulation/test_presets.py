"""The four shipped presets load, say what the documents say, and bad presets fail clearly."""

from __future__ import annotations

import re

import pytest

from app.circulation.money import Money
from app.circulation.policy import PolicyError, RuleScope
from app.circulation.presets import (
    PRESET_DIR,
    available_presets,
    load_preset,
    parse_policy,
    parse_policy_toml,
)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def czk(text: str) -> Money:
    return Money.parse(text, "CZK")


def test_the_four_presets_are_available_and_load() -> None:
    # Other presets (e.g. celia for e-lending) may sit next to the four library presets.
    assert {"czech", "lumme", "outi", "tampere"} <= set(available_presets())
    for name in available_presets():
        policy = load_preset(name)
        assert policy.code == name
    assert load_preset("lumme") is load_preset("lumme")  # immutable, loaded once
    with pytest.raises(LookupError, match="available"):
        load_preset("helmet")


@pytest.mark.parametrize(
    ("name", "currency", "timezone"),
    [
        ("lumme", "EUR", "Europe/Helsinki"),
        ("outi", "EUR", "Europe/Helsinki"),
        ("tampere", "EUR", "Europe/Helsinki"),
        ("czech", "CZK", "Europe/Prague"),
    ],
)
def test_currency_and_timezone(name: str, currency: str, timezone: str) -> None:
    policy = load_preset(name)
    assert (policy.currency, policy.timezone) == (currency, timezone)


def test_every_preset_cites_its_seed_and_marks_chosen_values() -> None:
    seeds = {"lumme": "[001]", "outi": "[000]", "tampere": "[003]", "czech": "[004]"}
    for name, seed in seeds.items():
        text = (PRESET_DIR / f"{name}.toml").read_text(encoding="utf-8")
        assert seed in text and "CHOSEN" in text
        # Money is written as strings: no bare floats anywhere in a preset.
        assert not re.search(r"=\s*\d+\.\d+\s*(#|$)", text, re.MULTILINE)


def test_lumme_preset() -> None:
    lumme = load_preset("lumme")
    book = lumme.rules_for("mikkeli", "adult", "book")
    assert (book.loan_days, book.max_renewals, book.max_loans_total) == (28, 8, 100)
    assert book.fine.model == "per_day" and book.fine.amount == eur("0.20") and book.fine.cap == eur("6.00")
    assert book.childrens_material_fine_exempt
    assert {g.name: g.max_loans for g in lumme.limit_groups} == {
        "dvd_bluray": 20,
        "console_game_child": 5,
        "console_game_adult": 5,
    }
    assert not lumme.rules_for(None, "adult", "express_loan").holdable
    assert not lumme.rules_for(None, "adult", "object").transportable
    assert lumme.membership_revalidation_years == 10
    advance = lumme.advance_notice
    assert advance is not None and advance.opt_in and (advance.min_days, advance.max_days) == (1, 7)
    assert [(s.code, s.days, s.channels) for s in lumme.notices] == [
        ("reminder_1", 7, ("email",)),
        ("reminder_2", 14, ("letter",)),
        ("invoice", 56, ("letter",)),
        ("collection_referral", 84, ("letter",)),
    ]
    assert lumme.billing_ban.comparison == "exceeds"


def test_outi_preset_notice_prices() -> None:
    outi = load_preset("outi")
    assert [(s.days, s.fee, s.channels, s.applies_to_childrens_loans) for s in outi.notices] == [
        (7, eur("1.50"), ("email", "letter"), True),
        (35, eur("3.00"), ("email", "letter"), True),
    ]
    assert outi.rules_for(None, "adult", "book").fine.model == "none"


def test_tampere_preset() -> None:
    tampere = load_preset("tampere")
    assert tampere.billing_ban.threshold == eur("10.00") and tampere.billing_ban.comparison == "exceeds"
    assert tampere.fees.uncollected_hold == eur("1.00")
    online = tampere.online_payment
    assert online is not None and online.minimum == eur("3.00") and online.whole_balance_only
    assert "lost_item_replacement" in online.blocking_fee_kinds
    assert "lost_item_replacement" not in online.payable_fee_kinds


def test_czech_preset() -> None:
    czech = load_preset("czech")
    book = czech.rules_for("main", "adult", "book")
    assert book.fine.model == "per_started_week" and book.fine.amount == czk("2.00") and book.fine.cap is None
    ill = czech.rules_for("main", "adult", "interlibrary_loan")
    assert ill.fine.model == "flat_first_day" and ill.fine.amount == czk("80.00")
    assert ill.sources["fine"] == RuleScope(material_type="interlibrary_loan")
    assert [(s.code, s.days) for s in czech.notices] == [
        ("last_day_reminder", 0),
        ("reminder_1", 5),
        ("reminder_2", 20),
        ("reminder_3", 45),
        ("reminder_4_pre_legal", 60),
    ]
    pre_legal = czech.notices[-1]
    assert pre_legal.fee == czk("100.00") and pre_legal.channels == ("registered_letter",)
    assert not pre_legal.honours_opt_out and pre_legal.recipient == "responsible_person"
    assert czech.advance_notice is not None and not czech.advance_notice.opt_in
    assert czech.online_payment is None


# -- validation on load ---------------------------------------------------------------------------

MINIMAL = """
[library]
code = "mini"
name = "Mini library"
currency = "EUR"
timezone = "Europe/Helsinki"
categories = ["adult"]
material_types = ["book"]

[defaults]
loan_days = 28
max_renewals = 8
max_loans_total = 100
hold_pickup_days = 7
fine = { model = "per_day", amount = "0.20", cap = "6.00" }

[billing_ban]
threshold = "10.00"
"""


def test_minimal_document_loads_with_built_in_defaults() -> None:
    policy = parse_policy_toml(MINIMAL, source="mini.toml")
    rules = policy.rules_for(None, "adult", "book")
    assert rules.grace_days == 0 and rules.holdable and policy.notices == ()
    assert policy.billing_ban.comparison == "exceeds" and policy.online_payment is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("", "colour = 'blue'\n"), r"unknown top-level keys \['colour'\]"),
        (("[defaults]\n", "[defaults]\nloan_period = 3\n"), r"defaults: unknown keys \['loan_period'\]"),
        (
            ("loan_days = 28", "loan_days = 29"),
            r"mini.toml: defaults.loan_days: 29 is not a whole number in 1–28",
        ),
        (("loan_days = 28", "loan_days = 0"), "loan_days"),
        (
            ('threshold = "10.00"', "threshold = 10.0"),
            r"billing_ban.threshold: money must be a decimal string",
        ),
        (('threshold = "10.00"', 'threshold = "10.001"'), "billing_ban.threshold"),
        (('threshold = "10.00"', 'threshold = "ten"'), "billing_ban.threshold"),
        (('amount = "0.20"', 'amount = "0,20"'), r"defaults.fine.amount"),
        (('model = "per_day"', 'model = "per_hour"'), "fine model 'per_hour'"),
        (('currency = "EUR"', 'currency = "USD"'), "USD"),
        (("max_renewals = 8\n", ""), r"defaults must set \['max_renewals'\]"),
        (("[billing_ban]", "[[rules]]\nmaterial_type = 'vinyl'\nloan_days = 7\n\n[billing_ban]"), "vinyl"),
        (
            ("[billing_ban]", "[[rules]]\nmaterial_type = 'book'\nloan_dayz = 7\n\n[billing_ban]"),
            r"rules\[0\]: unknown keys",
        ),
        (
            ("[billing_ban]", "[[rules]]\nmaterial_type = 'book'\nloan_days = 30\n\n[billing_ban]"),
            r"rules\[0\].loan_days",
        ),
        (("[billing_ban]", "[fees]\nlate_fee = '1.00'\n\n[billing_ban]"), r"fees: unknown keys"),
        (
            ("[billing_ban]", "[[notices]]\ncode = 'r1'\ndays = 7\nchannels = ['email']\n\n[billing_ban]"),
            r"notices\[0\]: missing 'fee'",
        ),
        (
            (
                "[billing_ban]",
                "[[notices]]\ncode = 'r1'\ndays = 7\nchannels = ['fax']\nfee = '1.00'\n\n[billing_ban]",
            ),
            "channels",
        ),
        (
            (
                "[billing_ban]",
                "[limit_groups.dvd]\nmaterial_types = ['dvd']\nmax_loans = 20\n\n[billing_ban]",
            ),
            "limit group dvd",
        ),
        (
            (
                "[billing_ban]",
                "[online_payment]\nminimum = '3.00'\nwhole_balance_only = true\n"
                "payable_fee_kinds = ['parking']\n\n[billing_ban]",
            ),
            "unknown fee kinds",
        ),
        (("[library]", "[library\n"), "not valid TOML"),
        (("", "rules = 5\n"), r"rules: expected an array of tables"),
        (("", "limit_groups = 5\n"), r"limit_groups: expected a table"),
        (("[billing_ban]", "[advance_notice]\nopt_in = 'yes'\n\n[billing_ban]"), "advance_notice.opt_in"),
        (("[billing_ban]", "[membership]\nrevalidation_years = '10'\n\n[billing_ban]"), "revalidation_years"),
    ],
)
def test_bad_documents_fail_with_a_clear_message(change: tuple[str, str], message: str) -> None:
    old, new = change
    text = MINIMAL.replace(old, new, 1) if old else new + MINIMAL
    with pytest.raises(PolicyError, match=message) as error:
        parse_policy_toml(text, source="mini.toml")
    assert str(error.value).startswith("mini.toml")


def test_missing_sections_are_named() -> None:
    with pytest.raises(PolicyError, match=r"missing sections \['billing_ban', 'defaults'\]"):
        parse_policy({"library": {}}, source="x.toml")


def test_lumme_documents_its_childrens_fee_and_book_drop_decisions_with_the_seed_sentences() -> None:
    text = (PRESET_DIR / "lumme.toml").read_text(encoding="utf-8")
    # [001]: children's material pays only the notice letter fee — so its invoice carries no fee.
    assert "Lasten- ja nuorten aineistoista peritään ainoastaan\n# huomautuskirjeen maksu" in text
    assert [step.code for step in load_preset("lumme").notices if step.childrens_material_fee_exempt] == [
        "invoice",
        "collection_referral",
    ]
    # [001]: book-drop returns count from the next opening day, and are fined to that day.
    assert "Kirjaamme palautusluukkuun palautetut lainat palautetuiksi kirjaston seuraavana\n# aukiolopäivänä" in text
    assert "fine runs to that day" in text


def test_a_notice_fee_exemption_must_be_true_or_false() -> None:
    document = {
        "library": {"code": "x", "name": "X", "currency": "EUR", "timezone": "Europe/Helsinki",
                    "categories": ["adult"], "material_types": ["book"]},
        "defaults": {"loan_days": 14, "max_renewals": 1, "max_loans_total": 5, "hold_pickup_days": 7,
                     "fine": {"model": "none"}},
        "billing_ban": {"threshold": "10.00"},
        "notices": [{"code": "r1", "days": 7, "channels": ["letter"], "fee": "1.00",
                     "childrens_material_fee_exempt": "yes"}],
    }
    with pytest.raises(PolicyError, match="childrens_material_fee_exempt"):
        parse_policy(document)
