"""Catalog factories: categories, brands, product types, products, SKUs and listed products, made
through the real services (each in its own committed unit of work)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import func, select

from mercato import catalog, identity
from mercato.catalog.models import ListingStatusChange, Product, Sku
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.identity.models import AuditEntry

SYSTEM = identity.Actor(staff_id=None, label="tests")
REVIEWER = identity.Actor(staff_id=None, label="reviewer@example.com")
_numbers = itertools.count(1)


async def make_category(
    name: str | None = None,
    *,
    parent_id: int | None = None,
    is_high_risk: bool = False,
    is_active: bool = True,
    slug: str | None = None,
    position: int = 0,
) -> catalog.CategoryRead:
    n = next(_numbers)
    async with uow() as session:
        return await catalog.create_category(
            session,
            data=catalog.CategoryCreate(
                name=name or f"类目{n}",
                name_en=f"Category {n}",
                slug=slug,
                parent_id=parent_id,
                position=position,
                is_high_risk=is_high_risk,
                is_active=is_active,
            ),
            actor=SYSTEM,
        )


async def make_brand(name: str | None = None, *, slug: str | None = None) -> catalog.BrandRead:
    n = next(_numbers)
    async with uow() as session:
        return await catalog.create_brand(
            session,
            data=catalog.BrandCreate(name=name or f"品牌{n}", name_en=f"Brand {n}", slug=slug),
            actor=SYSTEM,
        )


def _values(*pairs: tuple[str, str]) -> list[catalog.AttributeValueWrite]:
    return [catalog.AttributeValueWrite(value=v, value_en=e, position=i) for i, (v, e) in enumerate(pairs)]


async def make_product_type(name: str | None = None) -> catalog.ProductTypeRead:
    """A clothing type: specs colour (红色/黑色/白色) and size (S/M/L); params material (棉/麻) and
    origin (free text)."""
    n = next(_numbers)
    async with uow() as session:
        return await catalog.create_product_type(
            session,
            data=catalog.ProductTypeCreate(
                name=name or f"服装{n}",
                name_en=f"Clothing {n}",
                attributes=[
                    catalog.AttributeCreate(
                        code="colour",
                        name="颜色",
                        name_en="Colour",
                        kind=catalog.AttributeKind.spec,
                        position=0,
                        values=_values(("红色", "Red"), ("黑色", "Black"), ("白色", "White")),
                    ),
                    catalog.AttributeCreate(
                        code="size",
                        name="尺码",
                        name_en="Size",
                        kind=catalog.AttributeKind.spec,
                        position=1,
                        values=_values(("S", "S"), ("M", "M"), ("L", "L")),
                    ),
                    catalog.AttributeCreate(
                        code="material",
                        name="材质",
                        name_en="Material",
                        kind=catalog.AttributeKind.param,
                        position=2,
                        values=_values(("棉", "Cotton"), ("麻", "Linen")),
                    ),
                    catalog.AttributeCreate(
                        code="origin",
                        name="产地",
                        name_en="Origin",
                        kind=catalog.AttributeKind.param,
                        position=3,
                    ),
                ],
            ),
            actor=SYSTEM,
        )


async def make_product(
    *,
    category_id: int | None = None,
    product_type_id: int | None = None,
    title: str = "纯棉圆领T恤",
    **fields: Any,
) -> catalog.ProductRead:
    """A draft product (a new category and product type unless given)."""
    if category_id is None:
        category_id = (await make_category()).id
    if product_type_id is None:
        product_type_id = (await make_product_type()).id
    async with uow() as session:
        return await catalog.create_product(
            session,
            data=catalog.ProductCreate(
                product_type_id=product_type_id, category_id=category_id, title=title, **fields
            ),
            actor=SYSTEM,
        )


async def set_specs(product_id: int, specs: dict[str, list[str]], **kwargs: Any) -> list[catalog.SkuRead]:
    async with uow() as session:
        return await catalog.set_product_specs(
            session, product_id=product_id, data=catalog.SpecsWrite(specs=specs, **kwargs), actor=SYSTEM
        )


async def price_sku(sku_id: int, price_amount: int, **fields: Any) -> catalog.SkuRead:
    async with uow() as session:
        return await catalog.update_sku(
            session,
            sku_id=sku_id,
            data=catalog.SkuUpdate(price_amount=price_amount, **fields),
            actor=SYSTEM,
        )


async def make_priced_product(
    *, specs: dict[str, list[str]] | None = None, price_amount: int = 9900, **fields: Any
) -> tuple[catalog.ProductRead, list[catalog.SkuRead]]:
    """A draft product whose SKUs (one per combination; default: red and black) all cost ``price_amount``."""
    product = await make_product(**fields)
    skus = await set_specs(product.id, specs if specs is not None else {"colour": ["红色", "黑色"]})
    priced = [await price_sku(sku.id, price_amount) for sku in skus]
    return await get_product(product.id), priced


async def make_listed_product(
    *, price_amount: int = 9900, specs: dict[str, list[str]] | None = None, **fields: Any
) -> catalog.ProductRead:
    """A product on sale: priced, submitted and approved."""
    product, _skus = await make_priced_product(price_amount=price_amount, specs=specs, **fields)
    async with uow() as session:
        await catalog.submit_for_review(session, product_id=product.id, actor=SYSTEM)
    async with uow() as session:
        return await catalog.approve_listing(session, product_id=product.id, actor=REVIEWER)


async def get_product(product_id: int) -> catalog.ProductRead:
    async with uow(write=False) as session:
        return await catalog.get_product(session, product_id=product_id)


async def load_banned_terms() -> None:
    async with uow() as session:
        await catalog.ensure_default_banned_terms(session)


async def count(model: type, *where: Any) -> int:
    async with uow(write=False) as session:
        return int(
            (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def audit_actions() -> list[str]:
    async with uow(write=False) as session:
        return list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


async def outbox_names() -> list[str]:
    async with uow(write=False) as session:
        return list((await session.execute(select(OutboxEvent.name).order_by(OutboxEvent.id))).scalars())


async def snapshot() -> tuple[int, int, int, int, int]:
    """Row counts that a refused write must leave alone: products, SKUs, status changes, audit, outbox."""
    return (
        await count(Product),
        await count(Sku),
        await count(ListingStatusChange),
        await count(AuditEntry),
        await count(OutboxEvent),
    )


async def add_image(product_id: int, alt: str, size: tuple[int, int] = (64, 48)) -> catalog.ProductImageRead:
    """A PNG gradient of ``size`` stored as the product's last image."""
    from tests.factories.media import decoded, image_bytes  # noqa: PLC0415 - media imports Pillow

    async with uow() as s:
        return await catalog.add_product_image(
            s,
            product_id=product_id,
            image=decoded(image_bytes(size=size)),
            filename=f"{alt}.png",
            declared_type="image/png",
            alt=alt,
            actor=SYSTEM,
        )
