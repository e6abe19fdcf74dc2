"""The storefront catalogue API carries what a shopper is shown beside each price: per SKU on a
product, per card on a list. A guest's view is kept per process, so these check it never
outlives what changes it: a promotion starting or ending, a coupon template published or
paused, a SKU's new price."""

from __future__ import annotations

import datetime as dt
from typing import Any

from httpx import AsyncClient

from mercato import catalog, promotions
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, make_listed_product, price_sku
from tests.factories.identity import signed_in_customer
from tests.factories.promotions import coupon, published_template

API = "/api/v1/catalog/products"


async def listed(price: int) -> tuple[int, list[int]]:
    """A product on sale at ``price`` and its SKU ids (red, black)."""
    product = await make_listed_product(price_amount=price)
    async with uow(write=False) as session:
        return product.id, [sku.id for sku in await catalog.list_skus(session, product_id=product.id)]


def timed(sku_id: int, price: int) -> promotions.TimedDiscountRule:
    return promotions.TimedDiscountRule(items=(promotions.TimedItem(sku_id=sku_id, price_amount=price),))


async def promotion(rule: Any, *, starts_in: dt.timedelta, lasts: dt.timedelta) -> int:
    now = clock.now()
    async with uow() as session:
        made = await promotions.create_promotion(
            session,
            data=promotions.PromotionWrite(
                name="限时折扣", rule=rule, starts_at=now + starts_in, ends_at=now + starts_in + lasts
            ),
            actor=SYSTEM,
        )
        await promotions.publish_promotion(session, promotion_id=made.id, actor=SYSTEM)
    return made.id


def offers(detail: dict[str, Any]) -> dict[int, tuple[int | None, int | None]]:
    """Per SKU: (promotion price, 券后价)."""
    return {o["sku_id"]: (o["promo_price_amount"], o["coupon_price_amount"]) for o in detail["offers"]}


async def test_a_timed_price_shows_from_its_start_to_its_end(client: AsyncClient) -> None:
    product_id, (red, black) = await listed(10000)
    await promotion(timed(red, 7900), starts_in=dt.timedelta(minutes=10), lasts=dt.timedelta(hours=1))

    before = await client.get(f"{API}/{product_id}")
    clock.advance(dt.timedelta(minutes=10))
    during = await client.get(f"{API}/{product_id}")
    listing = await client.get(API)
    clock.advance(dt.timedelta(hours=1))
    after = await client.get(f"{API}/{product_id}")

    assert offers(before.json()) == {red: (None, None), black: (None, None)}
    assert offers(during.json()) == {red: (7900, None), black: (None, None)}
    assert during.json()["offers"][0]["tags"][0]["kind"] == "timed_discount"
    card = next(c for c in listing.json()["items"] if c["id"] == product_id)
    # the card prices its cheapest SKU now: red at the timed price, the list price struck through
    assert (card["offer"]["sku_id"], card["offer"]["promo_price_amount"]) == (red, 7900)
    assert offers(after.json()) == {red: (None, None), black: (None, None)}


async def test_publishing_and_pausing_a_template_changes_the_coupon_price_at_once(
    client: AsyncClient,
) -> None:
    product_id, (red, black) = await listed(10000)
    shown = await client.get(f"{API}/{product_id}")  # the guest's view is kept from here
    template = await published_template(amount_off=1500)
    published = await client.get(f"{API}/{product_id}")
    async with uow() as session:
        await promotions.pause_coupon_template(session, template_id=template.id, actor=SYSTEM)
    paused = await client.get(f"{API}/{product_id}")

    assert offers(shown.json()) == {red: (None, None), black: (None, None)}
    assert offers(published.json()) == {red: (None, 8500), black: (None, 8500)}
    assert published.json()["offers"][0]["coupon_template_id"] == template.id
    assert offers(paused.json()) == {red: (None, None), black: (None, None)}


async def test_a_new_price_reaches_the_cards_and_the_page(client: AsyncClient) -> None:
    product_id, (red, black) = await listed(10000)
    await promotion(timed(black, 9000), starts_in=-dt.timedelta(hours=1), lasts=dt.timedelta(days=1))
    first = await client.get(API)
    await price_sku(red, 8000)
    second = await client.get(API)
    page = await client.get(f"{API}/{product_id}")

    def card_offer(listing: Any) -> tuple[int, int, int | None]:
        offer = next(c for c in listing.json()["items"] if c["id"] == product_id)["offer"]
        return offer["sku_id"], offer["list_price_amount"], offer["promo_price_amount"]

    assert card_offer(first) == (black, 10000, 9000)  # black is cheaper now at its timed price
    assert card_offer(second) == (red, 8000, None)  # red's new list price is lower still
    assert {o["sku_id"]: o["list_price_amount"] for o in page.json()["offers"]} == {red: 8000, black: 10000}


async def test_a_signed_in_shopper_sees_the_coupon_they_hold(client: AsyncClient) -> None:
    product_id, (red, black) = await listed(10000)
    alice, headers = await signed_in_customer(client)
    await coupon(alice.id, amount_off=2000, claimable=False)

    guest = await client.get(f"{API}/{product_id}")
    signed_in = await client.get(f"{API}/{product_id}", headers=headers)
    slug = signed_in.json()["slug"]
    by_slug = await client.get(f"{API}/by-slug/{slug}", headers=headers)

    assert offers(guest.json()) == {red: (None, None), black: (None, None)}
    assert offers(signed_in.json()) == {red: (None, 8000), black: (None, 8000)}
    assert signed_in.json()["offers"][0]["coupon_template_id"] is None  # held, not to claim
    assert by_slug.json()["offers"] == signed_in.json()["offers"]
