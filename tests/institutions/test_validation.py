"""Field checks shared by the form and the API: Y-tunnus check digit, identity codes with 2023 signs."""
from __future__ import annotations

from datetime import date

import pytest

from app.institutions import validation
from app.institutions.validation import InvalidApplication, parse_application
from tests.institutions import helpers


@pytest.mark.parametrize(("value", "expected"), [
    ("7654321-2", ("7654321-2", None)),
    ("0737546-2", ("0737546-2", None)),
    ("07375462", ("0737546-2", None)),  # without the hyphen: formatted
    (" 2345678-0 ", ("2345678-0", None)),
    ("1234567-8", ("1234567-8", "business_id_checksum")),
    ("7654321-3", ("7654321-3", "business_id_checksum")),
    ("123-4", ("123-4", "business_id_format")),
    ("ABCDEFG-1", ("ABCDEFG-1", "business_id_format")),
])
def test_business_id_is_checked_with_its_check_digit(value, expected):
    assert validation.check_business_id(value.strip()) == expected


@pytest.mark.parametrize(("code", "birth"), [
    ("150380-123P", date(1980, 3, 15)),
    ("010594Y308V", date(1994, 5, 1)),  # 2023 century sign for the 1900s
    ("240509B234C", date(2009, 5, 24)),  # 2023 century sign for the 2000s
    ("010110A234K", date(2010, 1, 1)),
])
def test_identity_codes_with_every_century_sign(code, birth):
    checked, error = validation.check_national_id(code.lower())
    assert error is None and checked == code  # upper-cased, century sign kept as given
    assert validation.birth_date_of(checked) == birth


def test_the_century_sign_is_never_normalised_away():
    # 010594Y308V and 010594-308V are different codes (different people since 2023).
    assert validation.check_national_id("010594Y308V")[0] == "010594Y308V"
    assert validation.check_national_id("010594-308V")[1] is None


@pytest.mark.parametrize(("code", "error"), [
    ("150380-123X", "national_id_checksum"),
    ("150380123P", "national_id_format"),
    ("150380G123P", "national_id_format"),
    ("310280-123P", "national_id_format"),  # no 31 February
    ("", "national_id_format"),
])
def test_bad_identity_codes(code, error):
    assert validation.check_national_id(code)[1] == error


def test_a_valid_application_parses():
    parsed = parse_application(helpers.application(business_id="07375462"))
    assert parsed.business_id == "0737546-2"
    assert parsed.responsible_person.birth_date == date(1980, 3, 15)


def test_every_problem_is_named_at_once():
    raw = helpers.application(name="", type="museum", business_id="1234567-8", postal_code="331",
                              email="not-an-email", phone="call me", consent=False,
                              responsible_person={"national_id": "150380-123X", "surname": ""})
    with pytest.raises(InvalidApplication) as caught:
        parse_application(raw)
    assert caught.value.errors == {
        "name": ["required"], "type": ["type_unknown"], "business_id": ["business_id_checksum"],
        "postal_code": ["postal_code_format"], "email": ["email_invalid"], "phone": ["phone_format"],
        "consent": ["consent_required"], "responsible_person.surname": ["required"],
        "responsible_person.national_id": ["national_id_checksum"]}


def test_consent_must_be_the_boolean_true():
    with pytest.raises(InvalidApplication) as caught:
        parse_application(helpers.application(consent="yes"))
    assert caught.value.errors == {"consent": ["consent_required"]}


def test_missing_responsible_person_object():
    raw = helpers.application()
    raw["responsible_person"] = "Riitta"
    with pytest.raises(InvalidApplication) as caught:
        parse_application(raw)
    assert set(caught.value.errors) == {"responsible_person.given_names", "responsible_person.surname",
                                        "responsible_person.email", "responsible_person.national_id"}
