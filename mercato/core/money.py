"""Money as an integer number of minor units plus an ISO 4217 currency.

No float ever touches an amount: rates go through ``Decimal`` with a named rounding mode,
and :func:`allocate` splits a total by weights so that the parts always sum to the whole
(largest remainder method, ties to the earliest part).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision

from mercato.core.errors import InvalidInput


class CurrencyMismatch(InvalidInput):
    code = "core.currency_mismatch"
    message = "Amounts in {left} and {right} cannot be combined."


@lru_cache(maxsize=64)
def exponent(currency: str) -> int:
    """Return the number of minor-unit digits of ``currency`` (CNY 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in minor units (fen for CNY) of one currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Money.amount must be an int of minor units")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str, currency: str, rounding: str = ROUND_HALF_UP) -> Money:
        """Build from a major-unit decimal such as ``Decimal("12.34")`` (never a float)."""
        if isinstance(value, float):  # type: ignore[unreachable]  # a runtime guard for untyped callers
            raise TypeError("floats are not accepted for money")
        scaled = (Decimal(value) * (10 ** exponent(currency))).quantize(Decimal(1), rounding=rounding)
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        """Return the amount in major units, exactly."""
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(left=self.currency, right=other.currency)

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TypeError("multiply Money by an int quantity; use apply_rate for rates")
        return Money(self.amount * quantity, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def apply_rate(self, rate: Decimal, rounding: str = ROUND_HALF_UP) -> Money:
        """Multiply by a decimal rate (e.g. ``Decimal("0.85")`` for 15 % off) and round."""
        if not isinstance(rate, Decimal):
            raise TypeError("rates must be Decimal")
        value = (Decimal(self.amount) * rate).quantize(Decimal(1), rounding=rounding)
        return Money(int(value), self.currency)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split this amount in proportion to ``weights``; see :func:`allocate`."""
        return [Money(part, self.currency) for part in allocate(self.amount, weights)]

    def format(self, locale: str) -> str:
        """Format for display, e.g. ``¥12.34`` in zh_CN or ``CN¥12.34`` in en."""
        return format_currency(self.to_decimal(), self.currency, locale=locale)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` minor units in proportion to non-negative integer ``weights``.

    The parts always sum to ``total``. Each part gets the floor of its exact share; the units
    left over go one each to the parts with the largest remainders (ties: the earliest part).
    A negative total is split like its absolute value and negated. With all weights zero, the
    total is split evenly.
    """
    if not weights:
        raise ValueError("allocate needs at least one weight")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
        raise ValueError("weights must be non-negative ints")
    if total < 0:
        return [-part for part in allocate(-total, weights)]
    if sum(weights) == 0:
        weights = [1] * len(weights)
    weight_sum = sum(weights)
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    leftover = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in order[:leftover]:
        parts[index] += 1
    return parts
