"""Lookups other domains make: SKU references, and the stock read model kept from inventory events."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.errors import SkuNotFound
from mercato.catalog.models import Product, Sku
from mercato.catalog.schemas import SkuLabel, SkuRef
from mercato.catalog.service.caching import invalidate_products
from mercato.core import clock


async def get_sku_refs(session: AsyncSession, *, sku_ids: Collection[int]) -> dict[int, SkuRef]:
    """Return every requested SKU by id.

    Raises:
        SkuNotFound (404 catalog.sku_not_found): naming the ids that do not exist.
    """
    wanted = set(sku_ids)
    if not wanted:
        return {}
    rows = (await session.execute(select(Sku).where(Sku.id.in_(wanted)))).scalars()
    found = {row.id: SkuRef.model_validate(row) for row in rows}
    missing = sorted(wanted - found.keys())
    if missing:
        raise SkuNotFound(sku_ids=", ".join(map(str, missing)))
    return found


async def apply_stock_level(session: AsyncSession, *, sku_id: int, available: int, version: int) -> bool:
    """Record a SKU's sellable units over all warehouses, unless a newer figure is already held.

    Called by the handler of ``inventory.stock_level_changed``: deliveries are at least once and
    may arrive out of order, so the figure carries ``version`` (the ledger entry id behind it)
    and one conditional UPDATE keeps only the newest. The product's ``in_stock`` flag follows.
    Returns whether the figure was applied.
    """
    result = await session.execute(
        update(Sku)
        .where(Sku.id == sku_id, Sku.stock_version < version)
        .values(available_quantity=available, stock_version=version)
        .returning(Sku.product_id)
    )
    product_id = result.scalar_one_or_none()
    if product_id is None:
        return False
    any_available = exists().where(
        Sku.product_id == product_id, Sku.status == "active", Sku.available_quantity > 0
    )
    await session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(in_stock=select(any_available).scalar_subquery(), updated_at=clock.now())
    )
    await invalidate_products(session, [product_id])  # the product page shows availability
    return True


async def record_sales(session: AsyncSession, *, sold: Mapping[int, int]) -> None:
    """Add paid units to each product's ``sales_count`` (``{product_id: units}``), the figure
    behind "best-selling" sorts. Called once per paid order by ``orders``; one atomic
    ``sales_count = sales_count + n`` per product, in id order so concurrent orders never deadlock."""
    for product_id, units in sorted(sold.items()):
        if units > 0:
            await session.execute(
                update(Product)
                .where(Product.id == product_id)
                .values(sales_count=Product.sales_count + units)
                .execution_options(synchronize_session=False)
            )
    await invalidate_products(session, sold)


#: Values bound in one ``IN (...)`` list; longer lists are looked up in slices.
IN_CHUNK = 1_000


async def get_sku_ids_by_code(session: AsyncSession, *, codes: Collection[str]) -> dict[str, int]:
    """The ids of the SKUs with these codes (any status); codes that match no SKU are left out."""
    wanted = sorted(set(codes))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        rows = await session.execute(
            select(Sku.code, Sku.id).where(Sku.code.in_(wanted[start : start + IN_CHUNK]))
        )
        found.update(dict(rows.all()))
    return found


async def get_sku_labels(session: AsyncSession, *, sku_ids: Collection[int]) -> dict[int, SkuLabel]:
    """Code, product title and spec of each SKU by id; ids that match no SKU are left out."""
    wanted = sorted(set(sku_ids))
    found: dict[int, SkuLabel] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        rows = await session.execute(
            select(Sku.id, Sku.code, Sku.product_id, Product.title, Sku.spec)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id.in_(wanted[start : start + IN_CHUNK]))
        )
        for sku_id, code, product_id, title, spec in rows:
            found[sku_id] = SkuLabel(
                id=sku_id, code=code, product_id=product_id, product_title=title, spec=dict(spec)
            )
    return found


async def search_sku_ids(session: AsyncSession, *, text: str, limit: int = 500) -> list[int]:
    """Ids of the SKUs (any status) whose code or product title contains ``text``
    (case-insensitive), at most ``limit`` of them, lowest id first; a blank ``text`` finds none.

    For staff lists that search by SKU code or title (the console's stock page)."""
    needle = text.strip().lower()
    if not needle:
        return []
    rows = await session.execute(
        select(Sku.id)
        .join(Product, Product.id == Sku.product_id)
        .where(
            or_(
                func.lower(Sku.code).contains(needle, autoescape=True),
                func.lower(Product.title).contains(needle, autoescape=True),
            )
        )
        .order_by(Sku.id)
        .limit(max(1, limit))
    )
    return list(rows.scalars())
