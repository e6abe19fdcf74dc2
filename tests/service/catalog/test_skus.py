"""SKUs from spec combinations: kept, created, disabled and re-enabled; codes, prices, price breaks."""

from __future__ import annotations

import pytest

from mercato import catalog
from mercato.catalog.models import PriceBreak, Sku
from mercato.catalog.service import skus as skus_service
from mercato.core.db import uow
from tests.factories.catalog import (
    SYSTEM,
    audit_actions,
    count,
    get_product,
    make_listed_product,
    make_priced_product,
    make_product,
    price_sku,
    set_specs,
)


def table(skus: list[catalog.SkuRead]) -> list[tuple[str, str, str, int]]:
    return [(sku.code, sku.spec_key, sku.status.value, sku.price_amount) for sku in skus]


async def test_generates_one_sku_per_combination_in_attribute_order() -> None:
    product = await make_product()

    skus = await set_specs(product.id, {"size": ["M", "S"], "colour": ["红色", "黑色"]})

    p = product.id
    assert table(skus) == [
        (f"{p}-1", "colour=红色;size=M", "active", 0),
        (f"{p}-2", "colour=红色;size=S", "active", 0),
        (f"{p}-3", "colour=黑色;size=M", "active", 0),
        (f"{p}-4", "colour=黑色;size=S", "active", 0),
    ]
    assert skus[0].spec == {"colour": "红色", "size": "M"}
    assert skus[0].currency == "CNY"


async def test_no_specs_make_a_single_sku() -> None:
    product = await make_product()

    skus = await set_specs(product.id, {})

    assert table(skus) == [(f"{product.id}-1", "", "active", 0)]


async def test_changing_specs_keeps_existing_skus_disables_removed_and_re_enables_returning_ones() -> None:
    product = await make_product()
    first = await set_specs(product.id, {"colour": ["红色", "黑色"]})
    await price_sku(first[0].id, 9900)
    await price_sku(first[1].id, 10900)
    p = product.id

    second = await set_specs(product.id, {"colour": ["红色", "白色"]})
    third = await set_specs(product.id, {"colour": ["红色", "黑色", "白色"]})

    assert table(second) == [
        (f"{p}-1", "colour=红色", "active", 9900),
        (f"{p}-2", "colour=黑色", "disabled", 10900),
        (f"{p}-3", "colour=白色", "active", 0),
    ]
    assert table(third) == [
        (f"{p}-1", "colour=红色", "active", 9900),
        (f"{p}-2", "colour=黑色", "active", 10900),
        (f"{p}-3", "colour=白色", "active", 0),
    ]
    assert [sku.id for sku in third[:2]] == [sku.id for sku in first]
    assert await count(Sku) == 3


async def test_adding_a_spec_attribute_disables_the_old_combinations() -> None:
    product = await make_product()
    await set_specs(product.id, {"colour": ["红色"]})

    skus = await set_specs(product.id, {"colour": ["红色"], "size": ["S"]})

    assert table(skus) == [
        (f"{product.id}-1", "colour=红色", "disabled", 0),
        (f"{product.id}-2", "colour=红色;size=S", "active", 0),
    ]


async def test_product_price_range_follows_the_active_skus() -> None:
    product = await make_product()
    skus = await set_specs(product.id, {"colour": ["红色", "黑色", "白色"]})
    for sku, price in zip(skus, (9900, 12900, 15900), strict=True):
        await price_sku(sku.id, price)

    priced = await get_product(product.id)
    await set_specs(product.id, {"colour": ["红色", "黑色"]})
    narrowed = await get_product(product.id)

    assert (priced.min_price_amount, priced.max_price_amount) == (9900, 15900)
    assert (narrowed.min_price_amount, narrowed.max_price_amount) == (9900, 12900)


async def test_given_codes_are_used_and_auto_codes_skip_taken_ones() -> None:
    other = await make_product()
    product = await make_product()
    await set_specs(
        other.id, {"colour": ["红色"]}, sku_codes=[{"spec": {"colour": "红色"}, "code": f"{product.id}-1"}]
    )

    skus = await set_specs(
        product.id,
        {"colour": ["红色", "黑色"]},
        sku_codes=[{"spec": {"colour": "黑色"}, "code": "TEE-BLACK"}],
    )

    assert [sku.code for sku in skus] == [f"{product.id}-2", "TEE-BLACK"]


