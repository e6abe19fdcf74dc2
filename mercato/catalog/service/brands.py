"""Brands: the name shoppers filter by, a logo and the documents authorising the shop to sell them.

``logo_key`` and ``authorization_keys`` are media storage keys; uploading the files is the media
service's job.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import BrandInUse, BrandNotFound, NameTaken, SlugTaken
from mercato.catalog.models import Brand, Product
from mercato.catalog.schemas import BrandCreate, BrandRead, BrandUpdate
from mercato.catalog.service.caching import invalidate_products
from mercato.catalog.service.common import Conflicts, changed, check_slug, temporary_slug, unique_guard
from mercato.core import clock
from mercato.core.errors import FieldError
from mercato.core.i18n import N_
from mercato.core.pagination import MAX_ID, InvalidCursor, Page, clamp_limit, decode_cursor, encode_cursor

CONFLICTS: Conflicts = {("catalog_brand", ("slug",)): SlugTaken, ("catalog_brand", ("name",)): NameTaken}


def _view(brand: BrandRead) -> dict[str, Any]:
    return brand.model_dump(mode="json", exclude={"id", "created_at", "updated_at"})


async def _get_row(
    session: AsyncSession, brand_id: int, *, loc: tuple[str | int, ...] | None = None
) -> Brand:
    row = await session.get(Brand, brand_id)
    if row is None:
        fields = [FieldError(loc=loc, code=BrandNotFound.code, message=N_("No such brand."))] if loc else None
        raise BrandNotFound(fields=fields)
    return row


async def find_brand_row(session: AsyncSession, brand_id: int, *, loc: tuple[str | int, ...]) -> Brand:
    """The brand a body refers to (``loc`` names the field in the 404's field error)."""
    return await _get_row(session, brand_id, loc=loc)


async def get_brand(session: AsyncSession, *, brand_id: int) -> BrandRead:
    """Raises: BrandNotFound."""
    return BrandRead.model_validate(await _get_row(session, brand_id))


async def list_brands(
    session: AsyncSession, *, query: str | None = None, cursor: str | None = None, limit: int | None = None
) -> Page[BrandRead]:
    """Brands by name (then id); ``query`` matches the Chinese or English name.

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    after = decode_cursor(cursor)
    stmt = select(Brand).order_by(Brand.name, Brand.id).limit(size + 1)
    if after is not None:
        if not (
            isinstance(after, list)
            and len(after) == 2
            and isinstance(after[0], str)
            and len(after[0]) <= 60
            and "\x00" not in after[0]
            and type(after[1]) is int
            and 0 <= after[1] <= MAX_ID
        ):
            raise InvalidCursor()
        stmt = stmt.where((Brand.name > after[0]) | ((Brand.name == after[0]) & (Brand.id > after[1])))
    if query:
        needle = query.lower()
        stmt = stmt.where(
            func.lower(Brand.name).contains(needle, autoescape=True)
            | func.lower(Brand.name_en).contains(needle, autoescape=True)
        )
    rows = list((await session.execute(stmt)).scalars())
    page = rows[:size]
    next_cursor = encode_cursor([page[-1].name, page[-1].id]) if len(rows) > size else None
    return Page[BrandRead](items=[BrandRead.model_validate(row) for row in page], next_cursor=next_cursor)


async def create_brand(session: AsyncSession, *, data: BrandCreate, actor: identity.Actor) -> BrandRead:
    """Create a brand.

    Raises:
        SlugReserved (422), NameTaken (409), SlugTaken (409).
    """
    if data.slug is not None:
        check_slug(data.slug, prefix="b", own_id=None, loc=("body", "slug"))
    now = clock.now()
    row = Brand(
        name=data.name,
        name_en=data.name_en,
        slug=data.slug or temporary_slug(),
        authorization_keys=list(data.authorization_keys),
        authorization_expires_on=data.authorization_expires_on,
        created_at=now,
        updated_at=now,
    )
    async with unique_guard(session, CONFLICTS):
        session.add(row)
    if data.slug is None:
        row.slug = f"b-{row.id}"
        await session.flush()
    brand = BrandRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="brand.create",
        object_type="brand",
        object_id=str(row.id),
        after=_view(brand),
    )
    return brand


async def update_brand(
    session: AsyncSession, *, brand_id: int, data: BrandUpdate, actor: identity.Actor
) -> BrandRead:
    """Change a brand; ``authorization_expires_on`` sent as null is cleared. The logo changes only
    through ``set_brand_logo`` (an upload), never by naming a storage key.

    Raises:
        BrandNotFound, SlugReserved (422), NameTaken (409), SlugTaken (409).
    """
    row = await _get_row(session, brand_id)
    before = BrandRead.model_validate(row)
    if data.slug is not None:
        check_slug(data.slug, prefix="b", own_id=row.id, loc=("body", "slug"))
    async with unique_guard(session, CONFLICTS):
        for field in ("name", "name_en", "slug", "authorization_keys"):
            value = getattr(data, field)
            if value is not None:
                setattr(row, field, list(value) if field == "authorization_keys" else value)
        for field in ("authorization_expires_on",):
            if field in data.model_fields_set:
                setattr(row, field, getattr(data, field))
        row.updated_at = clock.now()
    after = BrandRead.model_validate(row)
    old, new = changed(_view(before), _view(after))
    if new:
        await identity.record_audit(
            session,
            actor=actor,
            action="brand.update",
            object_type="brand",
            object_id=str(brand_id),
            before=old,
            after=new,
        )
        product_ids = (
            await session.execute(select(Product.id).where(Product.brand_id == brand_id))
        ).scalars()
        await invalidate_products(session, product_ids)
    return after


async def delete_brand(session: AsyncSession, *, brand_id: int, actor: identity.Actor) -> None:
    """Delete a brand no product uses.

    Raises:
        BrandNotFound, BrandInUse (409).
    """
    row = await _get_row(session, brand_id)
    if (await session.execute(select(exists().where(Product.brand_id == brand_id)))).scalar_one():
        raise BrandInUse()
    before = _view(BrandRead.model_validate(row))
    try:
        async with session.begin_nested():
            await session.delete(row)
            await session.flush()
    except IntegrityError as exc:  # a product given the brand concurrently (PostgreSQL)
        raise BrandInUse() from exc
    await identity.record_audit(
        session,
        actor=actor,
        action="brand.delete",
        object_type="brand",
        object_id=str(brand_id),
        before=before,
    )
