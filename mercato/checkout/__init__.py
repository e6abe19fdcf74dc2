"""Checkout: the steps from the cart to payment — confirm (address, delivery: the price to pay),
complete (place the order, freeze the cart, open the payment) — and what follows the order's
fate (paid: the ordered lines leave the cart; cancelled: the cart thaws and the payment closes).

Public API: ``confirm_checkout``, ``complete_checkout`` (idempotent by Idempotency-Key and by
cart; the same key with another body is refused), ``buy_now`` (one SKU, no cart, the default
address), ``pay_url``; ``cancel_order`` (an unpaid order and its open payments, in one
transaction: what the shopper, the console and the API call), ``cancel_unpaid_orders`` (the
``orders-cancel-unpaid`` job, ``tasks.py``); the delivery choices
``delivery_fees`` (each way's shipping fee), ``delivery_slots`` (定时达) and ``pickup_stores`` (到店自提).
For the storefront's pages: ``confirm_buy_now`` (buy-now's confirm step), ``get_order_payment``
(pay page), ``get_order_outcome`` (result page: paid, waiting, failed, cancelled) and ``pay_order``
(pay an unpaid order again or another way).

Events consumed: ``orders.order_paid.v1``, ``orders.order_cancelled.v1``,
``orders.order_payment_refused.v1`` (the money is refunded: ``payments.refund_unwanted_payment``)
(``handlers.py``).
Depends on: core, identity (addresses), cart, inventory (stores), orders, payments, promotions (the
coupon picked at checkout: ``coupon`` on the inputs, ``coupon_options`` on ``CheckoutQuote``).
"""

from mercato.checkout.errors import EmptyCart, NoAddress
from mercato.checkout.schemas import (
    BuyNow,
    CheckoutQuote,
    CheckoutResult,
    CompleteCheckout,
    ConfirmBuyNow,
    ConfirmCheckout,
    OrderOutcome,
    OrderPayment,
    PayOutcome,
    PickupStore,
)
from mercato.checkout.service import (
    buy_now,
    cancel_order,
    cancel_unpaid_orders,
    complete_checkout,
    confirm_buy_now,
    confirm_checkout,
    delivery_fees,
    delivery_slots,
    get_order_outcome,
    get_order_payment,
    pay_order,
    pay_url,
    pickup_stores,
)

__all__ = [
    "BuyNow",
    "CheckoutQuote",
    "CheckoutResult",
    "CompleteCheckout",
    "ConfirmBuyNow",
    "ConfirmCheckout",
    "EmptyCart",
    "NoAddress",
    "OrderOutcome",
    "OrderPayment",
    "PayOutcome",
    "PickupStore",
    "buy_now",
    "cancel_order",
    "cancel_unpaid_orders",
    "complete_checkout",
    "confirm_buy_now",
    "confirm_checkout",
    "delivery_fees",
    "delivery_slots",
    "get_order_outcome",
    "get_order_payment",
    "pay_order",
    "pay_url",
    "pickup_stores",
]
