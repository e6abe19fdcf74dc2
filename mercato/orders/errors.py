"""Order errors (stable codes ``orders.*``)."""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound


class OrderNotFound(NotFound):
    code = "orders.order_not_found"
    message = "Order not found."


class NothingToOrder(InvalidInput):
    code = "orders.nothing_to_order"
    message = "Choose at least one item to order."


class ItemUnavailable(Conflict):
    code = "orders.item_unavailable"
    message = "An item can no longer be bought: {title}."


class CannotCancel(Conflict):
    code = "orders.cannot_cancel"
    message = "This order can no longer be cancelled."


class PriceChanged(Conflict):
    code = "orders.price_changed"
    message = "Prices changed since you last saw them; review the order and confirm again."


class InvalidDelivery(InvalidInput):
    """The delivery choice is incomplete or not offered; the field error says which part."""

    code = "orders.invalid_delivery"
    message = "Check the delivery option."


class CannotShip(Conflict):
    code = "orders.cannot_ship"
    message = "This part of the order cannot be shipped now."


class ShippingOnHold(CannotShip):
    """Paid, but held until its group is complete (拼团: 待成团)."""

    code = "orders.shipping_on_hold"
    message = "This order waits for its group to be complete before it ships."


class CannotDeliver(Conflict):
    code = "orders.cannot_deliver"
    message = "This part of the order has not been shipped."


class CannotComplete(Conflict):
    code = "orders.cannot_complete"
    message = "This order has not been delivered yet."


class CannotClose(Conflict):
    code = "orders.cannot_close"
    message = "Only a paid order with nothing shipped can be closed."


class CannotDropUnits(Conflict):
    code = "orders.cannot_drop_units"
    message = "These units have shipped already, or fewer are left to drop."


class UnpaidOrdersLimit(Conflict):
    """The customer already has ``limit`` unpaid orders (``MERCATO_MAX_UNPAID_ORDERS``)."""

    code = "orders.unpaid_orders_limit"
    message = "You already have {limit} unpaid orders. Pay for or cancel one before placing another."


class UnpaidUnitsLimit(Conflict):
    """The order would put more than ``limit`` units of one SKU in the customer's unpaid orders
    (``MERCATO_MAX_UNPAID_UNITS_PER_SKU``)."""

    code = "orders.unpaid_units_limit"
    message = (
        "At most {limit} of {title} can wait for payment in your orders. "
        "Order fewer, or pay for or cancel an unpaid order first."
    )
