"""Money: integer minor units, exact allocation, explicit rounding, locale formatting."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato.core.money import CurrencyMismatch, Money, allocate, exponent


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=50),
)
def test_allocation_parts_always_sum_to_the_total(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)

    assert sum(parts) == total
    assert len(parts) == len(weights)


@given(
    total=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=30),
)
def test_each_part_is_within_one_unit_of_its_exact_share(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    weight_sum = sum(weights)

    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / weight_sum
        assert abs(Decimal(part) - exact) < 1


def test_allocation_gives_leftover_units_to_largest_remainders_then_earliest() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(1000, [3333, 3333, 3334]) == [333, 333, 334]
    assert allocate(5, [0, 0]) == [3, 2]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert Money(1000, "CNY").allocate([1, 3]) == [Money(250, "CNY"), Money(750, "CNY")]


@pytest.mark.parametrize(
    ("_case", "weights"),
    [("empty", []), ("negative", [1, -1]), ("float", [1.5]), ("bool", [True])],
)
def test_allocation_rejects_bad_weights(_case: str, weights: list[object]) -> None:
    with pytest.raises(ValueError, match="weight"):
        allocate(100, weights)  # type: ignore[arg-type]


def test_arithmetic_keeps_currency_and_refuses_mixing() -> None:
    a, b = Money(1050, "CNY"), Money(250, "CNY")

    assert a + b == Money(1300, "CNY")
    assert a - b == Money(800, "CNY")
    assert -b == Money(-250, "CNY")
    assert b * 3 == 3 * b == Money(750, "CNY")
    assert (a > b, a >= b, b < a, b <= a) == (True, True, True, True)
    assert Money.zero("USD") == Money(0, "USD")
    with pytest.raises(CurrencyMismatch) as caught:
        _ = a + Money(1, "USD")
    assert caught.value.code == "core.currency_mismatch"
    for compare in (a.__lt__, a.__le__, a.__gt__, a.__ge__, a.__sub__):
        with pytest.raises(CurrencyMismatch):
            compare(Money(1, "USD"))


@pytest.mark.parametrize(
    ("_case", "build", "error"),
    [
        ("float amount", lambda: Money(1.5, "CNY"), TypeError),  # type: ignore[arg-type]
        ("bool amount", lambda: Money(True, "CNY"), TypeError),
        ("lowercase currency", lambda: Money(1, "cny"), ValueError),
        ("long currency", lambda: Money(1, "CNYY"), ValueError),
        ("float from_decimal", lambda: Money.from_decimal(1.5, "CNY"), TypeError),  # type: ignore[arg-type]
        ("multiply by float", lambda: Money(1, "CNY") * 1.5, TypeError),  # type: ignore[operator]
        ("multiply by bool", lambda: Money(1, "CNY") * True, TypeError),
        ("float rate", lambda: Money(1, "CNY").apply_rate(0.5), TypeError),  # type: ignore[arg-type]
        ("add int", lambda: Money(1, "CNY") + 1, TypeError),  # type: ignore[operator]
    ],
)
def test_refuses_floats_and_bad_values(_case: str, build: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        build()  # type: ignore[operator]


def test_decimal_conversion_uses_the_currency_exponent() -> None:
    assert exponent("CNY") == 2
    assert exponent("JPY") == 0
    assert exponent("KWD") == 3
    assert Money.from_decimal(Decimal("12.345"), "CNY") == Money(1235, "CNY")
    assert Money.from_decimal("12.345", "CNY", rounding=ROUND_DOWN) == Money(1234, "CNY")
    assert Money.from_decimal("1200", "JPY") == Money(1200, "JPY")
    assert Money(1234, "CNY").to_decimal() == Decimal("12.34")
    assert Money(5, "KWD").to_decimal() == Decimal("0.005")


def test_rates_round_with_a_named_mode() -> None:
    price = Money(1999, "CNY")

    assert price.apply_rate(Decimal("0.85")) == Money(1699, "CNY")  # 1699.15
    assert Money(25, "CNY").apply_rate(Decimal("0.5")) == Money(13, "CNY")  # half up
    assert Money(25, "CNY").apply_rate(Decimal("0.5"), rounding=ROUND_HALF_EVEN) == Money(12, "CNY")


def test_formats_for_the_locale() -> None:
    assert Money(123456, "CNY").format("zh_CN") == "¥1,234.56"
    assert Money(123456, "CNY").format("en") == "CN¥1,234.56"
    assert Money(-50, "USD").format("en") == "-$0.50"
