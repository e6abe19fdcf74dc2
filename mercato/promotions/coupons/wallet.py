"""Claiming (领券), redeeming codes (兑换码) and the shopper's coupon wallet.

A claim's issue key is ``claim:<template>:<customer>:<n>``, ``n`` being the customer's count of
the template after this claim: the count is raised by one conditional UPDATE that locks the
customer's holding row, so two claims can never share an ``n`` and a claim past the limit never
gets one (ADR 0034).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog
from mercato.core import clock
from mercato.core.cache import Limit, get_rate_limiter
from mercato.core.errors import RateLimited
from mercato.promotions.coupons.issue import issue_coupon
from mercato.promotions.coupons.reading import template_read, wallet_rows
from mercato.promotions.errors import (
    CodeGuessing,
    CodeInvalid,
    CouponNotClaimable,
    CouponTemplateNotFound,
)
from mercato.promotions.models import CouponCode, CouponHolding, CouponTemplate
from mercato.promotions.schemas import (
    Channel,
    CouponRead,
    CouponSource,
    CouponStatus,
    CouponTemplateRead,
    CouponTemplateStatus,
    Scope,
)

#: Wrong codes a customer may enter before redeeming is refused for a while.
CODE_GUESSES = Limit("promotions.code_guesses", "10/10 minutes")
#: What a code may contain once normalised (the generator's alphabet is a subset).
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def normalise_code(code: str) -> str:
    """A code as stored: upper case, without the spaces and dashes it is shown or typed with."""
    return "".join(ch for ch in code.upper() if ch not in " -\t")


def _claim_window(now: dt.datetime) -> list[ColumnElement[bool]]:
    """Active, offered for claiming, in its claim window, not sold out, not past its fixed end."""
    return [
        CouponTemplate.status == str(CouponTemplateStatus.active),
        CouponTemplate.claimable.is_(True),
        or_(CouponTemplate.claim_starts_at.is_(None), CouponTemplate.claim_starts_at <= now),
        or_(CouponTemplate.claim_ends_at.is_(None), CouponTemplate.claim_ends_at > now),
        or_(CouponTemplate.valid_until.is_(None), CouponTemplate.valid_until > now),
    ]


async def claim_coupon(
    session: AsyncSession, *, template_id: int, customer_id: int, channel: Channel = Channel.web
) -> CouponRead:
    """领券: exactly once per allowance, never past the total (one conditional UPDATE each).

    Raises: CouponTemplateNotFound (404), CouponNotClaimable / CouponsSoldOut / CouponLimitReached (409).
    """
    now = clock.now()
    template = await session.get(CouponTemplate, template_id)
    if template is None:
        raise CouponTemplateNotFound()
    offered = await session.scalar(
        select(CouponTemplate.id).where(CouponTemplate.id == template_id, *_claim_window(now))
    )
    if offered is None or (template.channels and str(channel) not in template.channels):
        raise CouponNotClaimable()
    return await issue_coupon(
        session,
        template_id=template_id,
        customer_id=customer_id,
        source=CouponSource.claim,
        key=lambda n: f"claim:{template_id}:{customer_id}:{n}",
        now=now,
    )


def _guessing(exc: RateLimited) -> CodeGuessing:
    seconds = exc.retry_after or 1
    return CodeGuessing(retry_after=seconds, seconds=seconds)


async def redeem_code(session: AsyncSession, *, code: str, customer_id: int) -> CouponRead:
    """兑换码 → a coupon: the code is marked redeemed by one conditional UPDATE (``WHERE
    redeemed_by IS NULL``), then the coupon issued as a claim would be (its total and the
    customer's limit hold; a refusal rolls the mark back with the caller's transaction).

    Wrong codes (unknown, or redeemed already) are counted per customer: past ``CODE_GUESSES``
    every attempt is refused for a while, right or wrong.

    Raises:
        CodeInvalid (422), CodeGuessing (429, with retry_after).
        CouponNotClaimable / CouponsSoldOut / CouponLimitReached (409).
    """
    limiter = get_rate_limiter()
    identifier = str(customer_id)
    try:
        await limiter.check(CODE_GUESSES, identifier)
    except RateLimited as exc:
        raise _guessing(exc) from None
    normal = normalise_code(code)
    now = clock.now()
    marked = None
    if normal and len(normal) <= 32 and set(normal) <= _CODE_CHARS:
        marked = (
            await session.execute(
                update(CouponCode)
                .where(CouponCode.code == normal, CouponCode.redeemed_by.is_(None))
                .values(redeemed_by=customer_id, redeemed_at=now)
                .returning(CouponCode.id, CouponCode.template_id)
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
    if marked is None:
        await limiter.count(CODE_GUESSES, identifier)
        raise CodeInvalid()
    code_id, template_id = marked
    coupon = await issue_coupon(
        session,
        template_id=template_id,
        customer_id=customer_id,
        source=CouponSource.code,
        key=f"code:{code_id}",
        now=now,
    )
    await session.execute(
        update(CouponCode)
        .where(CouponCode.id == code_id)
        .values(coupon_id=coupon.id)
        .execution_options(synchronize_session=False)
    )
    return coupon


def in_scope(
    scope: Scope, *, product_id: int, category_ids: set[int], brand_id: int | None, sku_ids: set[int]
) -> bool:
    """Whether a product is (at least partly) in a scope: a product page shows the coupon."""
    if product_id in scope.exclude_product_ids or (sku_ids and sku_ids <= set(scope.exclude_sku_ids)):
        return False
    return (
        scope.all_goods
        or product_id in scope.product_ids
        or bool(category_ids & set(scope.category_ids))
        or (brand_id is not None and brand_id in scope.brand_ids)
        or bool(sku_ids & set(scope.sku_ids))
    )


async def next_claim_start(session: AsyncSession, *, now: dt.datetime) -> dt.datetime | None:
    """When the next active template offered for claiming opens its claim window (after ``now``):
    a boundary of what a guest is shown (``list_claimable`` changes then)."""
    return (
        await session.execute(
            select(func.min(CouponTemplate.claim_starts_at)).where(
                CouponTemplate.status == str(CouponTemplateStatus.active),
                CouponTemplate.claimable.is_(True),
                CouponTemplate.claim_starts_at > now,
            )
        )
    ).scalar_one_or_none()


async def list_claimable(
    session: AsyncSession, *, customer_id: int | None, product_id: int | None = None
) -> list[CouponTemplateRead]:
    """领券中心 (or a product page's coupons): active, claimable templates in their claim window,
    not sold out, that this customer may still claim (all of them for a guest), ending soonest
    first.

    Raises: ProductNotFound (404, catalog) for an unknown ``product_id``.
    """
    now = clock.now()
    query = (
        select(CouponTemplate)
        .where(*_claim_window(now), CouponTemplate.issued_quantity < CouponTemplate.total_quantity)
        .order_by(CouponTemplate.claim_ends_at.is_(None), CouponTemplate.claim_ends_at, CouponTemplate.id)
    )
    if customer_id is not None:
        query = query.outerjoin(
            CouponHolding,
            and_(CouponHolding.template_id == CouponTemplate.id, CouponHolding.customer_id == customer_id),
        ).where(
            or_(
                CouponHolding.received.is_(None),
                CouponHolding.received < CouponTemplate.per_customer_limit,
            )
        )
    templates = [template_read(row) for row in (await session.execute(query)).scalars()]
    if product_id is None:
        return templates
    product = await catalog.get_product(session, product_id=product_id)
    category = await catalog.get_category(session, category_id=product.category_id)
    category_ids = {int(part) for part in category.path.strip("/").split("/") if part}
    sku_ids = {sku.id for sku in await catalog.list_skus(session, product_id=product_id)}
    return [
        t
        for t in templates
        if in_scope(
            t.scope,
            product_id=product_id,
            category_ids=category_ids,
            brand_id=product.brand_id,
            sku_ids=sku_ids,
        )
    ]


async def list_wallet(
    session: AsyncSession, *, customer_id: int, status: CouponStatus | None = None
) -> list[CouponRead]:
    """The customer's coupons (in ``status`` when given), soonest-expiring first."""
    return await wallet_rows(session, customer_id=customer_id, statuses=None if status is None else [status])
