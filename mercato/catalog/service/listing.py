"""The listing workflow: named actions over the transition table in ``catalog/states.py``.

``submit_for_review`` runs the automatic checks (``service/compliance.py``): any blocking
finding refuses the submission with 422 ``catalog.listing_checks_failed`` and changes nothing.
A clean product goes to ``pending_review`` (always, when its category or an ancestor is
high-risk; otherwise unless ``compliance.AUTO_APPROVE_LOW_RISK`` is on, in which case the actor
"compliance" approves it at once). Reviewers holding catalog.review approve or reject (with a
reason); staff take products off sale and put them back (the checks run again).

Every move is one conditional UPDATE on the current status (a concurrent move loses with
409 ``catalog.illegal_transition``), one ``catalog_listing_status_change`` row, an audit entry,
and ``ProductListed``/``ProductDelisted`` in the outbox when the product enters or leaves sale.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Subquery, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import ListingChecksFailed, ProductNotFound
from mercato.catalog.events import ProductDelisted, ProductListed
from mercato.catalog.models import Category, ListingStatusChange, Product, ProductImage, Sku
from mercato.catalog.schemas import (
    ListingFinding,
    ListingStatusChangeRead,
    ProductRead,
    RejectListing,
    ReviewQueueItem,
    TakeOffSale,
)
from mercato.catalog.service import compliance
from mercato.catalog.service.banned_terms import active_term_rules
from mercato.catalog.service.caching import invalidate_products
from mercato.catalog.service.categories import high_risk_path, path_ids
from mercato.catalog.states import LISTING, ListingStatus
from mercato.core import clock
from mercato.core.errors import FieldError, IllegalTransition
from mercato.core.events import record_event
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor

#: Who approves a clean low-risk product when ``compliance.AUTO_APPROVE_LOW_RISK`` is on.
COMPLIANCE_ACTOR = identity.Actor(staff_id=None, label="compliance")


async def get_product_row(session: AsyncSession, product_id: int, *, lock: bool = False) -> Product:
    """The product's row; with ``lock``, held FOR UPDATE until the commit (PostgreSQL; SQLite
    writers are serialised anyway) so concurrent changes to its SKUs queue up.

    Raises:
        ProductNotFound.
    """
    row = await session.get(Product, product_id, with_for_update=lock, populate_existing=lock)
    if row is None:
        raise ProductNotFound()
    return row


async def move_listing(
    session: AsyncSession,
    row: Product,
    target: ListingStatus,
    *,
    actor: identity.Actor,
    action: str,
    reason: str = "",
    findings: Sequence[ListingFinding] = (),
) -> None:
    """Move ``row`` to ``target`` along the transition table and record the move.

    Raises:
        IllegalTransition (409 catalog.illegal_transition): no such edge, or the status changed
        under us.
    """
    current = ListingStatus(row.status)
    LISTING.check(current, target)
    now = clock.now()
    values: dict[str, object] = {"status": target.value, "updated_at": now}
    if target is ListingStatus.on_sale and row.published_at is None:
        values["published_at"] = now
    moved = (
        await session.execute(
            update(Product)
            .where(Product.id == row.id, Product.status == current.value)
            .values(**values)
            .returning(Product.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        raise IllegalTransition(code="catalog.illegal_transition", current=str(current), target=str(target))
    await session.refresh(row)
    session.add(
        ListingStatusChange(
            product_id=row.id,
            from_status=current.value,
            to_status=target.value,
            actor_id=actor.staff_id,
            actor_label=actor.label,
            reason=reason,
            findings=[finding.model_dump(mode="json") for finding in findings],
            created_at=now,
        )
    )
    await session.flush()
    await identity.record_audit(
        session,
        actor=actor,
        action=f"product.{action}",
        object_type="product",
        object_id=str(row.id),
        before={"status": current.value},
        after={"status": target.value, "reason": reason} if reason else {"status": target.value},
    )
    if target is ListingStatus.on_sale:
        await record_event(session, ProductListed(product_id=row.id, category_id=row.category_id))
    elif current is ListingStatus.on_sale:
        await record_event(session, ProductDelisted(product_id=row.id, reason=reason))
    await invalidate_products(session, [row.id])


async def reopen_for_edit(session: AsyncSession, row: Product, *, actor: identity.Actor) -> None:
    """Move a rejected or off-sale product back to draft before its content changes."""
    if row.status != ListingStatus.draft:
        await move_listing(session, row, ListingStatus.draft, actor=actor, action="reopen")


async def _candidate(session: AsyncSession, row: Product) -> compliance.ListingCandidate:
    skus = (await session.execute(select(Sku).where(Sku.product_id == row.id).order_by(Sku.id))).scalars()
    images = (
        await session.execute(select(func.count()).where(ProductImage.product_id == row.id))
    ).scalar_one()
    category = await session.get(Category, row.category_id)
    return compliance.ListingCandidate(
        title=row.title,
        title_en=row.title_en,
        subtitle=row.subtitle,
        description_html=row.description_html,
        category_id=row.category_id if category else None,
        is_high_risk=await high_risk_path(session, category.path if category else ""),
        image_count=images,
        skus=tuple(
            compliance.CandidateSku(
                id=sku.id,
                code=sku.code,
                status=sku.status,
                price_amount=sku.price_amount,
                market_price_amount=sku.market_price_amount,
            )
            for sku in skus
        ),
    )


async def _run_checks(session: AsyncSession, row: Product) -> tuple[list[ListingFinding], bool]:
    candidate = await _candidate(session, row)
    findings = compliance.check_listing(candidate, await active_term_rules(session))
    blocking = [finding for finding in findings if finding.blocking]
    if blocking:
        raise ListingChecksFailed(
            count=len(blocking),
            fields=[
                FieldError(loc=compliance.finding_loc(finding), code=finding.code, message=finding.message)
                for finding in blocking
            ],
        )
    return findings, candidate.is_high_risk


async def check_listing(session: AsyncSession, *, product_id: int) -> list[ListingFinding]:
    """Run the automatic checks without submitting (for the product editor).

    Raises:
        ProductNotFound.
    """
    row = await get_product_row(session, product_id)
    candidate = await _candidate(session, row)
    return compliance.check_listing(candidate, await active_term_rules(session))


async def submit_for_review(session: AsyncSession, *, product_id: int, actor: identity.Actor) -> ProductRead:
    """Submit a draft (or resubmit a rejected product) for review, after the automatic checks.

    Raises:
        ProductNotFound, IllegalTransition (409): not a draft or rejected product.
        ListingChecksFailed (422): blocking findings, one field error each; nothing changes.
    """
    row = await get_product_row(session, product_id)
    LISTING.check(ListingStatus(row.status), ListingStatus.pending_review)
    findings, is_high_risk = await _run_checks(session, row)
    await move_listing(
        session, row, ListingStatus.pending_review, actor=actor, action="submit", findings=findings
    )
    if compliance.AUTO_APPROVE_LOW_RISK and not is_high_risk:
        await move_listing(
            session,
            row,
            ListingStatus.on_sale,
            actor=COMPLIANCE_ACTOR,
            action="approve",
            reason="Passed the automatic checks in a low-risk category.",
        )
    return ProductRead.model_validate(row)


async def approve_listing(session: AsyncSession, *, product_id: int, actor: identity.Actor) -> ProductRead:
    """Approve a product waiting for review: it goes on sale.

    Raises:
        ProductNotFound, IllegalTransition (409).
    """
    row = await get_product_row(session, product_id)
    await move_listing(session, row, ListingStatus.on_sale, actor=actor, action="approve")
    return ProductRead.model_validate(row)


async def reject_listing(
    session: AsyncSession, *, product_id: int, data: RejectListing, actor: identity.Actor
) -> ProductRead:
    """Reject a product waiting for review, with the reason the seller will read.

    Raises:
        ProductNotFound, IllegalTransition (409).
    """
    row = await get_product_row(session, product_id)
    await move_listing(session, row, ListingStatus.rejected, actor=actor, action="reject", reason=data.reason)
    return ProductRead.model_validate(row)


async def take_off_sale(
    session: AsyncSession, *, product_id: int, data: TakeOffSale, actor: identity.Actor
) -> ProductRead:
    """Take a product off sale (it leaves the storefront at once).

    Raises:
        ProductNotFound, IllegalTransition (409).
    """
    row = await get_product_row(session, product_id)
    await move_listing(
        session, row, ListingStatus.off_sale, actor=actor, action="take_off_sale", reason=data.reason
    )
    return ProductRead.model_validate(row)


async def put_on_sale(session: AsyncSession, *, product_id: int, actor: identity.Actor) -> ProductRead:
    """Put an off-sale product back on sale; the automatic checks run again first (prices may
    have changed, and the dictionary may have grown).

    Raises:
        ProductNotFound, IllegalTransition (409), ListingChecksFailed (422).
    """
    row = await get_product_row(session, product_id)
    LISTING.check(ListingStatus(row.status), ListingStatus.on_sale)
    findings, _ = await _run_checks(session, row)
    await move_listing(
        session, row, ListingStatus.on_sale, actor=actor, action="put_on_sale", findings=findings
    )
    return ProductRead.model_validate(row)


async def list_listing_history(session: AsyncSession, *, product_id: int) -> list[ListingStatusChangeRead]:
    """Every status change of a product, oldest first.

    Raises:
        ProductNotFound.
    """
    await get_product_row(session, product_id)
    rows = (
        await session.execute(
            select(ListingStatusChange)
            .where(ListingStatusChange.product_id == product_id)
            .order_by(ListingStatusChange.id)
        )
    ).scalars()
    return [ListingStatusChangeRead.model_validate(row) for row in rows]


def _submissions() -> Subquery:
    """Each product's latest submission for review (its status change id)."""
    return (
        select(
            ListingStatusChange.product_id.label("product_id"),
            func.max(ListingStatusChange.id).label("change_id"),
        )
        .where(ListingStatusChange.to_status == ListingStatus.pending_review.value)
        .group_by(ListingStatusChange.product_id)
        .subquery()
    )


