"""Pricing: the one price calculation every cart, checkout and order uses.

Public API:

- ``calculate(lines=..., context=..., providers=..., shipping=...) -> PriceResult``: pure and
  deterministic (see ``engine.py`` for the steps: price breaks, promotions, shipping, tax);
  ``calculate_total`` gives only its total (comparing many candidates)
- ``PromotionProvider``: the interface coupons and campaigns implement (issue "promotions"):
  ``name`` and ``propose(lines=..., context=...) -> [Proposal]``; ``LineState`` is what they see
- ``shipping_fee`` and ``rule_for``: shipping templates (by destination, pieces or weight,
  free over a threshold), also used to show "再买 ¥12 包邮"

- shipping templates kept by staff: ``create_shipping_template``, ``update_shipping_template``,
  ``list_shipping_templates``, ``get_shipping_template``, ``get_default_shipping_template``
  (audited writes)

Depends on: core, identity (audit). ``calculate`` itself uses no database and no clock: callers
load what it needs.
"""

from mercato.pricing.engine import LineState, PromotionProvider, calculate, calculate_total, unit_price
from mercato.pricing.errors import ShippingRulesInvalid, ShippingTemplateNameTaken, ShippingTemplateNotFound
from mercato.pricing.schemas import (
    Adjustment,
    AdjustmentTarget,
    Delivery,
    LineIn,
    LineOut,
    PriceBreakIn,
    PriceResult,
    PricingContext,
    Proposal,
    Reason,
    SellableLike,
    ShippingBasis,
    ShippingRule,
    ShippingTemplate,
    ShippingTemplateRead,
    ShippingTemplateWrite,
    Stacking,
    TaxMode,
)
from mercato.pricing.service.templates import (
    create_shipping_template,
    get_default_shipping_template,
    get_shipping_template,
    list_shipping_templates,
    update_shipping_template,
)
from mercato.pricing.shipping import rule_for, shipping_fee

__all__ = [
    "Adjustment",
    "AdjustmentTarget",
    "Delivery",
    "LineIn",
    "LineOut",
    "LineState",
    "PriceBreakIn",
    "PriceResult",
    "PricingContext",
    "PromotionProvider",
    "Proposal",
    "Reason",
    "SellableLike",
    "ShippingBasis",
    "ShippingRule",
    "ShippingRulesInvalid",
    "ShippingTemplate",
    "ShippingTemplateNameTaken",
    "ShippingTemplateNotFound",
    "ShippingTemplateRead",
    "ShippingTemplateWrite",
    "Stacking",
    "TaxMode",
    "calculate",
    "calculate_total",
    "create_shipping_template",
    "get_default_shipping_template",
    "get_shipping_template",
    "list_shipping_templates",
    "rule_for",
    "shipping_fee",
    "unit_price",
    "update_shipping_template",
]
