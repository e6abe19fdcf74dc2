"""The console's order list searched by customer: the buyer's full mobile number (typed any way),
email or name, or the recipient's mobile number or name on the order, exactly; combined with the
other filters and paged."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from mercato import orders
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import SHANGHAI, lift_unpaid_limits, place
from tests.service.orders.test_reports import paid
from tests.web.pages import EN, staff_sign_in

GIFT = SHANGHAI.model_copy(update={"recipient": "韩梅梅", "phone": "+8613700001234"})


async def place_to(customer_id: int, sku: int, address: orders.AddressSnapshot) -> orders.OrderRead:
    async with uow() as session:
        return await orders.place_order(
            session,
            customer_id=customer_id,
            data=orders.PlaceOrder(
                source_key=f"gift:{customer_id}:{sku}",
                items=[orders.OrderItem(sku_id=sku, quantity=1)],
                address=address,
            ),
        )


def numbers_in(page: str) -> list[str]:
    return re.findall(r'<a href="/admin/orders/([^"]+)">', page)


async def search(client: AsyncClient, term: str, **filters: str) -> list[str]:
    page = await client.get("/admin/orders/", params={"customer": term, **filters}, headers=EN)
    assert page.status_code == 200
    return numbers_in(page.text)


async def test_orders_are_found_by_the_customer_or_the_recipient(client: AsyncClient) -> None:
    alice = await make_customer(phone="+8613812345678", email="alice@example.com", name="李雷")
    bob = await make_customer(phone="+8613900001111", email="bob@example.com", name="Bob")
    sku = (await listed_skus(price=3000))[0]
    alices = await place(alice.id, (sku, 1))
    gift = await place_to(bob.id, sku, GIFT)  # Bob sends one to 韩梅梅
    bobs = await place(bob.id, (sku, 1))  # to 李雷's address snapshot (SHANGHAI)
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    assert await search(client, "138 1234 5678") == [alices.number]
    assert await search(client, "+86 13812345678") == [alices.number]
    assert await search(client, "ALICE@example.com") == [alices.number]
    assert await search(client, "bob@example.com") == [bobs.number, gift.number]
    assert await search(client, "韩梅梅") == [gift.number]
    assert await search(client, "137-0000-1234") == [gift.number]
    # 李雷 is Alice's name and the recipient on the SHANGHAI snapshot Bob used
    assert await search(client, "李雷") == [bobs.number, alices.number]


async def test_partial_or_unknown_terms_find_nothing(client: AsyncClient) -> None:
    alice = await make_customer(phone="+8613812345678", email="alice@example.com", name="李雷")
    sku = (await listed_skus(price=3000))[0]
    await place(alice.id, (sku, 1))
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    for term in ("1381234", "alice", "李", "nobody@example.com", "13899999999", "%"):
        page = await client.get("/admin/orders/", params={"customer": term}, headers=EN)
        assert numbers_in(page.text) == [], term
        assert "No orders match." in page.text


async def test_the_customer_search_combines_with_the_other_filters(client: AsyncClient) -> None:
    alice = await make_customer(phone="+8613812345678")
    bob = await make_customer()
    sku = (await listed_skus(price=3000))[0]
    unpaid = await place(alice.id, (sku, 1))
    settled = await paid(await place(alice.id, (sku, 1)))
    await paid(await place(bob.id, (sku, 1)))
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    assert await search(client, "13812345678", status=str(orders.OrderStatus.paid)) == [settled.number]
    assert await search(client, "13812345678", status=str(orders.OrderStatus.pending_payment)) == [
        unpaid.number
    ]
    assert await search(client, "13812345678", q=settled.number) == [settled.number]


async def test_the_results_are_paged(client: AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    lift_unpaid_limits(monkeypatch)
    monkeypatch.setattr("mercato.admin.routes.orders.PAGE_SIZE", 2)
    alice = await make_customer(email="alice@example.com")
    other = await make_customer()
    sku = (await listed_skus(price=3000))[0]
    placed = [await place(alice.id, (sku, 1)) for _ in range(3)]
    await place(other.id, (sku, 1))
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    first = await client.get("/admin/orders/", params={"customer": "alice@example.com"}, headers=EN)
    link = re.search(r'href="(/admin/orders/\?[^"]+)" rel="next"', first.text)
    assert link is not None
    second = await client.get(link.group(1).replace("&amp;", "&"), headers=EN)

    assert numbers_in(first.text) == [placed[2].number, placed[1].number]
    assert numbers_in(second.text) == [placed[0].number]
    assert 'value="alice@example.com"' in first.text
