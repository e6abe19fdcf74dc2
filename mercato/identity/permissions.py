"""The catalogue of staff permissions: ``<area>.<verb>``, checked on every admin action.

New domains add their permissions here so the role editor can offer them; a role naming a
permission not in this catalogue is refused.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "staff.manage": "Create staff accounts, give roles, edit roles",
    "audit.read": "Read the audit log",
    "customers.read": "See customer accounts (personal data masked)",
    "customers.write": "Edit or disable customer accounts",
    "catalog.read": "See products, categories and brands",
    "catalog.write": "Create and edit products, categories and brands",
    "catalog.review": "Approve or reject product listings",
    "inventory.read": "See stock levels and the stock ledger",
    "inventory.write": "Receive, adjust and transfer stock",
    "orders.read": "See orders",
    "orders.write": "Edit, cancel and fulfil orders",
    "orders.refund": "Refund payments",
    "fulfillment.read": "See shipments and their tracking",
    "fulfillment.write": "Ship orders and record tracking by hand",
    "fulfillment.pickup": "Hand over store-pickup orders against their pickup code",
    "aftersales.read": "See after-sales requests and the resolution report",
    "aftersales.write": "Approve or reject after-sales requests, refund them, ship replacements",
    "aftersales.receive": "Receive and grade returned goods",
    "aftersales.arbitrate": "Decide after-sales disputes",
    "promotions.write": "Create and edit coupons and campaigns",
    "content.write": "Edit pages, banners and SEO",
    "marketplace.manage": "Approve merchants and settle payouts",
    "analytics.read": "See reports and dashboards",
    "settings.manage": "Change shop settings",
}


def is_known(permission: str) -> bool:
    return permission in PERMISSIONS
