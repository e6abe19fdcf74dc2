"""Pricing errors (stable codes ``pricing.*``)."""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound


class ShippingTemplateNotFound(NotFound):
    code = "pricing.shipping_template_not_found"
    message = "Shipping template not found."


class ShippingTemplateNameTaken(Conflict):
    code = "pricing.shipping_template_name_taken"
    message = "A shipping template with this name already exists."


class ShippingRulesInvalid(InvalidInput):
    code = "pricing.shipping_rules_invalid"
    message = "A template needs exactly one rule for everywhere else (*) and no region twice."
