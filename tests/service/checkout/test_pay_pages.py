"""The checkout services behind the storefront's pages: buy-now's confirm step, the payment of
an order (pay page), an order's outcome (result page) and paying an unpaid order again."""

from __future__ import annotations

import pytest

from mercato import cart, checkout, identity, orders, payments
from mercato.core.db import uow
from tests.factories.checkout import ADDRESS, open_shop
from tests.factories.identity import make_customer
from tests.factories.payments import make_payment


async def placed_order(*, quantity: int = 2) -> tuple[int, checkout.CheckoutResult, int]:
    """A customer with an order of ``quantity`` red (30 元 each) waiting for a sandbox payment:
    (customer id, the checkout result, red's SKU id)."""
    red, _black = await open_shop(price=3000, stock=5)
    customer = await make_customer()
    async with uow() as s:
        address = await identity.add_address(
            s, customer_id=customer.id, data=identity.AddressWrite(**ADDRESS)
        )
        await cart.add_line(
            s, customer_id=customer.id, guest_token=None, data=cart.AddLine(sku_id=red, quantity=quantity)
        )
    async with uow() as s:
        quote = await checkout.confirm_checkout(
            s, customer_id=customer.id, data=checkout.ConfirmCheckout(address_id=address.id)
        )
        result = await checkout.complete_checkout(
            s,
            customer_id=customer.id,
            data=checkout.CompleteCheckout(
                address_id=address.id, expected_total_amount=quote.price.total_amount
            ),
            idempotency_key="svc-key-0001",
        )
    return customer.id, result, red


async def test_confirm_buy_now_prices_one_sku_for_the_address() -> None:
    _red, black = await open_shop(price=3000, stock=5)
    customer = await make_customer()
    async with uow() as s:
        address = await identity.add_address(
            s, customer_id=customer.id, data=identity.AddressWrite(**ADDRESS)
        )
    async with uow(write=False) as s:
        quote = await checkout.confirm_buy_now(
            s,
            customer_id=customer.id,
            sku_id=black,
            quantity=3,
            data=checkout.ConfirmCheckout(address_id=address.id),
        )

    assert (quote.price.goods_amount, quote.price.shipping_amount, quote.price.total_amount) == (
        9000,
        1200,
        10200,
    )
    assert [(line.sku_id, line.quantity) for line in quote.price.lines] == [(black, 3)]


async def test_confirm_buy_now_refuses_another_customers_address() -> None:
    _red, black = await open_shop()
    owner = await make_customer()
    other = await make_customer()
    async with uow() as s:
        address = await identity.add_address(s, customer_id=owner.id, data=identity.AddressWrite(**ADDRESS))

    with pytest.raises(identity.AddressNotFound):
        async with uow(write=False) as s:
            await checkout.confirm_buy_now(
                s,
                customer_id=other.id,
                sku_id=black,
                quantity=1,
                data=checkout.ConfirmCheckout(address_id=address.id),
            )


async def test_the_order_payment_and_outcome_are_the_customers_own() -> None:
    customer_id, result, _red = await placed_order()
    stranger = await make_customer()

    async with uow(write=False) as s:
        mine = await checkout.get_order_payment(s, customer_id=customer_id, payment_id=result.payment_id)
        by_number = await checkout.get_order_outcome(s, customer_id=customer_id, number=result.order_number)
        by_reference = await checkout.get_order_outcome(
            s, customer_id=customer_id, reference=f"order:{result.order_id}"
        )
        with pytest.raises(payments.PaymentNotFound):
            await checkout.get_order_payment(s, customer_id=stranger.id, payment_id=result.payment_id)
        with pytest.raises(orders.OrderNotFound):
            await checkout.get_order_outcome(s, customer_id=stranger.id, number=result.order_number)
        with pytest.raises(orders.OrderNotFound):
            await checkout.get_order_outcome(s, customer_id=stranger.id, reference=f"order:{result.order_id}")
        with pytest.raises(orders.OrderNotFound):
            await checkout.get_order_outcome(s, customer_id=customer_id, reference="order:x")

    assert (mine.order_number, mine.order_status, mine.outcome) == (
        result.order_number,
        orders.OrderStatus.pending_payment,
        checkout.PayOutcome.waiting,
    )
    assert mine.payment.id == result.payment_id
    assert by_number == by_reference
    assert (by_number.order.id, by_number.outcome) == (result.order_id, checkout.PayOutcome.waiting)
    assert by_number.payment is not None
    assert by_number.payment.id == result.payment_id


async def test_a_payment_not_for_an_order_is_not_an_order_payment() -> None:
    customer = await make_customer()
    payment = await make_payment(reference="topup:1", customer_id=customer.id)

    with pytest.raises(payments.PaymentNotFound):
        async with uow(write=False) as s:
            await checkout.get_order_payment(s, customer_id=customer.id, payment_id=payment.id)


async def test_pay_order_reuses_the_pending_payment_and_refuses_a_cancelled_order() -> None:
    customer_id, result, _red = await placed_order()

    async with uow() as s:
        again = await checkout.pay_order(
            s, customer_id=customer_id, order_id=result.order_id, provider="sandbox"
        )
    async with uow() as s:
        await orders.cancel_order(
            s,
            order_id=result.order_id,
            reason="changed my mind",
            actor=identity.Actor(staff_id=None, label=f"customer:{customer_id}"),
            customer_id=customer_id,
        )
    with pytest.raises(payments.ReferenceAlreadyPaid):
        async with uow() as s:
            await checkout.pay_order(s, customer_id=customer_id, order_id=result.order_id, provider="sandbox")
    async with uow(write=False) as s:
        outcome = await checkout.get_order_outcome(s, customer_id=customer_id, number=result.order_number)

    assert (again.payment_id, again.order_number, again.total_amount) == (
        result.payment_id,
        result.order_number,
        result.total_amount,
    )
    assert outcome.outcome is checkout.PayOutcome.cancelled


async def test_pay_order_refuses_another_customers_order_and_an_unknown_provider() -> None:
    customer_id, result, _red = await placed_order()
    stranger = await make_customer()

    with pytest.raises(orders.OrderNotFound):
        async with uow() as s:
            await checkout.pay_order(s, customer_id=stranger.id, order_id=result.order_id, provider="sandbox")
    with pytest.raises(payments.UnknownProvider):
        async with uow() as s:
            await checkout.pay_order(s, customer_id=customer_id, order_id=result.order_id, provider="paypal")
