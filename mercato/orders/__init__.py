"""Orders: placement (priced, reserved and frozen in one transaction), sub-orders per warehouse,
the status transition table with its history, payment and cancellation, and reads.

Public API:

- ``quote_order`` (the price now), ``place_order`` (idempotent by ``source_key``; ``deal=Deal``:
  at a social play's price, its units from the play's quota hold, with its payment window),
  ``read_order`` (customer-scoped or staff), ``list_orders`` (filters and search for staff)
- the shopper's tabs: ``count_orders_by_status`` (everyone's with ``customer_id=None``: the
  console's to-dos), ``list_customer_orders`` (a group of statuses,
  as ``OrderCard``s: summary, totals and the lines' preview, for a whole page in two queries)
- reports: ``sales_summary`` (the dashboard's orders, GMV, paying customers and average order
  value per day in the shop's time zone; ``PAID_STATUSES`` says which orders count);
  ``list_best_selling_product_ids`` (the storefront's 热销 shelf: units paid for in the last 30 days)
- customer 360: ``customer_order_stats`` (orders, paid orders, lifetime spend, average order value
  and last purchase of one customer, in one aggregate query); ``list_orders(buyer=BuyerSearch)``
  finds orders by their buyer's accounts or their recipient
- delivery: ``offered_slots`` (定时达 windows), ``check_delivery``; ``is_valid_tax_id`` (invoices)
- placement caps (``limits.py``): ``MERCATO_MAX_UNPAID_ORDERS`` unpaid orders per customer and
  ``MERCATO_MAX_UNPAID_UNITS_PER_SKU`` units of a SKU across them (``UnpaidOrdersLimit``,
  ``UnpaidUnitsLimit``); the risk rules to come take ``check_unpaid_limits`` over
- actions: ``cancel_order`` (unpaid orders; frees stock; ``checkout.cancel_order`` also closes
  the payment in the same transaction: use that one), ``mark_order_paid`` (from
  ``payments.payment_captured``; the holds then last until shipped; money for an order that can
  no longer take it writes ``OrderPaymentRefused``), ``list_overdue_unpaid_orders`` (for the
  ``orders-cancel-unpaid`` job, which ``checkout`` runs), ``mark_sub_order_shipped`` /
  ``mark_sub_order_delivered`` (for fulfilment), ``complete_order`` (pickup verified, receipt confirmed),
  ``complete_delivered_orders`` (the ``orders-complete-delivered`` job), ``close_paid_order``
  (refunded in full before shipping; frees the stock), ``release_ship_hold`` (a group-buying order
  held until its group is complete may ship; ``ShippingOnHold`` before),
  ``drop_units_before_shipping`` (part of a line refunded before shipping: it will not ship, its
  stock is freed)
- timeline notes (``service/notes.py``): the reasons other domains write on an order's timeline
  (``SHIPPED_WITH``, ``SIGNED_FOR``, ``SIGNED_FOR_BY_HAND``, ``PICKED_UP``, ``PICKUP_VERIFIED``,
  ``RECEIPT_CONFIRMED``, ``NOT_PAID_IN_TIME``, ``REFUNDED_IN_FULL``) as English message ids:
  pass ``NOTE % params`` as the reason; ``StatusChangeRead.note`` / ``details`` let the page
  translate it

Events emitted: ``OrderPlaced``, ``OrderPaid``, ``OrderPaymentRefused``, ``OrderCancelled``, ``OrderShipped``,
``OrderDelivered``, ``OrderCompleted``, ``OrderClosed``.
Placement prices through ``promotions.quote`` (the coupon: ``PlaceOrder.coupon``), stores each
line's share of every discount by name (``OrderLineRead.discounts``) and the order's adjustments,
locks the coupon with ``promotions.commit_to_order`` in its transaction, and adds 满赠 gifts as
zero-price lines when in stock (else ``OrderRead.gift_unavailable``).

Events consumed: ``payments.payment_captured.v1`` (``handlers.on_payment_captured``); for
promotions (``handlers.on_*_for_promotions``): ``orders.order_paid.v1``, ``orders.order_cancelled.v1``,
``orders.order_closed.v1`` (unpaid only), ``orders.order_delivered.v1``,
``payments.payment_refunded.v1`` (the order's own payment: refunded so far, and whether in full).
Depends on: core, catalog, inventory, pricing, promotions. Glossary: CONTEXT.md (订单, 子订单, 待付款).
"""

