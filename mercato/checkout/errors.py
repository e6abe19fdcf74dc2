"""Checkout errors (stable codes ``checkout.*``)."""

from __future__ import annotations

from mercato.core.errors import Conflict


class EmptyCart(Conflict):
    code = "checkout.empty_cart"
    message = "Tick at least one item in your cart to check out."


class NoAddress(Conflict):
    code = "checkout.no_address"
    message = "Add a delivery address first."
