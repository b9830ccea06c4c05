"""Finnish personal identity codes: stdnum.fi.hetu with the 2023 century signs, temporary codes refused."""
from __future__ import annotations

from datetime import date

import pytest

from app.accounts.identity import identity_hash
from app.registration.validation import FieldError, age_on, parse_identity_code

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("code, born", [
    ("010594Y308V", date(1994, 5, 1)),   # new 1900s sign (2023)
    ("020503F2173", date(2003, 5, 2)),   # new 2000s sign (2023)
    ("131052-308T", date(1952, 10, 13)),  # the classic sign
    ("131052X308T", date(1952, 10, 13)),
    ("131052W308T", date(1952, 10, 13)),
    ("131052U308T", date(1952, 10, 13)),
    ("131052V308T", date(1952, 10, 13)),
    ("220475Y456F", date(1975, 4, 22)),
    ("070915A4826", date(2015, 9, 7)),
    ("290212B604W", date(2012, 2, 29)),  # leap day
    ("010594y308v", date(1994, 5, 1)),   # lower case is read as upper case
    (" 010594Y308V ", date(1994, 5, 1)),
])
def test_valid_codes_give_the_birth_date(code, born):
    identity = parse_identity_code(code, TODAY)
    assert identity.birth_date == born
    assert identity.value == code.strip().upper()


@pytest.mark.parametrize("code, problem", [
    ("131052-308U", "checksum"),
    ("010594Y308W", "checksum"),
    ("020503F2174", "checksum"),
    ("010594Y9087", "temporary"),   # 900–999: temporary identifiers
    ("010594Y9995", "temporary"),
    ("310252-308Y", "date"),        # 31 February
    ("290213B604W", "date"),        # no 29 February in 2013
    ("010594Y001Y", "individual-number"),
    ("010594G308V", "format"),      # G is no century sign
    ("010594Y308", "format"),
    ("010594Y308VX", "format"),
    ("abc", "format"),
    ("010130A3084", "future"),      # born in 2030
    ("", "required"),
    ("   ", "required"),
    (None, "required"),
    (12345, "not-text"),
])
def test_invalid_codes_say_what_is_wrong(code, problem):
    with pytest.raises(FieldError) as err:
        parse_identity_code(code, TODAY)
    assert err.value.code == problem


def test_a_temporary_code_with_a_wrong_check_character_is_reported_as_wrong():
    with pytest.raises(FieldError) as err:
        parse_identity_code("010594Y908X", TODAY)
    assert err.value.code == "checksum"


def test_the_century_sign_is_kept_so_two_people_stay_two():
    """Since 2023 the same date and individual number may belong to two people with different signs."""
    new, old = parse_identity_code("131052X308T", TODAY), parse_identity_code("131052-308T", TODAY)
    assert new.value == "131052X308T" and old.value == "131052-308T"
    assert identity_hash("k", new.value) != identity_hash("k", old.value)


def test_masked_form_hides_the_individual_number_and_repr_never_shows_the_code():
    identity = parse_identity_code("010594Y308V", TODAY)
    assert identity.masked == "010594Y***V"
    assert "308" not in repr(identity) and "308" not in str(identity)


def test_the_hash_is_keyed():
    assert identity_hash("key-1", "010594Y308V") != identity_hash("key-2", "010594Y308V")
    assert "010594Y308V" not in identity_hash("key-1", "010594Y308V")


@pytest.mark.parametrize("born, age", [(date(2011, 11, 23), 15), (date(2011, 11, 24), 14), (date(1994, 5, 1), 32)])
def test_age_on_a_day(born, age):
    assert age_on(born, TODAY) == age
