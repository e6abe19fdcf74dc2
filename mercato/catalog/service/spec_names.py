"""Spec names for shoppers: a SKU's spec is held as attribute codes and values (``colour: 远峰蓝``,
on a cart line, and frozen on an order line at placement); pages show it as the product page
does, with the attribute's name (颜色 / Colour) and the value's name in the shopper's language.

The names are today's (a renamed attribute shows its new name on old orders); a code or value
the product type no longer has shows as held, so a frozen order line always reads.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.models import Product, Sku
from mercato.catalog.schemas import AttributeKind, SpecName
from mercato.catalog.service.product_types import load_attributes
from mercato.catalog.service.references import IN_CHUNK


async def name_specs(
    session: AsyncSession, *, specs: Mapping[int, Mapping[str, str]]
) -> dict[int, list[SpecName]]:
    """Each SKU's ``specs[sku_id]`` (code → value) as names in Chinese and English, in the product
    type's order of attributes; a SKU, code or value the catalogue does not know shows as held."""
    wanted = sorted(specs)
    type_of: dict[int, int] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        rows = await session.execute(
            select(Sku.id, Product.product_type_id)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id.in_(wanted[start : start + IN_CHUNK]))
        )
        for sku_id, type_id in rows:
            type_of[sku_id] = type_id
    attributes = await load_attributes(session, sorted(set(type_of.values())))
    named: dict[int, list[SpecName]] = {}
    for sku_id, spec in specs.items():
        known = [a for a in attributes.get(type_of.get(sku_id, 0), []) if a.kind == AttributeKind.spec]
        names: list[SpecName] = []
        for attribute in (a for a in known if a.code in spec):
            value = spec[attribute.code]
            value_en = next((v.value_en for v in attribute.values if v.value == value), "")
            names.append(
                SpecName(
                    code=attribute.code,
                    name=attribute.name,
                    name_en=attribute.name_en,
                    value=value,
                    value_en=value_en,
                )
            )
        codes = {a.code for a in known}
        names += [
            SpecName(code=code, name=code, name_en="", value=value, value_en="")
            for code, value in spec.items()
            if code not in codes
        ]
        named[sku_id] = names
    return named
