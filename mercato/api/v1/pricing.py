"""Shipping templates (运费模板): fees by destination, pieces or weight, free over a threshold."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from mercato import pricing
from mercato.api.deps import DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.web.openapi import raises

router = APIRouter(prefix=f"{PREFIX}/admin/pricing", tags=["pricing"])

Manager = Annotated[StaffAuth, Depends(require("settings.manage"))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/shipping-templates")
async def list_shipping_templates(auth: Manager, session: DbSession) -> list[pricing.ShippingTemplateRead]:
    return await pricing.list_shipping_templates(session)


@router.post("/shipping-templates", status_code=status.HTTP_201_CREATED)
@raises(pricing.ShippingRulesInvalid, pricing.ShippingTemplateNameTaken)
async def create_shipping_template(
    data: pricing.ShippingTemplateWrite, auth: Manager, session: DbSession
) -> pricing.ShippingTemplateRead:
    """Create a template; ``is_default`` makes it the one checkout uses (the old default stops being it)."""
    return await pricing.create_shipping_template(session, data=data, actor=auth.actor)


@router.put("/shipping-templates/{template_id}")
@raises(pricing.ShippingTemplateNotFound, pricing.ShippingRulesInvalid, pricing.ShippingTemplateNameTaken)
async def update_shipping_template(
    template_id: Id, data: pricing.ShippingTemplateWrite, auth: Manager, session: DbSession
) -> pricing.ShippingTemplateRead:
    return await pricing.update_shipping_template(
        session, template_id=template_id, data=data, actor=auth.actor
    )