async def test_a_code_used_by_another_product_is_refused_and_nothing_changes() -> None:
    other = await make_product()
    await set_specs(other.id, {"colour": ["红色"]}, sku_codes=[{"spec": {"colour": "红色"}, "code": "TAKEN"}])
    product = await make_product()
    await set_specs(product.id, {"colour": ["红色"]})
    before = (await count(Sku), await audit_actions())

    with pytest.raises(catalog.DuplicateSkuCode) as refused:
        await set_specs(
            product.id,
            {"colour": ["红色", "黑色"]},
            sku_codes=[{"spec": {"colour": "黑色"}, "code": "TAKEN"}],
        )
    async with uow(write=False) as session:
        sku = (await catalog.list_skus(session, product_id=product.id))[0]
    with pytest.raises(catalog.DuplicateSkuCode):
        async with uow() as session:
            await catalog.update_sku(
                session, sku_id=sku.id, data=catalog.SkuUpdate(code="TAKEN"), actor=SYSTEM
            )

    assert refused.value.params == {"sku_code": "TAKEN"}
    assert (await count(Sku), await audit_actions()) == before


async def test_unknown_spec_codes_and_values_are_field_errors() -> None:
    product = await make_product()

    with pytest.raises(catalog.InvalidAttributes) as refused:
        await set_specs(product.id, {"colour": ["红色", "紫色"], "material": ["棉"], "flavour": ["甜"]})

    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("body", "specs", "colour", 1), "catalog.unknown_attribute_value"),
        (("body", "specs", "material"), "catalog.unknown_attribute"),  # a param, not a spec
        (("body", "specs", "flavour"), "catalog.unknown_attribute"),
    ]
    assert await count(Sku) == 0


async def test_too_many_combinations_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(skus_service, "MAX_SKUS", 8)
    product = await make_product()

    with pytest.raises(catalog.TooManySkus) as refused:
        await set_specs(product.id, {"colour": ["红色", "黑色", "白色"], "size": ["S", "M", "L"]})

    assert refused.value.params == {"count": 9, "max_skus": 8}
    assert await count(Sku) == 0


async def test_unit_prices_must_fall_as_quantity_rises() -> None:
    _product, skus = await make_priced_product(price_amount=10000)

    with pytest.raises(catalog.PriceInvalid) as refused:
        await price_sku(
            skus[0].id,
            10000,
            price_breaks=[
                {"min_quantity": 50, "unit_price_amount": 9000},
                {"min_quantity": 10, "unit_price_amount": 8000},
            ],
        )

    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("body", "price_breaks"), "catalog.price_break_invalid")
    ]


async def test_price_breaks_are_replaced_and_checked() -> None:
    product, skus = await make_priced_product(price_amount=10000)

    sku = await price_sku(
        skus[0].id,
        10000,
        price_breaks=[
            {"min_quantity": 10, "unit_price_amount": 9000},
            {"min_quantity": 50, "unit_price_amount": 8000},
        ],
    )
    with pytest.raises(catalog.PriceInvalid) as refused:
        await price_sku(
            skus[0].id,
            10000,
            price_breaks=[
                {"min_quantity": 10, "unit_price_amount": 12000},
                {"min_quantity": 10, "unit_price_amount": 9000},
            ],
        )

    assert [(b.min_quantity, b.unit_price_amount) for b in sku.price_breaks] == [(10, 9000), (50, 8000)]
    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("body", "price_breaks", 0, "unit_price_amount"), "catalog.price_break_invalid"),
        (("body", "price_breaks", 1, "min_quantity"), "catalog.price_break_invalid"),
    ]
    assert await count(PriceBreak) == 2


async def test_a_live_products_price_must_stay_within_the_market_price() -> None:
    product = await make_listed_product(price_amount=9900)
    async with uow(write=False) as session:
        sku = (await catalog.list_skus(session, product_id=product.id))[0]

    with pytest.raises(catalog.PriceInvalid) as refused:
        await price_sku(sku.id, 12900, market_price_amount=10900)
    lowered = await price_sku(sku.id, 8900, market_price_amount=10900)

    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("body", "price_amount"), "catalog.price_above_market_price")
    ]
    assert (lowered.price_amount, lowered.market_price_amount) == (8900, 10900)
    assert (await get_product(product.id)).min_price_amount == 8900


async def test_a_sku_update_is_audited_with_what_changed() -> None:
    _product, skus = await make_priced_product(price_amount=9900)
    before = await audit_actions()

    await price_sku(skus[0].id, 8800, barcode="6901234567892")

    assert await audit_actions() == [*before, "sku.update"]


async def test_re_enabling_a_sku_from_old_specs_is_refused() -> None:
    product = await make_product()
    old = await set_specs(product.id, {"colour": ["红色"]})
    await set_specs(product.id, {"colour": ["红色"], "size": ["S"]})

    with pytest.raises(catalog.SkuSpecMismatch):
        async with uow() as session:
            await catalog.update_sku(
                session,
                sku_id=old[0].id,
                data=catalog.SkuUpdate(status=catalog.SkuStatus.active),
                actor=SYSTEM,
            )


async def test_specs_of_a_product_on_sale_cannot_change() -> None:
    product = await make_listed_product()

    with pytest.raises(catalog.ProductNotEditable):
        await set_specs(product.id, {"colour": ["白色"]})
