"""The catalogue of staff permissions: ``<area>.<verb>``, checked on every admin action.

New domains add their permissions here so the role editor can offer them; a role naming a
permission not in this catalogue is refused. Descriptions are msgids (``N_``): pages show them
translated instead of the codes.
"""

from __future__ import annotations

from mercato.core.i18n import N_

PERMISSIONS: dict[str, str] = {
    "staff.manage": N_("Create staff accounts, give roles, edit roles"),
    "audit.read": N_("Read the audit log"),
    "customers.read": N_("See customer accounts (personal data masked)"),
    "customers.write": N_("Edit or disable customer accounts"),
    "catalog.read": N_("See products, categories and brands"),
    "catalog.write": N_("Create and edit products, categories and brands"),
    "catalog.review": N_("Approve or reject product listings"),
    "inventory.read": N_("See stock levels and the stock ledger"),
    "inventory.write": N_("Receive, adjust and transfer stock"),
    "orders.read": N_("See orders"),
    "orders.write": N_("Edit, cancel and fulfil orders"),
    "orders.refund": N_("Refund payments"),
    "orders.reveal_pii": N_("See a recipient's full phone number and address"),
    "fulfillment.read": N_("See shipments and their tracking"),
    "fulfillment.write": N_("Ship orders and record tracking by hand"),
    "fulfillment.pickup": N_("Hand over store-pickup orders against their pickup code"),
    "aftersales.read": N_("See after-sales requests and the resolution report"),
    "aftersales.write": N_("Approve or reject after-sales requests, refund them, ship replacements"),
    "aftersales.receive": N_("Receive and grade returned goods"),
    "aftersales.arbitrate": N_("Decide after-sales disputes"),
    "promotions.read": N_("See promotions, coupons, campaigns and their reports"),
    "promotions.write": N_("Create and edit coupons and campaigns"),
    "content.write": N_("Edit pages, banners and SEO"),
    "marketplace.manage": N_("Approve merchants and settle payouts"),
    "analytics.read": N_("See reports and dashboards"),
    "settings.manage": N_("Change shop settings"),
}


def is_known(permission: str) -> bool:
    return permission in PERMISSIONS
