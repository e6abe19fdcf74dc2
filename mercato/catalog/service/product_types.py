"""Product types and their attributes: spec attributes generate SKUs, parameters are shown.

Attribute codes and values are referred to by products (``params``) and SKUs (``spec``), so an
attribute value in use cannot be removed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import (
    AttributeCodeTaken,
    AttributeNotFound,
    AttributeValueInUse,
    AttributeValueNotFound,
    AttributeValueTaken,
    NameTaken,
    ProductTypeNotFound,
)
from mercato.catalog.models import Attribute, AttributeValue, Product, ProductType, Sku
from mercato.catalog.schemas import (
    AttributeCreate,
    AttributeKind,
    AttributeRead,
    AttributeValueRead,
    AttributeValueWrite,
    ProductTypeCreate,
    ProductTypeRead,
    ProductTypeUpdate,
)
from mercato.catalog.service.common import Conflicts, changed, unique_guard
from mercato.catalog.states import SkuStatus
from mercato.core import clock
from mercato.core.errors import FieldError
from mercato.core.i18n import N_

TYPE_CONFLICT: Conflicts = {("catalog_product_type", ("name",)): NameTaken}
ATTRIBUTE_CONFLICT: Conflicts = {("catalog_attribute", ("product_type_id", "code")): AttributeCodeTaken}
VALUE_CONFLICT: Conflicts = {("catalog_attribute_value", ("attribute_id", "value")): AttributeValueTaken}


async def _get_row(
    session: AsyncSession, product_type_id: int, *, loc: tuple[str | int, ...] | None = None
) -> ProductType:
    row = await session.get(ProductType, product_type_id)
    if row is None:
        fields = (
            [FieldError(loc=loc, code=ProductTypeNotFound.code, message=N_("No such product type."))]
            if loc
            else None
        )
        raise ProductTypeNotFound(fields=fields)
    return row


async def find_product_type_row(
    session: AsyncSession, product_type_id: int, *, loc: tuple[str | int, ...]
) -> ProductType:
    """The product type a body refers to (``loc`` names the field in the 404's field error)."""
    return await _get_row(session, product_type_id, loc=loc)


async def load_attributes(
    session: AsyncSession, product_type_ids: list[int]
) -> dict[int, list[AttributeRead]]:
    """The attributes (with values) of each product type, ordered by position then id."""
    found: dict[int, list[AttributeRead]] = {type_id: [] for type_id in product_type_ids}
    if not product_type_ids:
        return found
    attributes = (
        (
            await session.execute(
                select(Attribute)
                .where(Attribute.product_type_id.in_(product_type_ids))
                .order_by(Attribute.position, Attribute.id)
            )
        )
        .scalars()
        .all()
    )
    values: dict[int, list[AttributeValueRead]] = defaultdict(list)
    if attributes:
        rows = (
            await session.execute(
                select(AttributeValue)
                .where(AttributeValue.attribute_id.in_([a.id for a in attributes]))
                .order_by(AttributeValue.position, AttributeValue.id)
            )
        ).scalars()
        for row in rows:
            values[row.attribute_id].append(AttributeValueRead.model_validate(row))
    for attribute in attributes:
        found[attribute.product_type_id].append(
            AttributeRead(
                id=attribute.id,
                code=attribute.code,
                name=attribute.name,
                name_en=attribute.name_en,
                kind=AttributeKind(attribute.kind),
                position=attribute.position,
                values=values[attribute.id],
            )
        )
    return found


async def _read(session: AsyncSession, row: ProductType) -> ProductTypeRead:
    attributes = (await load_attributes(session, [row.id]))[row.id]
    return ProductTypeRead(
        id=row.id, name=row.name, name_en=row.name_en, attributes=attributes, created_at=row.created_at
    )


def _view(product_type: ProductTypeRead) -> dict[str, Any]:
    return product_type.model_dump(mode="json", exclude={"id", "created_at"})


async def get_product_type(session: AsyncSession, *, product_type_id: int) -> ProductTypeRead:
    """Raises: ProductTypeNotFound."""
    return await _read(session, await _get_row(session, product_type_id))


async def list_product_types(session: AsyncSession) -> list[ProductTypeRead]:
    """Every product type by name (a shop has tens, not thousands: no pagination)."""
    rows = (
        (await session.execute(select(ProductType).order_by(ProductType.name, ProductType.id)))
        .scalars()
        .all()
    )
    attributes = await load_attributes(session, [row.id for row in rows])
    return [
        ProductTypeRead(
            id=row.id,
            name=row.name,
            name_en=row.name_en,
            attributes=attributes[row.id],
            created_at=row.created_at,
        )
        for row in rows
    ]


def _add_values(session: AsyncSession, attribute_id: int, values: list[AttributeValueWrite]) -> None:
    for value in values:
        session.add(
            AttributeValue(
                attribute_id=attribute_id, value=value.value, value_en=value.value_en, position=value.position
            )
        )


def _check_unique_values(values: list[AttributeValueWrite]) -> None:
    seen = [value.value for value in values]
    if len(seen) != len(set(seen)):
        raise AttributeValueTaken()


async def _add_attribute(session: AsyncSession, product_type_id: int, data: AttributeCreate) -> Attribute:
    _check_unique_values(data.values)
    attribute = Attribute(
        product_type_id=product_type_id,
        code=data.code,
        name=data.name,
        name_en=data.name_en,
        kind=data.kind.value,
        position=data.position,
    )
    async with unique_guard(session, ATTRIBUTE_CONFLICT):
        session.add(attribute)
    _add_values(session, attribute.id, data.values)
    await session.flush()
    return attribute


async def create_product_type(
    session: AsyncSession, *, data: ProductTypeCreate, actor: identity.Actor
) -> ProductTypeRead:
    """Create a product type with its attributes and their values.

    Raises:
        NameTaken (409), AttributeCodeTaken (409), AttributeValueTaken (409).
    """
    codes = [attribute.code for attribute in data.attributes]
    if len(codes) != len(set(codes)):
        raise AttributeCodeTaken()
    row = ProductType(name=data.name, name_en=data.name_en, created_at=clock.now())
    async with unique_guard(session, TYPE_CONFLICT):
        session.add(row)
    for attribute in data.attributes:
        await _add_attribute(session, row.id, attribute)
    product_type = await _read(session, row)
    await identity.record_audit(
        session,
        actor=actor,
        action="product_type.create",
        object_type="product_type",
        object_id=str(row.id),
        after=_view(product_type),
    )
    return product_type


async def update_product_type(
    session: AsyncSession, *, product_type_id: int, data: ProductTypeUpdate, actor: identity.Actor
) -> ProductTypeRead:
    """Rename a product type.

    Raises:
        ProductTypeNotFound, NameTaken (409).
    """
    row = await _get_row(session, product_type_id)
    before = {"name": row.name, "name_en": row.name_en}
    async with unique_guard(session, TYPE_CONFLICT):
        if data.name is not None:
            row.name = data.name
        if data.name_en is not None:
            row.name_en = data.name_en
    old, new = changed(before, {"name": row.name, "name_en": row.name_en})
    if new:
        await identity.record_audit(
            session,
            actor=actor,
            action="product_type.update",
            object_type="product_type",
            object_id=str(product_type_id),
            before=old,
            after=new,
        )
    return await _read(session, row)


async def add_attribute(
    session: AsyncSession, *, product_type_id: int, data: AttributeCreate, actor: identity.Actor
) -> ProductTypeRead:
    """Add an attribute (with values) to a product type.

    Raises:
        ProductTypeNotFound, AttributeCodeTaken (409), AttributeValueTaken (409).
    """
    row = await _get_row(session, product_type_id)
    attribute = await _add_attribute(session, product_type_id, data)
    await identity.record_audit(
        session,
        actor=actor,
        action="product_type.add_attribute",
        object_type="product_type",
        object_id=str(product_type_id),
        after={"attribute_id": attribute.id, **data.model_dump(mode="json")},
    )
    return await _read(session, row)


async def _get_attribute(session: AsyncSession, product_type_id: int, attribute_id: int) -> Attribute:
    await _get_row(session, product_type_id)
    attribute = await session.get(Attribute, attribute_id)
    if attribute is None or attribute.product_type_id != product_type_id:
        raise AttributeNotFound()
    return attribute


async def _attribute_read(session: AsyncSession, attribute: Attribute) -> AttributeRead:
    attributes = (await load_attributes(session, [attribute.product_type_id]))[attribute.product_type_id]
    return next(a for a in attributes if a.id == attribute.id)


async def add_attribute_value(
    session: AsyncSession,
    *,
    product_type_id: int,
    attribute_id: int,
    data: AttributeValueWrite,
    actor: identity.Actor,
) -> AttributeRead:
    """Add an allowed value to an attribute.

    Raises:
        ProductTypeNotFound, AttributeNotFound, AttributeValueTaken (409).
    """
    attribute = await _get_attribute(session, product_type_id, attribute_id)
    async with unique_guard(session, VALUE_CONFLICT):
        _add_values(session, attribute.id, [data])
    await identity.record_audit(
        session,
        actor=actor,
        action="product_type.add_attribute_value",
        object_type="product_type",
        object_id=str(product_type_id),
        after={"attribute": attribute.code, **data.model_dump(mode="json")},
    )
    return await _attribute_read(session, attribute)


async def remove_attribute_value(
    session: AsyncSession, *, product_type_id: int, attribute_id: int, value_id: int, actor: identity.Actor
) -> AttributeRead:
    """Remove an allowed value that no product's params and no active SKU uses.

    Raises:
        ProductTypeNotFound, AttributeNotFound, AttributeValueNotFound,
        AttributeValueInUse (409).
    """
    attribute = await _get_attribute(session, product_type_id, attribute_id)
    value = await session.get(AttributeValue, value_id)
    if value is None or value.attribute_id != attribute.id:
        raise AttributeValueNotFound()
    if attribute.kind == AttributeKind.param:
        used = exists().where(
            Product.product_type_id == product_type_id,
            Product.params[attribute.code].as_string() == value.value,
        )
    else:
        used = (
            exists()
            .where(Sku.product_id == Product.id)
            .where(
                Product.product_type_id == product_type_id,
                Sku.status == SkuStatus.active,
                Sku.spec[attribute.code].as_string() == value.value,
            )
        )
    if (await session.execute(select(used))).scalar_one():
        raise AttributeValueInUse()
    before = {"attribute": attribute.code, "value": value.value, "value_en": value.value_en}
    await session.delete(value)
    await session.flush()
    await identity.record_audit(
        session,
        actor=actor,
        action="product_type.remove_attribute_value",
        object_type="product_type",
        object_id=str(product_type_id),
        before=before,
    )
    return await _attribute_read(session, attribute)
