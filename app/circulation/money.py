"""Exact money: integer minor units plus an ISO 4217 currency code.

Fees and fines are never floats (0.1 + 0.2 != 0.3) and never text. Arithmetic and comparison
refuse to mix currencies, because a EUR fine added to a CZK fee is always a bug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Digits after the decimal point per supported currency. Only currencies a preset uses are listed,
# so that a typo ("EUT") or a currency with other minor units (JPY) fails loudly.
MINOR_UNIT_DIGITS: dict[str, int] = {"EUR": 2, "CZK": 2}

_DECIMAL_TEXT = re.compile(r"-?\d+(?:\.\d{1,2})?")


def _decimal_text(amount: Decimal, digits: int) -> str:
    """The Decimal as plain text with ``digits`` decimals, refusing anything that would round."""
    try:
        quantized = amount.quantize(Decimal(1).scaleb(-digits))
    except InvalidOperation:
        raise ValueError(f"not a money amount: {amount!r}") from None
    if quantized != amount:
        raise ValueError(f"not a money amount: {amount!r} (at most {digits} decimals)")
    return format(quantized, "f")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents, haléře) of one currency."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; Money(True, "EUR") is a bug, not one cent.
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise ValueError(f"Money needs integer minor units, got {self.minor!r}")
        if self.currency not in MINOR_UNIT_DIGITS:
            raise ValueError(f"unsupported currency {self.currency!r}")

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str | Decimal | int, currency: str) -> Money:
        """Money from a decimal string ("1.50"), a Decimal or whole units (int).

        Floats are refused: by the time a value is a float it may already be inexact. More than
        two decimals is refused rather than rounded, because silently rounding a fee is wrong.
        """
        if isinstance(text, bool) or isinstance(text, float):
            raise ValueError(f"refusing to read money from {type(text).__name__} {text!r}")
        digits = MINOR_UNIT_DIGITS.get(currency)
        if digits is None:
            raise ValueError(f"unsupported currency {currency!r}")
        if isinstance(text, int):
            return cls(text * 10**digits, currency)
        if isinstance(text, Decimal):
            text = _decimal_text(text, digits)
        if not isinstance(text, str) or not _DECIMAL_TEXT.fullmatch(text):
            raise ValueError(f"not a money amount: {text!r} (expected e.g. '1.50')")
        negative = text.startswith("-")
        whole, _, fraction = text.lstrip("-").partition(".")
        minor = int(whole) * 10**digits + int(fraction.ljust(digits, "0") or "0")
        return cls(-minor if negative else minor, currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """Sum of amounts, zero when there are none (``sum()`` would start from int 0)."""
        result = cls.zero(currency)
        for amount in amounts:
            result = result + amount
        return result

    # -- arithmetic -----------------------------------------------------------------------------

    def _same_currency(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same_currency(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same_currency(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            raise TypeError(f"Money can only be multiplied by an int, got {factor!r}")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same_currency(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same_currency(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same_currency(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same_currency(other).minor

    # -- inspection -----------------------------------------------------------------------------

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    @property
    def is_positive(self) -> bool:
        return self.minor > 0

    def to_decimal(self) -> Decimal:
        """The amount in major units with exactly the currency's decimals: Decimal('1.50')."""
        return Decimal(self.minor).scaleb(-MINOR_UNIT_DIGITS[self.currency])

    def __str__(self) -> str:
        return f"{self.to_decimal()} {self.currency}"
