"""Promotions errors, each with a stable code. Every refusal changes nothing.

Exceptions::

    DomainError
    ├── NotFound
    │   ├── PromotionNotFound           promotions.promotion_not_found
    │   ├── CouponTemplateNotFound      promotions.coupon_template_not_found
    │   ├── CampaignNotFound            promotions.campaign_not_found
    │   ├── CouponNotFound              promotions.coupon_not_found (also another customer's)
    │   └── IssueRunNotFound            promotions.issue_run_not_found (console+api)
    ├── Conflict
    │   ├── CouponsSoldOut              promotions.coupons_sold_out
    │   ├── CouponLimitReached          promotions.coupon_limit_reached
    │   ├── CouponNotClaimable          promotions.coupon_not_claimable
    │   ├── CouponUnavailable           promotions.coupon_unavailable (used, locked, expired)
    │   ├── CouponNotYetValid           promotions.coupon_not_yet_valid
    │   ├── CouponExpired               promotions.coupon_expired
    │   ├── CouponNotApplicable         promotions.coupon_not_applicable (threshold, scope)
    │   ├── CouponsNotCombinable        promotions.coupons_not_combinable (an exclusive promotion applies)
    │   ├── CampaignSlugTaken           promotions.campaign_slug_taken
    │   ├── PromotionNotEditable        promotions.promotion_not_editable
    │   ├── CouponTemplateNotEditable   promotions.coupon_template_not_editable (ended; value after issuing)
    │   └── CampaignNotEditable         promotions.campaign_not_editable
    ├── InvalidInput
    │   ├── EndsBeforeStart             promotions.ends_before_start
    │   ├── InvalidRule                 promotions.invalid_rule
    │   ├── PreheatNotBeforeStart       promotions.preheat_not_before_start
    │   ├── CampaignProductNotFound     promotions.campaign_product_not_found (a landing block's)
    │   └── CodeInvalid                 promotions.code_invalid (unknown or already redeemed)
    └── RateLimited
        └── CodeGuessing                promotions.code_guessing
"""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound, RateLimited


class PromotionNotFound(NotFound):
    code = "promotions.promotion_not_found"
    message = "No such promotion."


class CouponTemplateNotFound(NotFound):
    code = "promotions.coupon_template_not_found"
    message = "No such coupon."


class CampaignNotFound(NotFound):
    code = "promotions.campaign_not_found"
    message = "No such campaign."


class CouponNotFound(NotFound):
    """No such coupon in this customer's wallet (another customer's coupon answers the same)."""

    code = "promotions.coupon_not_found"
    message = "No such coupon in your wallet."


class CouponsSoldOut(Conflict):
    code = "promotions.coupons_sold_out"
    message = "All of these coupons have been claimed."


class CouponLimitReached(Conflict):
    code = "promotions.coupon_limit_reached"
    message = "You already have as many of these coupons as one customer may."


class CouponNotClaimable(Conflict):
    """Not active, outside its claim window, not offered for claiming, or not for this customer."""

    code = "promotions.coupon_not_claimable"
    message = "This coupon cannot be claimed now."


class CouponUnavailable(Conflict):
    """Already used, locked by another order, voided."""

    code = "promotions.coupon_unavailable"
    message = "This coupon has already been used or is held by another order."


class CouponNotYetValid(Conflict):
    code = "promotions.coupon_not_yet_valid"
    message = "This coupon can be used from {valid_from}."


class CouponExpired(Conflict):
    code = "promotions.coupon_expired"
    message = "This coupon has expired."


class CouponNotApplicable(Conflict):
    """Below its threshold, nothing in its scope, or not for this channel: ``reason`` says which."""

    code = "promotions.coupon_not_applicable"
    message = "This coupon cannot be used for this order: {reason}"


class CouponsNotCombinable(Conflict):
    code = "promotions.coupons_not_combinable"
    message = "A promotion on this order does not combine with coupons."


class CampaignSlugTaken(Conflict):
    code = "promotions.campaign_slug_taken"
    message = "Another campaign already uses this address."


class PromotionNotEditable(Conflict):
    code = "promotions.promotion_not_editable"
    message = "An ended promotion cannot be changed."


class EndsBeforeStart(InvalidInput):
    code = "promotions.ends_before_start"
    message = "The end must come after the start."


class InvalidRule(InvalidInput):
    """The terms do not make sense together (``problem`` says how)."""

    code = "promotions.invalid_rule"
    message = "These terms do not work: {problem}"


class CodeInvalid(InvalidInput):
    code = "promotions.code_invalid"
    message = "This code is not valid or has already been redeemed."


class CodeGuessing(RateLimited):
    code = "promotions.code_guessing"
    message = "Too many wrong codes. Try again in {seconds} seconds."


# -- campaigns --


class CampaignNotEditable(Conflict):
    code = "promotions.campaign_not_editable"
    message = "An ended campaign cannot be changed."


class PreheatNotBeforeStart(InvalidInput):
    code = "promotions.preheat_not_before_start"
    message = "The pre-heat must begin before the campaign starts."


class CampaignProductNotFound(InvalidInput):
    """A landing page's product block names a product the catalogue does not have."""

    code = "promotions.campaign_product_not_found"
    message = "There is no product {product_id} in the catalogue."


# -- console+api --


class IssueRunNotFound(NotFound):
    """No such run of codes or bulk issuance (or not of the template the address names)."""

    code = "promotions.issue_run_not_found"
    message = "No such issuance run."


class CouponTemplateNotEditable(Conflict):
    """Ended, or coupons were issued and a change would alter what they are worth (``problem``)."""

    code = "promotions.coupon_template_not_editable"
    message = "This coupon cannot be changed: {problem}"
