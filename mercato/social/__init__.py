"""Social: the plays that make a shop spread (秒杀 flash sales now; 拼团 group buying, 砍价
bargaining, share posters and invites next, issue 17), with reviews and content to come (issue
20). The plays live in ``plays/`` behind this one front door (ADR 0035).

Public API (service functions take an ``AsyncSession`` first, keyword arguments after, and return
schemas):

- flash-sale sessions kept by staff (``plays/flash.py``, audited, each status move recorded):
  ``create_flash_session``, ``update_flash_session``, ``add_flash_item``, ``remove_flash_item``
  (drafts only), ``publish_flash_session`` (carves each item's quota out of stock, all or none),
  ``cancel_flash_session``, ``end_due_flash_sessions`` (job), ``get_flash_session``,
  ``list_flash_sessions``, ``flash_figures`` (live counts per item), ``list_status_changes``
- shoppers: ``list_flash_sale`` (sessions live or starting within two days, with the server's
  clock and the units left), ``remind_me`` ("提醒我"), ``flash_challenge`` (the optional human
  check's puzzle), ``confirm_flash`` (the price to the shopper's address), ``buy_flash``
  (admission, then the order refereed by the database; see ``plays/flash_buy.py``)
- upkeep: ``send_due_reminders``, ``reconcile_admission`` (job ``social-flash``)

Invariant: a flash-sale item never sells more than its quota, against other flash buyers or
normal sales: the quota is an inventory quota hold and every order takes its units from it with
one conditional UPDATE in the order's transaction; a customer never holds more than the item's
per-customer limit in pending or paid orders (one conditional UPDATE on their row).

Events emitted: ``FlashSaleStarting`` (notify sends the reminder). Events consumed (handlers.py):
``orders.order_paid``, ``orders.order_cancelled``, ``orders.order_closed``.
Depends on: core, identity (audit), catalog (SKUs), inventory (quota holds), promotions (the deal
price), orders (``Deal``), checkout (placing and paying). Decision record: ADR 0035.
"""

from mercato.social.errors import (
    EndsBeforeStart,
    FlashEnded,
    FlashItemNotFound,
    FlashLimitReached,
    FlashNotStarted,
    FlashPriceNotBelow,
    FlashQuotaUnavailable,
    FlashSessionEmpty,
    FlashSessionNotEditable,
    FlashSessionNotFound,
    FlashSkuTaken,
    FlashSoldOut,
    FlashTooFast,
    HumanCheckFailed,
)
from mercato.social.events import FlashSaleStarting
from mercato.social.history import list_status_changes
from mercato.social.plays.flash import (
    add_flash_item,
    cancel_flash_session,
    create_flash_session,
    end_due_flash_sessions,
    flash_figures,
    get_flash_session,
    list_flash_sale,
    list_flash_sessions,
    publish_flash_session,
    remind_me,
    remove_flash_item,
    update_flash_session,
)
from mercato.social.plays.flash_buy import (
    buy_flash,
    check_proof,
    confirm_flash,
    flash_challenge,
    forget_cached_items,
    reconcile_admission,
)
from mercato.social.plays.reminders import send_due_reminders
from mercato.social.schemas import (
    AdmissionVerdict,
    CancelFlashSession,
    FlashBuy,
    FlashConfirm,
    FlashItemFigures,
    FlashItemRead,
    FlashItemWrite,
    FlashOffer,
    FlashPhase,
    FlashSessionRead,
    FlashSessionStatus,
    FlashSessionView,
    FlashSessionWrite,
    PurchaseStatus,
    StatusChangeRead,
)

__all__ = [
    "AdmissionVerdict",
    "CancelFlashSession",
    "FlashConfirm",
    "EndsBeforeStart",
    "FlashBuy",
    "FlashEnded",
    "FlashItemFigures",
    "FlashItemNotFound",
    "FlashItemRead",
    "FlashItemWrite",
    "FlashLimitReached",
    "FlashNotStarted",
    "FlashOffer",
    "FlashPhase",
    "FlashPriceNotBelow",
    "FlashQuotaUnavailable",
    "FlashSaleStarting",
    "FlashSessionEmpty",
    "FlashSessionNotEditable",
    "FlashSessionNotFound",
    "FlashSessionRead",
    "FlashSessionStatus",
    "FlashSessionView",
    "FlashSessionWrite",
    "FlashSkuTaken",
    "FlashSoldOut",
    "FlashTooFast",
    "HumanCheckFailed",
    "PurchaseStatus",
    "StatusChangeRead",
    "add_flash_item",
    "buy_flash",
    "cancel_flash_session",
    "check_proof",
    "confirm_flash",
    "create_flash_session",
    "end_due_flash_sessions",
    "flash_challenge",
    "flash_figures",
    "forget_cached_items",
    "get_flash_session",
    "list_flash_sale",
    "list_flash_sessions",
    "list_status_changes",
    "publish_flash_session",
    "reconcile_admission",
    "remind_me",
    "remove_flash_item",
    "send_due_reminders",
    "update_flash_session",
]
