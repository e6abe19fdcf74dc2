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
    ├── RateLimited
    │   └── FlashTooFast             social.flash_too_fast (per account and per IP)
    └── 砍价 bargaining
        ├── NotFound: BargainOfferNotFound  social.bargain_offer_not_found,
        │             BargainNotFound       social.bargain_not_found
        ├── Conflict: BargainOfferNotEditable social.bargain_offer_not_editable (not a draft),
        │             BargainOfferClosed    social.bargain_offer_closed (not on now),
        │             BargainLimitReached   social.bargain_limit_reached (bargains per customer),
        │             BargainSoldOut        social.bargain_sold_out (the offer's stock is taken),
        │             BargainOwnHelp        social.bargain_own_help,
        │             BargainAlreadyHelped  social.bargain_already_helped (once per bargain),
        │             BargainSameDevice     social.bargain_same_device (the initiator's or a helper's),
        │             BargainNewHelpersOnly social.bargain_new_helpers_only,
        │             BargainFloorReached   social.bargain_floor_reached (no more help needed),
        │             BargainExpired        social.bargain_expired,
        │             BargainNotOpen        social.bargain_not_open (ordered or bought already)
        ├── PermissionDenied: BargainNotYours social.bargain_not_yours (buying another's bargain)
        └── InvalidInput: BargainFloorNotBelow social.bargain_floor_not_below,
                          BargainPriceAboveList social.bargain_price_above_list,
                          BargainCutsTooSmall  social.bargain_cuts_too_small (under 1 fen a help)

Invites and sharing (``invites.py``, ``sharing.py``)::

    ├── NotFound: ShareTargetNotFound   social.share_target_not_found (no such product or play)
    ├── InvalidInput: InviteCodeInvalid social.invite_code_invalid (unknown, forged, owner gone),
    │                 SelfInvite        social.self_invite (the inviter's account, number or device)
    ├── Conflict: AlreadyInvited        social.already_invited (another code recorded already),
    │             InvitationTooLate     social.invitation_too_late (too long after registering)
    └── Unavailable: PosterUnavailable  social.poster_unavailable (no CJK font installed)
"""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited, Unavailable


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


class GroupOfferNotFound(NotFound):
    code = "social.group_offer_not_found"
    message = "No such group-buying offer."


class GroupNotFound(NotFound):
    code = "social.group_not_found"
    message = "No such group."


class GroupOfferNotEditable(Conflict):
    code = "social.group_offer_not_editable"
    message = "This offer can no longer be changed: only drafts can."


class GroupPriceNotBelow(InvalidInput):
    code = "social.group_price_not_below"
    message = "The group price must be below the SKU's price."


class GroupOfferClosed(Conflict):
    code = "social.group_offer_closed"
    message = "This group-buying offer is not on now."


class GroupFull(Conflict):
    code = "social.group_full"
    message = "This group is full. Open a new group or join another one."


class GroupClosed(Conflict):
    code = "social.group_closed"
    message = "This group has ended. Open a new group or join another one."


class GroupOwn(Conflict):
    code = "social.group_own"
    message = "You are already in this group."


class GroupNewJoinersOnly(Conflict):
    code = "social.group_new_joiners_only"
    message = "Only customers who have not ordered before may join this group."


class GroupLimitReached(Conflict):
    code = "social.group_limit_reached"
    message = "You are in as many groups of this offer as one customer may be ({limit})."


# -- 砍价 bargaining --------------------------------------------------------------------------------


class BargainOfferNotFound(NotFound):
    code = "social.bargain_offer_not_found"
    message = "No such bargaining offer."


class BargainNotFound(NotFound):
    code = "social.bargain_not_found"
    message = "No such bargain."


class BargainOfferNotEditable(Conflict):
    code = "social.bargain_offer_not_editable"
    message = "This offer can no longer be changed: only drafts can."


class BargainOfferClosed(Conflict):
    code = "social.bargain_offer_closed"
    message = "This bargaining offer is not on now."


class BargainLimitReached(Conflict):
    code = "social.bargain_limit_reached"
    message = "You have started as many bargains of this offer as one customer may ({limit})."


class BargainSoldOut(Conflict):
    code = "social.bargain_sold_out"
    message = "Sold out: every unit of this bargaining offer has been taken."


class BargainOwnHelp(Conflict):
    code = "social.bargain_own_help"
    message = "You cannot help cut your own bargain: share it with friends."


class BargainAlreadyHelped(Conflict):
    code = "social.bargain_already_helped"
    message = "You have already helped cut this bargain."


class BargainSameDevice(Conflict):
    code = "social.bargain_same_device"
    message = "This device has already been used on this bargain: each friend helps from their own."


class BargainNewHelpersOnly(Conflict):
    code = "social.bargain_new_helpers_only"
    message = "Only accounts registered after this bargain started can help cut it."


class BargainFloorReached(Conflict):
    code = "social.bargain_floor_reached"
    message = "This bargain has reached its floor price: it needs no more help."


class BargainExpired(Conflict):
    code = "social.bargain_expired"
    message = "This bargain has ended."


class BargainNotOpen(Conflict):
    code = "social.bargain_not_open"
    message = "This bargain has been ordered or bought already."


class BargainNotYours(PermissionDenied):
    code = "social.bargain_not_yours"
    message = "Only the shopper who started this bargain can buy it."


class BargainFloorNotBelow(InvalidInput):
    code = "social.bargain_floor_not_below"
    message = "The floor price must be below the starting price."


class BargainPriceAboveList(InvalidInput):
    code = "social.bargain_price_above_list"
    message = "The starting price cannot be above the SKU's own price."


class BargainCutsTooSmall(InvalidInput):
    code = "social.bargain_cuts_too_small"
    message = "The starting price minus the floor must give each help at least 0.01 ({helps} helps)."


class ShareTargetNotFound(NotFound):
    code = "social.share_target_not_found"
    message = "There is nothing to share here: the product or offer does not exist or is over."


class InviteCodeInvalid(InvalidInput):
    code = "social.invite_code_invalid"
    message = "This invite code is not valid."


class SelfInvite(InvalidInput):
    code = "social.self_invite"
    message = "You cannot accept your own invitation."


class AlreadyInvited(Conflict):
    code = "social.already_invited"
    message = "An invitation is recorded for this account already."


class InvitationTooLate(Conflict):
    code = "social.invitation_too_late"
    message = "Invite codes are accepted only within {minutes} minutes of signing up, before a first order."


class PosterUnavailable(Unavailable):
    code = "social.poster_unavailable"
    message = "Share posters cannot be drawn right now. Copy the link instead."
