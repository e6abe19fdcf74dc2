"""Checkout pages: the steps (address → delivery → review → place), one order for a double
submit, a price that moved, buy-now, the pay page, the sandbox payment and the result page,
and what other customers and forged forms cannot do."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode, urlsplit

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select, update

from mercato import catalog, checkout, identity, inventory, orders
from mercato.cart.models import Cart, CartLine
from mercato.core import events
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.orders.models import Order
from mercato.payments.models import Payment
from mercato.payments.providers.base import PaymentToCreate, ProviderCreated
from mercato.payments.providers.registry import set_provider
from mercato.pricing.models import ShippingTemplateRow
from tests.factories.catalog import SYSTEM
from tests.factories.checkout import ADDRESS, open_shop
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.payments import pay_on_gateway, read_payment
from tests.web.pages import EN, csrf_of, hx_csrf_of, sign_in

pytestmark = pytest.mark.usefixtures("handlers")


def hidden(page: Response) -> dict[str, str]:
    """The hidden fields of the page's place-order form (its state, total and key)."""
    form = page.text[page.text.index('action="/checkout/place"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


async def counts() -> tuple[int, int]:
    async with uow(write=False) as s:
        placed = (await s.execute(select(func.count()).select_from(Order))).scalar_one()
        paying = (await s.execute(select(func.count()).select_from(Payment))).scalar_one()
    return placed, paying


async def customer_with_address(email: str, **address: str) -> tuple[int, int]:
    """A customer with a default address (``address`` changes its fields): (customer id, address id)."""
    customer = await make_customer(email=email)
    async with uow() as s:
        added = await identity.add_address(
            s, customer_id=customer.id, data=identity.AddressWrite(**{**ADDRESS, **address})
        )
    return customer.id, added.id


async def shopper(client: AsyncClient, email: str = "mei@example.com", **address: str) -> tuple[int, int]:
    """A signed-in customer with a default address: (customer id, address id)."""
    ids = await customer_with_address(email, **address)
    await sign_in(client, email, PASSWORD)
    return ids


async def ready_to_check_out(client: AsyncClient, quantity: int = 1, **shop: int) -> tuple[int, int]:
    """A signed-in shopper with a default address and ``quantity`` of the shop's red SKU in the
    cart: (red SKU id, address id)."""
    red, _black = await open_shop(**shop)
    _customer_id, address_id = await shopper(client)
    await add_to_cart(client, red, quantity)
    return red, address_id


async def add_to_cart(client: AsyncClient, sku_id: int, quantity: int) -> None:
    page = await client.get("/cart", headers=EN)
    added = await client.post(
        "/cart/add", data={"sku_id": str(sku_id), "quantity": str(quantity), "csrf_token": hx_csrf_of(page)}
    )
    assert added.status_code == 303


async def review(client: AsyncClient, query: str) -> Response:
    page = await client.get(f"/checkout/review?{query}", headers=EN)
    assert page.status_code == 200, page.text
    return page


async def place(client: AsyncClient, review_page: Response, **fields: str) -> Response:
    """Post the review page's place-order form (``fields`` add to or replace its hidden ones)."""
    return await client.post(
        "/checkout/place",
        data={**hidden(review_page), **fields, "csrf_token": csrf_of(review_page)},
        headers=EN,
    )


async def only_order_number() -> str:
    async with uow(write=False) as s:
        return (await s.execute(select(Order.number))).scalar_one()


@asynccontextmanager
async def other_client(app: object) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as other:
        yield other


async def test_a_shopper_walks_through_checkout_and_a_double_submit_places_one_order(
    client: AsyncClient,
) -> None:
    _red, address_id = await ready_to_check_out(client, 2, price=3000, stock=5)

    step1 = await client.get("/checkout", headers=EN)
    step2 = await client.get(f"/checkout/delivery?address_id={address_id}", headers=EN)
    step3 = await review(client, f"address_id={address_id}&delivery=standard")
    first = await place(client, step3, kind="none", note="工作日送", provider="sandbox")
    second = await place(client, step3, kind="none", note="工作日送", provider="sandbox")

    assert step1.status_code == 200
    assert f'name="address_id" value="{address_id}" checked' in step1.text
    assert 'aria-current="step"' in step1.text
    assert step2.status_code == 200
    assert 'value="standard" checked' in step2.text
    assert 'data-total="7000"' in step3.text
    assert hidden(step3)["expected_total_amount"] == "7000"
    assert re.fullmatch(r"[A-Za-z0-9_\-]{32}", hidden(step3)["idempotency_key"])
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert re.fullmatch(r"/pay/\d+", first.headers["location"])
    assert await counts() == (1, 1)
    async with uow(write=False) as s:
        order = (await s.execute(select(Order))).scalar_one()
        assert (order.total_amount, order.note) == (7000, "工作日送")
        assert (await s.execute(select(Cart.status))).scalars().all() == ["checking_out"]


async def test_the_sandbox_payment_pays_the_order_and_the_result_page_says_paid(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client, price=3000, stock=5)
    step3 = await review(client, f"address_id={address_id}&delivery=express")
    placed = await place(client, step3, provider="sandbox")
    pay_path = placed.headers["location"]
    payment_id = int(pay_path.rsplit("/", 1)[1])

    pay_page = await client.get(pay_path, headers=EN)
    go = await client.get(f"{pay_path}/go")
    payment = await read_payment(payment_id)
    number = await only_order_number()
    waiting = await client.get(f"/checkout/result/{number}", headers=EN)
    await pay_on_gateway(client, payment)
    await events.deliver_pending()
    await events.deliver_pending()
    back = await client.get(f"/checkout/return?reference=order:{payment.reference.split(':')[1]}")
    paid = await client.get(f"/checkout/result/{number}", headers=EN)
    polled = await client.get(f"/pay/{payment_id}/status", headers={**EN, "HX-Request": "true"})
    pay_again = await client.get(pay_path)

    assert pay_page.status_code == 200
    assert f'href="/pay/{payment_id}/go"' in pay_page.text
    assert "Pay in the sandbox" in pay_page.text
    assert (go.status_code, urlsplit(go.headers["location"]).path) == (
        303,
        urlsplit(payment.pay_url or "").path,
    )
    assert 'data-outcome="waiting"' in waiting.text
    assert 'hx-trigger="every 3s"' in waiting.text
    assert (back.status_code, back.headers["location"]) == (303, f"/checkout/result/{number}")
    assert paid.status_code == 200
    assert 'data-outcome="paid"' in paid.text
    assert "Paid. Thank you for your order!" in paid.text
    assert 'hx-trigger="every 3s"' not in paid.text
    assert f'href="/account/orders/{number}"' in paid.text
    assert polled.headers["hx-redirect"] == f"/checkout/result/{number}"
    assert (pay_again.status_code, pay_again.headers["location"]) == (303, f"/checkout/result/{number}")
    async with uow(write=False) as s:
        order = (await s.execute(select(Order))).scalar_one()
        assert (order.status, order.total_amount) == (
            orders.OrderStatus.paid,
            3000 + 800,
        )  # no express surcharge set
        assert (await s.execute(select(func.count()).select_from(CartLine))).scalar_one() == 0


async def test_a_failed_payment_can_be_paid_again(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client, price=3000, stock=5)
    step3 = await review(client, f"address_id={address_id}")
    placed = await place(client, step3)
    payment_id = int(placed.headers["location"].rsplit("/", 1)[1])
    await pay_on_gateway(client, await read_payment(payment_id), outcome="fail")
    number = await only_order_number()

    failed = await client.get(f"/checkout/result/{number}", headers=EN)
    again = await client.post(
        f"/pay/{payment_id}", data={"provider": "sandbox", "csrf_token": csrf_of(failed)}
    )

    assert 'data-outcome="failed"' in failed.text
    assert "The payment failed." in failed.text
    assert again.status_code == 303
    new_id = int(again.headers["location"].rsplit("/", 1)[1])
    assert new_id != payment_id
    assert (await read_payment(new_id)).status.value == "pending"
    assert await counts() == (1, 2)


async def test_a_price_change_between_review_and_place_shows_the_new_price_and_places_nothing(
    client: AsyncClient,
) -> None:
    red, address_id = await ready_to_check_out(client, price=3000, stock=5)
    step3 = await review(client, f"address_id={address_id}")
    async with uow() as s:
        await catalog.update_sku(s, sku_id=red, data=catalog.SkuUpdate(price_amount=3500), actor=SYSTEM)

    refused = await place(client, step3)

    assert refused.status_code == 409
    assert 'id="price-changed"' in refused.text
    assert "Prices changed since you last saw them" in refused.text
    assert "The new total is CN¥43.00." in refused.text
    assert hidden(refused)["expected_total_amount"] == "4300"
    assert hidden(refused)["idempotency_key"] != hidden(step3)["idempotency_key"]
    assert await counts() == (0, 0)


async def test_a_company_invoice_needs_a_valid_tax_id_next_to_the_field(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client)
    step3 = await review(client, f"address_id={address_id}")

    refused = await place(client, step3, kind="company", title="某某公司")

    assert refused.status_code == 422
    assert 'id="place-tax_id-error"' in refused.text
    assert 'value="某某公司"' in refused.text
    assert hidden(refused)["idempotency_key"] == hidden(step3)["idempotency_key"]
    assert await counts() == (0, 0)


async def test_a_scheduled_delivery_without_a_slot_is_refused_on_the_delivery_step(
    client: AsyncClient,
) -> None:
    _red, address_id = await ready_to_check_out(client)

    page = await client.get(f"/checkout/review?address_id={address_id}&delivery=scheduled", headers=EN)

    assert page.status_code == 422
    assert "How should it reach you?" in page.text
    assert 'class="field-error"' in page.text or 'role="alert"' in page.text


async def test_an_item_that_cannot_reach_the_address_is_named_before_the_review(client: AsyncClient) -> None:
    red, address_id = await ready_to_check_out(client)
    async with uow() as s:
        (warehouse,) = await inventory.list_warehouses(s)
        await inventory.update_warehouse(
            s, warehouse_id=warehouse.id, data=inventory.WarehouseUpdate(regions=["北京市"]), actor=SYSTEM
        )
    before = await counts()

    page = await client.get(f"/checkout/review?address_id={address_id}&delivery=standard", headers=EN)

    assert page.status_code == 409
    assert "How should it reach you?" in page.text  # back on the delivery step
    # English pages name the item in English where the catalogue can (the colour; this title has none)
    assert "纯棉圆领T恤 Red cannot be delivered to 浙江省." in page.text
    assert await counts() == before


async def test_buy_now_orders_one_item_without_touching_the_cart(client: AsyncClient) -> None:
    red, black = await open_shop(price=3000, stock=5)
    _customer_id, address_id = await shopper(client)
    await add_to_cart(client, red, 2)
    page = await client.get("/cart", headers=EN)

    started = await client.post(
        "/checkout/buy-now", data={"sku_id": str(black), "quantity": "3", "csrf_token": hx_csrf_of(page)}
    )
    step1 = await client.get(started.headers["location"], headers=EN)
    step3 = await review(client, f"address_id={address_id}&sku_id={black}&quantity=3")
    placed = await place(client, step3)
    again = await place(client, step3)

    assert (started.status_code, started.headers["location"]) == (303, f"/checkout?sku_id={black}&quantity=3")
    assert f'name="sku_id" value="{black}"' in step1.text
    assert 'data-total="10200"' in step3.text  # 3 × 30 + 8 + 2 × 2
    assert placed.status_code == 303
    assert placed.headers["location"] == again.headers["location"]
    assert await counts() == (1, 1)
    async with uow(write=False) as s:
        cart_lines = (await s.execute(select(CartLine.sku_id, CartLine.quantity))).all()
        assert [tuple(x) for x in cart_lines] == [(red, 2)]
        assert (await s.execute(select(Cart.status))).scalars().all() == ["active"]


async def test_a_guest_is_sent_to_sign_in_and_comes_back_to_checkout(client: AsyncClient) -> None:
    red, _black = await open_shop()
    await add_to_cart(client, red, 1)

    page = await client.get("/checkout")
    buy = await client.get(f"/checkout?sku_id={red}&quantity=1")

    assert (page.status_code, page.headers["location"]) == (303, "/account/login?next=/checkout")
    assert buy.status_code == 303
    assert buy.headers["location"].startswith("/account/login?next=/checkout%3Fsku_id%3D")


async def test_the_guest_cart_comes_along_when_the_guest_signs_in_at_checkout(client: AsyncClient) -> None:
    red, _black = await open_shop(price=3000, stock=5)
    _customer_id, address_id = await customer_with_address("li@example.com")
    await add_to_cart(client, red, 2)
    await sign_in(client, "li@example.com", PASSWORD)

    step1 = await client.get("/checkout", headers=EN)
    step3 = await review(client, f"address_id={address_id}")

    assert step1.status_code == 200
    assert 'data-total="7000"' in step3.text


async def test_an_empty_cart_goes_back_to_the_cart(client: AsyncClient) -> None:
    await shopper(client)

    page = await client.get("/checkout")

    assert (page.status_code, page.headers["location"]) == (303, "/cart")


async def test_another_customers_payment_and_order_are_not_found_and_nothing_changes(
    client: AsyncClient, app: object
) -> None:
    red, address_id = await ready_to_check_out(client)
    step3 = await review(client, f"address_id={address_id}")
    placed = await place(client, step3)
    pay_path = placed.headers["location"]
    number = await only_order_number()
    before = await counts()

    async with other_client(app) as other:
        await shopper(other, "eve@example.com")
        await add_to_cart(other, red, 1)
        page = await other.get("/cart", headers=EN)
        responses = [
            await other.get(pay_path, headers=EN),
            await other.get(f"{pay_path}/status", headers=EN),
            await other.get(f"{pay_path}/go", headers=EN),
            await other.get(f"/checkout/result/{number}", headers=EN),
            await other.post(
                pay_path, data={"provider": "sandbox", "csrf_token": hx_csrf_of(page)}, headers=EN
            ),
            await other.get(f"/checkout/review?address_id={address_id}", headers=EN),
        ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404, 404, 404]
    assert "Payment not found." in responses[0].text or "not found" in responses[0].text.lower()
    assert await counts() == before


async def test_a_forged_place_form_is_refused_and_places_nothing(client: AsyncClient) -> None:
    red, address_id = await ready_to_check_out(client)
    step3 = await review(client, f"address_id={address_id}")

    forged = await client.post("/checkout/place", data={**hidden(step3), "csrf_token": "forged"})
    no_token = await client.post("/checkout/buy-now", data={"sku_id": str(red), "quantity": "1"})

    assert (forged.status_code, no_token.status_code) == (403, 403)
    assert await counts() == (0, 0)


async def test_the_wechat_qr_code_is_only_for_wechat_payments(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client)
    step3 = await review(client, f"address_id={address_id}")
    placed = await place(client, step3)

    qr = await client.get(f"{placed.headers['location']}/qr.svg", headers=EN)

    assert qr.status_code == 404


class NativeWeChat:
    """A WeChat Pay stand-in that opens Native trades (a code URL to show as a QR code)."""

    name = "wechatpay"

    async def create(self, payment: PaymentToCreate) -> ProviderCreated:
        code_url = f"weixin://wxpay/bizpayurl?pr=test{payment.payment_id}"
        return ProviderCreated(
            provider_payment_id=f"{payment.payment_id:06d}",
            pay_url=code_url,
            client_data={"channel": "native", "qr_code": code_url},
        )


async def test_a_wechat_native_payment_shows_its_qr_code_and_polls(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_PAYMENT_PROVIDERS", '["sandbox", "wechatpay"]')
    get_settings.cache_clear()
    set_provider("wechatpay", NativeWeChat())  # type: ignore[arg-type]
    try:
        _red, address_id = await ready_to_check_out(client)
        step3 = await review(client, f"address_id={address_id}")
        placed = await place(client, step3, provider="wechatpay")
        pay_path = placed.headers["location"]

        page = await client.get(pay_path, headers=EN)
        qr = await client.get(f"{pay_path}/qr.svg")
        polled = await client.get(f"{pay_path}/status", headers={**EN, "HX-Request": "true"})
    finally:
        set_provider("wechatpay", None)

    assert page.status_code == 200
    assert f'<img src="{pay_path}/qr.svg" alt="QR code to pay with WeChat"' in page.text
    assert f'hx-get="{pay_path}/status" hx-trigger="every 3s"' in page.text
    assert (qr.status_code, qr.headers["content-type"]) == (200, "image/svg+xml")
    assert qr.text.startswith("<svg")
    assert polled.status_code == 200
    assert "hx-redirect" not in polled.headers
    assert 'hx-trigger="every 3s"' in polled.text


async def test_buy_now_refuses_a_bad_quantity_with_the_reason(client: AsyncClient) -> None:
    red, _black = await open_shop()
    page = await client.get("/cart", headers=EN)

    refused = await client.post(
        "/checkout/buy-now",
        data={"sku_id": str(red), "quantity": "1000", "csrf_token": hx_csrf_of(page)},
        headers=EN,
    )

    assert refused.status_code == 422
    assert "Must be at most 999." in refused.text
    assert await counts() == (0, 0)


async def test_a_place_form_without_a_review_key_asks_to_review_again(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client)
    step3 = await review(client, f"address_id={address_id}")

    refused = await place(client, step3, idempotency_key="")

    assert refused.status_code == 422
    assert "Review your order and confirm it again." in refused.text
    assert re.fullmatch(r"[A-Za-z0-9_\-]{32}", hidden(refused)["idempotency_key"])
    assert await counts() == (0, 0)


async def test_user_text_is_escaped_on_the_checkout_steps(client: AsyncClient) -> None:
    red, _black = await open_shop()
    evil = "<script>alert(1)</script>"
    _customer_id, address_id = await shopper(client, "x@example.com", recipient=evil, detail=evil)
    await add_to_cart(client, red, 1)

    pages = [
        await client.get("/checkout", headers=EN),
        await client.get(f"/checkout/delivery?address_id={address_id}", headers=EN),
        await review(client, f"address_id={address_id}&note={evil}"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert evil not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_a_scheduled_delivery_slot_travels_through_the_steps_and_is_ordered(
    client: AsyncClient,
) -> None:
    _red, address_id = await ready_to_check_out(client, price=3000, stock=5)
    slot = checkout.delivery_slots()[0]
    query = urlencode(
        {"address_id": address_id, "delivery": "scheduled", "slot_starts_at": slot.starts_at.isoformat()}
    )

    delivery = await client.get(f"/checkout/delivery?{query}", headers=EN)
    step3 = await review(client, query)
    placed = await place(client, step3)

    assert f'<option value="{slot.starts_at.isoformat()}" selected>' in delivery.text
    assert "Scheduled delivery: " in step3.text
    assert placed.status_code == 303
    async with uow(write=False) as s:
        [order] = (await orders.list_orders(s, limit=1)).items
        placed_order = await orders.read_order(s, order_id=order.id)
    assert placed_order.delivery == "scheduled"
    assert placed_order.slot is not None
    assert placed_order.slot.starts_at == slot.starts_at


async def test_a_delivery_slot_says_its_day_once(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client, price=3000, stock=5)
    slot = checkout.delivery_slots()[0]
    starts, ends = (t.astimezone(get_settings().tz) for t in (slot.starts_at, slot.ends_at))
    query = urlencode(
        {"address_id": address_id, "delivery": "scheduled", "slot_starts_at": slot.starts_at.isoformat()}
    )
    hours = f"{starts:%H:%M}–{ends:%H:%M}"

    zh = await client.get(f"/checkout/delivery?{query}")
    en = await client.get(f"/checkout/delivery?{query}", headers=EN)
    step3 = await review(client, query)

    assert f"selected>{starts.month}月{starts.day}日 {hours}</option>" in zh.text
    assert f"selected>{starts:%b} {starts.day} {hours}</option>" in en.text
    assert f"Scheduled delivery: {starts:%b} {starts.day} {hours}" in step3.text


async def test_the_review_page_ids_are_unique_and_the_invoice_title_label_names_its_input(
    client: AsyncClient,
) -> None:
    _red, address_id = await ready_to_check_out(client, price=3000, stock=5)

    page = await review(client, f"address_id={address_id}&delivery=standard")

    ids = re.findall(r'\sid="([^"]+)"', page.text)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert re.search(
        r'<label for="place-title">[^<]*</label>\s*<input id="place-title" name="title"', page.text
    )


async def test_the_delivery_step_shows_each_ways_shipping_fee(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client, price=3000, stock=5)
    async with uow() as s:
        await s.execute(update(ShippingTemplateRow).values(express_surcharge_amount=1200))

    page = await client.get(f"/checkout/delivery?address_id={address_id}", headers=EN)
    zh = await client.get(f"/checkout/delivery?address_id={address_id}")

    assert page.status_code == 200
    assert '<span class="delivery-fee" data-fee="standard">Shipping CN¥8.00</span>' in page.text
    assert '<span class="delivery-fee" data-fee="express">Shipping CN¥20.00</span>' in page.text
    assert '<span class="delivery-fee" data-fee="express">运费 ¥20.00</span>' in zh.text
