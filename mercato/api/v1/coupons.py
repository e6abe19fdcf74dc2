"""Coupons for shoppers: the wallet (mine: unused, used, expired), the coupons a shopper can claim
(领券中心, or one product's), claiming one, and redeeming a code (兑换码).

A coupon is always the caller's own: the wallet lists only theirs, and a template's coupons go to
the signed-in customer. Claims count exactly once against the template's total and the
per-customer limit, however many requests race; wrong codes are rate-limited.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from mercato import catalog, promotions
from mercato.api.deps import CurrentCustomer, DbSession, MaybeCustomer
from mercato.api.v1 import PREFIX
from mercato.web.openapi import raises

router = APIRouter(prefix=PREFIX, tags=["coupons"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


class WalletFilter(StrEnum):
    """Which of the wallet's coupons to list."""

    unused = "unused"
    used = "used"
    expired = "expired"


@router.get("/me/coupons")
async def list_my_coupons(
    auth: CurrentCustomer,
    session: DbSession,
    response: Response,
    coupon_status: Annotated[WalletFilter | None, Query(alias="status")] = None,
) -> list[promotions.CouponRead]:
    """The signed-in customer's coupons (unused ones soonest-expiring first); every coupon when no
    ``status`` is given."""
    response.headers["Cache-Control"] = "no-store"
    wanted = promotions.CouponStatus(coupon_status.value) if coupon_status else None
    return await promotions.list_wallet(session, customer_id=auth.customer.id, status=wanted)


@router.get("/coupons/claimable")
@raises(catalog.ProductNotFound)
async def list_claimable_coupons(
    auth: MaybeCustomer,
    session: DbSession,
    response: Response,
    product_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[promotions.CouponTemplateRead]:
    """Coupons that can be claimed now (for one product when ``product_id`` is given); for a
    signed-in customer, only those they may still claim. An unknown ``product_id`` is 404."""
    response.headers["Cache-Control"] = "no-store"
    return await promotions.list_claimable(
        session, customer_id=auth.customer.id if auth else None, product_id=product_id
    )


@router.post("/coupons/{template_id}/claim", status_code=status.HTTP_201_CREATED)
@raises(
    promotions.CouponTemplateNotFound,
    promotions.CouponNotClaimable,
    promotions.CouponsSoldOut,
    promotions.CouponLimitReached,
)
async def claim_coupon(template_id: Id, auth: CurrentCustomer, session: DbSession) -> promotions.CouponRead:
    """Claim one coupon of the template into the signed-in customer's wallet."""
    return await promotions.claim_coupon(
        session, template_id=template_id, customer_id=auth.customer.id, channel=promotions.Channel.app
    )


@router.post("/coupons/redeem", status_code=status.HTTP_201_CREATED)
@raises(
    promotions.CodeInvalid,
    promotions.CodeGuessing,
    promotions.CouponTemplateNotFound,
    promotions.CouponNotClaimable,
    promotions.CouponsSoldOut,
    promotions.CouponLimitReached,
)
async def redeem_code(
    data: promotions.RedeemCode, auth: CurrentCustomer, session: DbSession
) -> promotions.CouponRead:
    """Turn a redeemable code into a coupon in the signed-in customer's wallet (once per code)."""
    return await promotions.redeem_code(session, code=data.code, customer_id=auth.customer.id)