from mercato.orders.delivery import check_delivery, offered_slots
from mercato.orders.errors import (
    CannotCancel,
    CannotClose,
    CannotComplete,
    CannotDeliver,
    CannotDropUnits,
    CannotShip,
    InvalidDelivery,
    ItemUnavailable,
    NothingToOrder,
    OrderNotFound,
    PriceChanged,
    ShippingOnHold,
    UnpaidOrdersLimit,
    UnpaidUnitsLimit,
)
from mercato.orders.events import (
    OrderCancelled,
    OrderClosed,
    OrderCompleted,
    OrderDelivered,
    OrderPaid,
    OrderPaymentRefused,
    OrderPlaced,
    OrderShipped,
)
from mercato.orders.schemas import (
    AddressSnapshot,
    BuyerSearch,
    CancelOrder,
    CustomerOrderStats,
    Deal,
    DeliveryChoice,
    DeliverySlot,
    InvoiceKind,
    InvoiceRequest,
    OrderCard,
    OrderItem,
    OrderLinePreview,
    OrderLineRead,
    OrderRead,
    OrderSummary,
    PlaceOrder,
    StatusChangeRead,
    SubOrderRead,
    is_valid_tax_id,
)
from mercato.orders.service.actions import (
    cancel_order,
    close_paid_order,
    complete_delivered_orders,
    complete_order,
    drop_units_before_shipping,
    list_overdue_unpaid_orders,
    mark_order_paid,
    mark_sub_order_delivered,
    mark_sub_order_shipped,
    release_ship_hold,
)
from mercato.orders.service.bestsellers import list_best_selling_product_ids
from mercato.orders.service.customers import customer_order_stats
from mercato.orders.service.notes import (
    GROUP_COMPLETE,
    GROUP_FAILED,
    GROUP_FULL,
    NOT_PAID_IN_TIME,
    PICKED_UP,
    PICKUP_VERIFIED,
    RECEIPT_CONFIRMED,
    REFUNDED_IN_FULL,
    SHIPPED_WITH,
    SIGNED_FOR,
    SIGNED_FOR_BY_HAND,
)
from mercato.orders.service.placement import place_order, quote_order
from mercato.orders.service.reads import list_orders, read_order
from mercato.orders.service.reports import PAID_STATUSES, SalesDay, SalesFigures, SalesSummary, sales_summary
from mercato.orders.service.shopper import count_orders_by_status, list_customer_orders
from mercato.orders.states import ORDER, SUB_ORDER, OrderStatus

__all__ = [
    "GROUP_COMPLETE",
    "GROUP_FAILED",
    "GROUP_FULL",
    "NOT_PAID_IN_TIME",
    "ORDER",
    "PAID_STATUSES",
    "PICKED_UP",
    "PICKUP_VERIFIED",
    "RECEIPT_CONFIRMED",
    "REFUNDED_IN_FULL",
    "SHIPPED_WITH",
    "SIGNED_FOR",
    "SIGNED_FOR_BY_HAND",
    "SUB_ORDER",
    "AddressSnapshot",
    "BuyerSearch",
    "CancelOrder",
    "CustomerOrderStats",
    "CannotCancel",
    "CannotClose",
    "CannotComplete",
    "CannotDeliver",
    "CannotDropUnits",
    "CannotShip",
    "Deal",
    "DeliveryChoice",
    "DeliverySlot",
    "InvalidDelivery",
    "InvoiceKind",
    "InvoiceRequest",
    "ItemUnavailable",
    "NothingToOrder",
    "OrderCancelled",
    "OrderClosed",
    "OrderCompleted",
    "OrderDelivered",
    "OrderCard",
    "OrderItem",
    "OrderLinePreview",
    "OrderLineRead",
    "OrderNotFound",
    "OrderPaid",
    "OrderPaymentRefused",
    "OrderPlaced",
    "OrderRead",
    "OrderShipped",
    "OrderStatus",
    "OrderSummary",
    "PlaceOrder",
    "PriceChanged",
    "ShippingOnHold",
    "SalesDay",
    "SalesFigures",
    "SalesSummary",
    "StatusChangeRead",
    "SubOrderRead",
    "UnpaidOrdersLimit",
    "UnpaidUnitsLimit",
    "cancel_order",
    "close_paid_order",
    "check_delivery",
    "complete_delivered_orders",
    "complete_order",
    "count_orders_by_status",
    "customer_order_stats",
    "drop_units_before_shipping",
    "is_valid_tax_id",
    "list_best_selling_product_ids",
    "list_customer_orders",
    "list_overdue_unpaid_orders",
    "list_orders",
    "mark_order_paid",
    "mark_sub_order_delivered",
    "mark_sub_order_shipped",
    "offered_slots",
    "place_order",
    "quote_order",
    "read_order",
    "release_ship_hold",
    "sales_summary",
]
