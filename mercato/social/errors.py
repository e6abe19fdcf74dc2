"""Social plays' errors, each with a stable code. Every refusal changes nothing.

Exceptions::

    DomainError
    ├── NotFound
    │   ├── FlashSessionNotFound     social.flash_session_not_found
    │   └── FlashItemNotFound        social.flash_item_not_found (also an item of a draft session)
    ├── Conflict
    │   ├── FlashSessionNotEditable  social.flash_session_not_editable (published, ended, cancelled)
    │   ├── FlashSkuTaken            social.flash_sku_taken (the SKU is in the session already)
    │   ├── FlashNotStarted          social.flash_not_started
    │   ├── FlashEnded               social.flash_ended
    │   ├── FlashSoldOut             social.flash_sold_out (the clean answer of a rush's losers)
    │   ├── FlashLimitReached        social.flash_limit_reached (the per-customer limit)
    │   └── FlashQuotaUnavailable    social.flash_quota_unavailable (publishing: stock too low)
    ├── InvalidInput
    │   ├── EndsBeforeStart          social.ends_before_start
    │   ├── FlashSessionEmpty        social.flash_session_empty (publishing without items)
    │   ├── FlashPriceNotBelow       social.flash_price_not_below (the sale price must be lower)
    │   └── HumanCheckFailed         social.human_check_failed (the proof-of-work answer is wrong)
    └── RateLimited
        └── FlashTooFast             social.flash_too_fast (per account and per IP)
"""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound, RateLimited


class FlashSessionNotFound(NotFound):
    code = "social.flash_session_not_found"
    message = "No such flash-sale session."


class FlashItemNotFound(NotFound):
    code = "social.flash_item_not_found"
    message = "No such flash-sale item."


class FlashSessionNotEditable(Conflict):
    code = "social.flash_session_not_editable"
    message = "This session can no longer be changed: only drafts can."


class FlashSkuTaken(Conflict):
    code = "social.flash_sku_taken"
    message = "This SKU is in the session already."


class FlashNotStarted(Conflict):
    code = "social.flash_not_started"
    message = "The flash sale has not started yet."


class FlashEnded(Conflict):
    code = "social.flash_ended"
    message = "The flash sale has ended."


class FlashSoldOut(Conflict):
    code = "social.flash_sold_out"
    message = "Sold out: every unit of this flash sale has been taken."


class FlashLimitReached(Conflict):
    code = "social.flash_limit_reached"
    message = "You have bought as many of this flash-sale item as one customer may ({limit})."


class FlashQuotaUnavailable(Conflict):
    code = "social.flash_quota_unavailable"
    message = "There is not enough stock to set aside the quota of {title} ({quota} units)."


class EndsBeforeStart(InvalidInput):
    code = "social.ends_before_start"
    message = "The end must be after the start."


class FlashSessionEmpty(InvalidInput):
    code = "social.flash_session_empty"
    message = "Add at least one item before publishing the session."


class FlashPriceNotBelow(InvalidInput):
    code = "social.flash_price_not_below"
    message = "The flash-sale price must be below the SKU's price."


class FlashTooFast(RateLimited):
    code = "social.flash_too_fast"
    message = "Too many attempts. Try again in {seconds} seconds."


class HumanCheckFailed(InvalidInput):
    code = "social.human_check_failed"
    message = "The human check was not passed. Reload the page and try again."
