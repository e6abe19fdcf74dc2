"""Orders: placement (priced, reserved and frozen in one transaction), sub-orders per warehouse,
the status transition table with its history, payment and cancellation, and reads.

Public API:

- ``quote_order`` (the price now), ``place_order`` (idempotent by ``source_key``),
  ``read_order`` (customer-scoped or staff), ``list_orders``
- actions: ``cancel_order`` (unpaid orders; frees stock), ``mark_order_paid`` (from
  ``payments.payment_captured``), ``cancel_unpaid_orders`` (the ``orders-cancel-unpaid`` job)

Events emitted: ``OrderPlaced``, ``OrderPaid``, ``OrderCancelled``.
Events consumed: ``payments.payment_captured.v1`` (``handlers.on_payment_captured``).
Depends on: core, catalog, inventory, pricing. Glossary: CONTEXT.md (订单, 子订单, 待付款).
"""

from mercato.orders.errors import CannotCancel, ItemUnavailable, NothingToOrder, OrderNotFound, PriceChanged
from mercato.orders.events import OrderCancelled, OrderPaid, OrderPlaced
from mercato.orders.schemas import (
    AddressSnapshot,
    CancelOrder,
    OrderItem,
    OrderLineRead,
    OrderRead,
    OrderSummary,
    PlaceOrder,
    StatusChangeRead,
    SubOrderRead,
)
from mercato.orders.service.actions import cancel_order, cancel_unpaid_orders, mark_order_paid
from mercato.orders.service.placement import place_order, quote_order
from mercato.orders.service.reads import list_orders, read_order
from mercato.orders.states import ORDER, OrderStatus

__all__ = [
    "ORDER",
    "AddressSnapshot",
    "CancelOrder",
    "CannotCancel",
    "ItemUnavailable",
    "NothingToOrder",
    "OrderCancelled",
    "OrderItem",
    "OrderLineRead",
    "OrderNotFound",
    "OrderPaid",
    "OrderPlaced",
    "OrderRead",
    "OrderStatus",
    "OrderSummary",
    "PlaceOrder",
    "PriceChanged",
    "StatusChangeRead",
    "SubOrderRead",
    "cancel_order",
    "cancel_unpaid_orders",
    "list_orders",
    "mark_order_paid",
    "place_order",
    "quote_order",
    "read_order",
]
