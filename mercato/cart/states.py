"""Cart statuses."""

from __future__ import annotations

from enum import StrEnum

from mercato.core.statemachine import TransitionTable


class CartStatus(StrEnum):
    active = "active"  # being filled; lines can change
    checking_out = "checking_out"  # frozen: an order from it waits for payment
    merged = "merged"  # a guest cart poured into the customer's cart at sign-in


CART: TransitionTable[CartStatus] = TransitionTable(
    "cart",
    {
        CartStatus.active: frozenset({CartStatus.checking_out, CartStatus.merged}),
        # paid: the bought lines leave and the cart is active again; cancelled: it thaws as it was
        CartStatus.checking_out: frozenset({CartStatus.active}),
    },
)
