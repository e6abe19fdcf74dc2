"""凑单: products on sale with stock in a live promotion's scope, those reaching the gap first
(cheapest first), then those below it (dearest first); exclusions, sold-out and off-sale products
left out; nothing for a promotion that is not live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mercato import catalog, promotions
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, make_brand, make_category, make_listed_product
from tests.factories.promotions import make_promotion, reduction

_versions = iter(range(1, 10_000))


async def stocked(price: int, *, available: int = 5, **fields: Any) -> int:
    """A product on sale at ``price`` whose first SKU has ``available`` units: its id."""
    product = await make_listed_product(price_amount=price, **fields)
    first = await first_sku(product.id)
    async with uow() as session:
        await catalog.apply_stock_level(session, sku_id=first, available=available, version=next(_versions))
    return product.id


async def first_sku(product_id: int) -> int:
    async with uow(write=False) as session:
        return (await catalog.list_skus(session, product_id=product_id))[0].id


async def fillers(
    promotion_id: int, gap: int, *, exclude: Sequence[int] = (), limit: int = 6
) -> list[tuple[int, int]]:
    async with uow(write=False) as session:
        cards = await promotions.filler_products(
            session, promotion_id=promotion_id, gap_amount=gap, exclude_product_ids=exclude, limit=limit
        )
    return [(card.id, card.min_price_amount) for card in cards]


async def test_those_reaching_the_gap_come_first_cheapest_first_then_the_dearest_below_it() -> None:
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    home = await make_category("家居")
    p1500 = await stocked(1500, category_id=men.id)
    p4000 = await stocked(4000, category_id=clothing.id)
    p2500 = await stocked(2500, category_id=men.id)
    p900 = await stocked(900, category_id=men.id)
    p3000 = await stocked(3000, category_id=men.id)
    await stocked(2600, category_id=home.id)  # out of scope
    promo = await make_promotion(
        reduction((19900, 2000)), scope=promotions.Scope(all_goods=False, category_ids=(clothing.id,))
    )

    assert await fillers(promo.id, 2500) == [
        (p2500, 2500),
        (p3000, 3000),
        (p4000, 4000),
        (p1500, 1500),
        (p900, 900),
    ]
    assert await fillers(promo.id, 2500, limit=2) == [(p2500, 2500), (p3000, 3000)]
    assert await fillers(promo.id, 5000) == [
        (p4000, 4000),
        (p3000, 3000),
        (p2500, 2500),
        (p1500, 1500),
        (p900, 900),
    ]


async def test_exclusions_the_cart_brands_and_skus() -> None:
    acme = await make_brand("Acme")
    in_cart = await stocked(3000, brand_id=acme.id)
    excluded = await stocked(3100, brand_id=acme.id)
    kept = await stocked(3200, brand_id=acme.id)
    only_excluded_in_stock = await stocked(3050, brand_id=acme.id)
    named = await stocked(5000)
    await stocked(3300)  # neither the brand nor named
    promo = await make_promotion(
        promotions.FreeShippingRule(threshold_amount=9900),
        scope=promotions.Scope(
            all_goods=False,
            brand_ids=(acme.id,),
            sku_ids=(await first_sku(named),),
            exclude_product_ids=(excluded,),
            exclude_sku_ids=(await first_sku(only_excluded_in_stock),),
        ),
    )

    assert await fillers(promo.id, 3000, exclude=[in_cart]) == [(kept, 3200), (named, 5000)]


async def test_a_sold_out_or_off_sale_product_is_never_a_filler() -> None:
    shown = await stocked(2000)
    await stocked(2100, available=0)  # sold out
    off_sale = await stocked(2200)
    async with uow() as session:
        await catalog.take_off_sale(
            session, product_id=off_sale, data=catalog.TakeOffSale(reason="停售"), actor=SYSTEM
        )
    promo = await make_promotion(reduction((9900, 1000)))  # the whole shop

    assert await fillers(promo.id, 1000) == [(shown, 2000)]


async def test_nothing_for_an_unknown_or_not_live_promotion() -> None:
    product = await stocked(2000)
    paused = await make_promotion(reduction((9900, 1000)))
    async with uow() as session:
        await promotions.pause_promotion(session, promotion_id=paused.id, actor=SYSTEM)
    draft = await make_promotion(reduction((9900, 1000)), publish=False)
    timed = await make_promotion(
        promotions.TimedDiscountRule(
            items=(promotions.TimedItem(sku_id=await first_sku(product), percent_off=10),)
        )
    )

    for promotion_id in (404, paused.id, draft.id, timed.id):
        assert await fillers(promotion_id, 1000) == []
