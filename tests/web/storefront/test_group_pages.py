"""拼团 pages: the product page's group block with the groups close to complete, an offer's page
with its rules and disclosure, a group's shared page, and joining through the confirm page (a
refusal re-renders it with the reason and places nothing)."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato import identity
from mercato.core.db import uow
from tests.factories.checkout import ADDRESS
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.social import buyer, flash_shop, group_offer, open_group, pay
from tests.web.pages import EN, alert_of, csrf_of, sign_in
from tests.web.storefront.test_flash_sale_pages import form_values

pytestmark = pytest.mark.usefixtures("handlers")

TOTAL = 1990 + 800


async def signed_in(client: AsyncClient, phone: str) -> int:
    customer = await make_customer(phone=phone)
    async with uow() as s:
        await identity.add_address(
            s,
            customer_id=customer.id,
            data=identity.AddressWrite(**{k: v for k, v in ADDRESS.items() if k != "is_default"}),  # type: ignore[arg-type]
        )
    client.cookies.clear()
    await sign_in(client, phone, PASSWORD)
    return customer.id


async def test_the_product_page_shows_the_offer_and_the_groups_close_to_complete(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await group_offer(red, price=1990, size=3, simulated=True)
    opened = await open_group(await buyer(), offer.id, total=TOTAL)
    await pay(opened.payment_id)
    async with uow(write=False) as s:
        from mercato import catalog  # noqa: PLC0415

        product = await catalog.get_product(s, product_id=offer.product_id)

    page = await client.get(f"/p/{product.slug}", headers=EN)
    offer_page = await client.get(f"/group-offers/{offer.id}", headers=EN)
    group_page = await client.get(f"/groups/{opened.group_id}", headers=EN)

    assert page.status_code == 200
    assert 'id="group-block-title"' in page.text
    assert "2 more needed" in page.text
    assert f'href="/groups/{opened.group_id}"' in page.text
    assert 'id="group-simulated"' in offer_page.text  # 模拟成团 is disclosed on the offer
    assert group_page.text.count('class="group-seat group-seat-taken"') == 1
    assert group_page.text.count('class="group-seat" aria-label="Empty seat"') == 2


async def test_joining_through_the_page_and_a_refusal_that_changes_nothing(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await group_offer(red, price=1990, size=2)
    leader = await signed_in(client, "+8613800138011")
    opened = await open_group(leader, offer.id, total=TOTAL)
    await pay(opened.payment_id)

    own = await client.get(f"/groups/{opened.group_id}/join", headers=EN)
    await signed_in(client, "+8613800138012")
    confirm = await client.get(f"/groups/{opened.group_id}/join", headers=EN)
    values = form_values(confirm.text.replace('id="group-form"', 'id="flash-form"'))
    joined = await client.post(f"/groups/{opened.group_id}/join", data=values, headers=EN)
    await pay(int(joined.headers["location"].removeprefix("/pay/")))
    await signed_in(client, "+8613800138013")
    late = await client.get(f"/groups/{opened.group_id}/join", headers=EN)
    refused = await client.post(
        f"/groups/{opened.group_id}/join",
        data={**values, "csrf_token": csrf_of(late), "idempotency_key": "late-joiner-key-1"},
        headers=EN,
    )

    assert own.status_code == 409
    assert alert_of(own) == "You are already in this group."
    assert values["expected_total_amount"] == str(TOTAL)
    assert (joined.status_code, joined.headers["location"].startswith("/pay/")) == (303, True)
    assert (late.status_code, refused.status_code) == (409, 409)
    assert alert_of(refused) == "This group is full. Open a new group or join another one."
