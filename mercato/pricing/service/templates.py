"""Shipping templates: staff keep them; checkout and the cart price shipping with the default one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.settings import get_settings
from mercato.pricing.errors import ShippingRulesInvalid, ShippingTemplateNameTaken, ShippingTemplateNotFound
from mercato.pricing.models import ShippingTemplateRow
from mercato.pricing.schemas import ShippingTemplateRead, ShippingTemplateWrite


def _check_rules(data: ShippingTemplateWrite) -> None:
    regions = [region for rule in data.rules for region in rule.regions]
    if regions.count("*") != 1 or len(regions) != len(set(regions)):
        raise ShippingRulesInvalid()


def _view(template: ShippingTemplateRead) -> dict[str, Any]:
    return template.model_dump(mode="json", exclude={"id"})


async def _clear_default(session: AsyncSession, keep: int | None) -> None:
    stmt = update(ShippingTemplateRow).where(ShippingTemplateRow.is_default.is_(True))
    if keep is not None:
        stmt = stmt.where(ShippingTemplateRow.id != keep)
    await session.execute(stmt.values(is_default=False))


async def create_shipping_template(
    session: AsyncSession, *, data: ShippingTemplateWrite, actor: identity.Actor
) -> ShippingTemplateRead:
    """Raises: ShippingRulesInvalid (422), ShippingTemplateNameTaken (409)."""
    _check_rules(data)
    if data.is_default:
        await _clear_default(session, None)
    now = clock.now()
    inserted = await insert_ignore(
        session,
        ShippingTemplateRow.__table__,
        {
            "name": data.name,
            "rules": [rule.model_dump(mode="json") for rule in data.rules],
            "express_surcharge_amount": data.express_surcharge_amount,
            "currency": get_settings().currency,
            "is_default": data.is_default,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not inserted:
        raise ShippingTemplateNameTaken()
    row = (
        await session.execute(select(ShippingTemplateRow).where(ShippingTemplateRow.name == data.name))
    ).scalar_one()
    template = ShippingTemplateRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="shipping_template.create",
        object_type="shipping_template",
        object_id=str(row.id),
        after=_view(template),
    )
    return template


async def update_shipping_template(
    session: AsyncSession, *, template_id: int, data: ShippingTemplateWrite, actor: identity.Actor
) -> ShippingTemplateRead:
    """Replace a template's name, rules, surcharge and default flag.

    Raises: ShippingTemplateNotFound, ShippingRulesInvalid, ShippingTemplateNameTaken.
    """
    row = await session.get(ShippingTemplateRow, template_id)
    if row is None:
        raise ShippingTemplateNotFound()
    _check_rules(data)
    before = ShippingTemplateRead.model_validate(row)
    taken = (
        await session.execute(
            select(ShippingTemplateRow.id).where(
                ShippingTemplateRow.name == data.name, ShippingTemplateRow.id != template_id
            )
        )
    ).first()
    if taken is not None:
        raise ShippingTemplateNameTaken()
    if data.is_default:
        await _clear_default(session, template_id)
    row.name = data.name
    row.rules = [rule.model_dump(mode="json") for rule in data.rules]
    row.express_surcharge_amount = data.express_surcharge_amount
    row.is_default = data.is_default
    row.updated_at = clock.now()
    await session.flush()
    after = ShippingTemplateRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="shipping_template.update",
        object_type="shipping_template",
        object_id=str(template_id),
        before=_view(before),
        after=_view(after),
    )
    return after


async def list_shipping_templates(session: AsyncSession) -> list[ShippingTemplateRead]:
    rows = (await session.execute(select(ShippingTemplateRow).order_by(ShippingTemplateRow.id))).scalars()
    return [ShippingTemplateRead.model_validate(row) for row in rows]


async def get_shipping_template(session: AsyncSession, *, template_id: int) -> ShippingTemplateRead:
    """Raises: ShippingTemplateNotFound (404)."""
    row = await session.get(ShippingTemplateRow, template_id, populate_existing=True)
    if row is None:
        raise ShippingTemplateNotFound()
    return ShippingTemplateRead.model_validate(row)


async def get_default_shipping_template(session: AsyncSession) -> ShippingTemplateRead | None:
    """The template checkout and the cart use (None: shipping is free)."""
    row = (
        await session.execute(select(ShippingTemplateRow).where(ShippingTemplateRow.is_default.is_(True)))
    ).scalar_one_or_none()
    return ShippingTemplateRead.model_validate(row) if row is not None else None
