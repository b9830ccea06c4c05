"""The CD clubs' settings, read once at the edge and passed to the service functions.

Settings (``KUULO_<NAME>``; the lead lists them in app/config.py):
CDCLUB_DELIVERY_DAY (15), CDCLUB_DELIVERY_SHIFT ("next_business_day"), CDCLUB_LEAD_TIME_DAYS (35),
CDCLUB_HOLIDAY_COUNTRY ("FI"), CDCLUB_DISC_KIND ("mp3"), CDCLUB_DISC_CAPACITY_MB (700),
CDCLUB_DISC_CAPACITY_MINUTES (80), CDCLUB_DEFAULT_DISC_CAP (14), CDCLUB_UNFILLED_WARNING_DAYS (14),
CDCLUB_CATCH_UP_DAYS (20), CDCLUB_RETURN_ADDRESS (""), CDCLUB_FREE_POSTAGE_MARK.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from flask import current_app

from app.cdclub.calendar import BusinessDay, CalendarRule
from app.cdclub.discs import DiscCapacity


@lru_cache(maxsize=8)
def _holidays(country: str) -> holidays.HolidayBase:
    # The holidays object fills in further years by itself when asked about them.
    return holidays.country_holidays(country)


def business_days(country: str) -> BusinessDay:
    """Monday–Friday except the country's public holidays (Finland: also Midsummer and Christmas Eve)."""
    known = _holidays(country)
    return lambda day: day.weekday() < 5 and day not in known


@dataclass(frozen=True)
class ClubSettings:
    rule: CalendarRule = field(default_factory=CalendarRule)
    holiday_country: str = "FI"
    capacity: DiscCapacity = field(default_factory=DiscCapacity)
    default_disc_cap: int = 14
    unfilled_warning_days: int = 14
    # The production-start job opens runs whose production start is at most this many days past
    # (a scheduler that was down for a week still opens them; older periods are history).
    catch_up_days: int = 20
    timezone: str = "Europe/Helsinki"
    lending_policy: str = "celia"  # the lending policy preset online club loans are made under
    return_address: tuple[str, ...] = ()  # the sender's lines on every label
    free_postage_mark: str = "Näkövammaisten kirjoitus / Literature for the blind"

    @property
    def is_business_day(self) -> BusinessDay:
        return business_days(self.holiday_country)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def start_of_day(self, day: date) -> datetime:
        """Midnight at the start of ``day`` in the clubs' time zone (a production start as a moment)."""
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.timezone))


def from_config(config: Mapping[str, Any]) -> ClubSettings:
    get = config.get
    return ClubSettings(
        rule=CalendarRule(delivery_day=int(get("CDCLUB_DELIVERY_DAY", 15)),
                          shift=get("CDCLUB_DELIVERY_SHIFT", "next_business_day"),
                          lead_time_days=int(get("CDCLUB_LEAD_TIME_DAYS", 35))),
        holiday_country=str(get("CDCLUB_HOLIDAY_COUNTRY", "FI")),
        capacity=DiscCapacity(kind=get("CDCLUB_DISC_KIND", "mp3"),
                              capacity_mb=int(get("CDCLUB_DISC_CAPACITY_MB", 700)),
                              capacity_minutes=int(get("CDCLUB_DISC_CAPACITY_MINUTES", 80))),
        default_disc_cap=int(get("CDCLUB_DEFAULT_DISC_CAP", 14)),
        unfilled_warning_days=int(get("CDCLUB_UNFILLED_WARNING_DAYS", 14)),
        catch_up_days=int(get("CDCLUB_CATCH_UP_DAYS", 20)),
        timezone=str(get("BABEL_DEFAULT_TIMEZONE", "Europe/Helsinki")),
        lending_policy=str(get("LENDING_POLICY", "celia")),
        return_address=return_address_lines(str(get("CDCLUB_RETURN_ADDRESS", "") or "")),
        free_postage_mark=str(get("CDCLUB_FREE_POSTAGE_MARK", ClubSettings.free_postage_mark) or ""),
    )


def return_address_lines(text: str) -> tuple[str, ...]:
    """``"Celia|PL 20|00030 IIRIS"`` or the same with newlines → the label's sender lines."""
    return tuple(line.strip() for line in text.replace("|", "\n").splitlines() if line.strip())


def current() -> ClubSettings:
    """The settings of the running app (at the edges: views, API, jobs, CLI)."""
    return from_config(current_app.config)
