"""Cart errors (stable codes ``cart.*``)."""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound


class CartLineNotFound(NotFound):
    code = "cart.line_not_found"
    message = "This item is not in your cart."


class CartFrozen(Conflict):
    code = "cart.frozen"
    message = "This cart is being checked out; finish or cancel the payment first."


class NotSellable(Conflict):
    code = "cart.not_sellable"
    message = "This item cannot be bought now."


class CartFull(Conflict):
    code = "cart.full"
    message = "A cart holds at most {max_lines} different items."


class QuantityTooHigh(InvalidInput):
    code = "cart.quantity_too_high"
    message = "At most {max_quantity} of one item per order."


class CurrencyNotSupported(InvalidInput):
    code = "cart.currency_not_supported"
    message = "This item is sold in another currency."


class NotEnoughStock(Conflict):
    code = "cart.not_enough_stock"
    message = "Only {available} in stock; the quantity was not changed."