async def count_review_queue(session: AsyncSession) -> int:
    """How many products wait for review (the console's to-do): the ``list_review_queue`` rows."""
    submitted = _submissions()
    stmt = (
        select(func.count())
        .select_from(Product)
        .join(submitted, submitted.c.product_id == Product.id)
        .where(Product.status == ListingStatus.pending_review.value)
    )
    return int((await session.execute(stmt)).scalar_one())


async def list_review_queue(
    session: AsyncSession, *, cursor: str | None = None, limit: int | None = None
) -> Page[ReviewQueueItem]:
    """Products waiting for review, longest waiting first, with the findings of their submission
    and their category's risk.

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    submitted = _submissions()
    stmt = (
        select(Product, ListingStatusChange)
        .join(submitted, submitted.c.product_id == Product.id)
        .join(ListingStatusChange, ListingStatusChange.id == submitted.c.change_id)
        .where(Product.status == ListingStatus.pending_review.value)
        .order_by(submitted.c.change_id)
        .limit(size + 1)
    )
    if after is not None:
        stmt = stmt.where(submitted.c.change_id > after)
    rows = (await session.execute(stmt)).all()
    page = rows[:size]
    paths = {product.category_id: "" for product, _change in page}
    categories = (
        (await session.execute(select(Category).where(Category.id.in_(list(paths))))).scalars().all()
        if paths
        else []
    )
    ancestor_ids = {ancestor for category in categories for ancestor in path_ids(category.path)}
    ancestors = {
        row.id: row
        for row in (await session.execute(select(Category).where(Category.id.in_(ancestor_ids)))).scalars()
    }
    by_id = {category.id: category for category in categories}
    items: list[ReviewQueueItem] = []
    for product, change in page:
        chain = [ancestors[i] for i in path_ids(by_id[product.category_id].path) if i in ancestors]
        items.append(
            ReviewQueueItem(
                product=ProductRead.model_validate(product),
                category_names=[category.name for category in chain],
                is_high_risk=any(category.is_high_risk for category in chain),
                submitted_at=change.created_at,
                submitted_by=change.actor_label,
                findings=[ListingFinding.model_validate(finding) for finding in change.findings],
            )
        )
    next_cursor = encode_cursor(page[-1][1].id) if len(rows) > size else None
    return Page[ReviewQueueItem](items=items, next_cursor=next_cursor)
