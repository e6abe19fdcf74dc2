"""Cart: guest carts (by token) and customer carts, lines, ticking for checkout, merging at
sign-in, and the priced view with notices (price changed, only N left, sold out).

Public API:

- ``find_cart`` (merges a guest cart into the customer's at sign-in), ``count_units`` (the
  cart tab's badge, one query), ``add_line``,
  ``change_line``, ``remove_line``, ``select_lines``, ``view_cart``, ``new_guest_token``
- checkout: ``checkout_items`` (the ticked lines), ``freeze_cart`` (while the order waits for
  payment), ``finish_checkout`` (paid: ordered lines leave; cancelled: the cart thaws)
- limits: ``MAX_LINES`` (100 different items), ``MAX_QUANTITY`` (999 of one item)

Events emitted: none. Events consumed: none.
Depends on: core, catalog (sellable SKUs), inventory (available units), pricing (the price
calculation), promotions (the view's promotions, best coupon and 凑单 hints).
Glossary: CONTEXT.md (购物车, 勾选).
"""

from mercato.cart.errors import (
    CartFrozen,
    CartFull,
    CartLineNotFound,
    CurrencyNotSupported,
    NotEnoughStock,
    NotSellable,
    QuantityTooHigh,
)
from mercato.cart.schemas import (
    MAX_LINES,
    MAX_QUANTITY,
    AddLine,
    CartLineView,
    CartRef,
    CartView,
    ChangeLine,
    Notice,
    NoticeCode,
    SelectLines,
)
from mercato.cart.service.carts import (
    add_line,
    change_line,
    checkout_items,
    count_units,
    find_cart,
    finish_checkout,
    freeze_cart,
    new_guest_token,
    remove_line,
    select_lines,
    view_cart,
)
from mercato.cart.states import CartStatus

__all__ = [
    "MAX_LINES",
    "MAX_QUANTITY",
    "AddLine",
    "CartFrozen",
    "CartFull",
    "CartLineNotFound",
    "CartLineView",
    "CartRef",
    "CartStatus",
    "CartView",
    "ChangeLine",
    "CurrencyNotSupported",
    "NotEnoughStock",
    "NotSellable",
    "Notice",
    "NoticeCode",
    "QuantityTooHigh",
    "SelectLines",
    "add_line",
    "change_line",
    "checkout_items",
    "count_units",
    "finish_checkout",
    "freeze_cart",
    "find_cart",
    "new_guest_token",
    "remove_line",
    "select_lines",
    "view_cart",
]
