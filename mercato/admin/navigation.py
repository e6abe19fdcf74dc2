"""The console's menu: one registry of areas (groups) and their pages (items), from which the
sidebar and the breadcrumbs are drawn.

A module adds its console pages with ``add_item(group, NavItem(...))`` at import time (its
routes module), so the shell never needs editing. Each item names the permission a staff member
must hold to see it (the page itself still checks it: a hidden page is refused by URL too); a
group none of whose items the staff member may see is not shown. The current page is the item
whose ``match`` prefix is the longest one the path starts with (``exact`` items only match their
own URL). Labels are English msgids, translated where they are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mercato import identity
from mercato.core.i18n import N_
from mercato.identity import StaffRead
from mercato.web.templates import templates


@dataclass(frozen=True)
class NavItem:
    """A console page in the menu: its label (msgid), URL and the permission that shows it."""

    label: str
    url: str
    permission: str | None
    #: The path prefix of the item's pages (blank: its URL); ``exact`` matches the URL alone.
    match: str = ""
    exact: bool = False

    def matches(self, path: str) -> int:
        """How specific this item is for ``path``: the length of its prefix, 0 if it is not."""
        prefix = self.match or self.url
        if self.exact:
            return len(prefix) if path == prefix else 0
        return len(prefix) if path.startswith(prefix) else 0


@dataclass
class NavGroup:
    """An area of the console (概览, 订单, 商品 …) and its pages, in menu order."""

    key: str
    label: str
    items: list[NavItem] = field(default_factory=list)


@dataclass(frozen=True)
class Menu:
    """What one staff member sees on one page: the visible groups and the current page."""

    groups: list[NavGroup]
    group: NavGroup | None
    item: NavItem | None
    path: str

    @property
    def at_item(self) -> bool:
        """True on the current item's own URL (its breadcrumb is then the page itself)."""
        return self.item is not None and self.item.url == self.path


REGISTRY: list[NavGroup] = [
    NavGroup("overview", N_("At a glance"), [NavItem(N_("Workbench"), "/admin/", None, exact=True)]),
    NavGroup(
        "orders",
        N_("Orders"),
        [
            NavItem(N_("Orders"), "/admin/orders/", "orders.read"),
            NavItem(N_("Batch shipping"), "/admin/orders/batch-ship", "fulfillment.write"),
            NavItem(N_("After-sales"), "/admin/aftersales/", "aftersales.read"),
            NavItem(N_("Pickup verification"), "/admin/pickup", "fulfillment.pickup"),
        ],
    ),
    NavGroup(
        "products",
        N_("Products"),
        [
            NavItem(N_("Products"), "/admin/catalog/", "catalog.read"),
            NavItem(N_("Review queue"), "/admin/catalog/review", "catalog.review"),
            NavItem(N_("Categories"), "/admin/catalog/categories", "catalog.read"),
            NavItem(N_("Brands"), "/admin/catalog/brands", "catalog.read"),
            NavItem(N_("Product types"), "/admin/catalog/types", "catalog.read"),
            NavItem(N_("Banned terms"), "/admin/catalog/banned-terms", "catalog.read"),
            NavItem(N_("Import"), "/admin/catalog/import", "catalog.write"),
        ],
    ),
    NavGroup(
        "inventory",
        N_("Inventory"),
        [
            NavItem(N_("Stock"), "/admin/inventory/", "inventory.read"),
            NavItem(N_("Low stock"), "/admin/inventory/low-stock", "inventory.read"),
            NavItem(N_("Ledger"), "/admin/inventory/ledger", "inventory.read"),
            NavItem(N_("Warehouses"), "/admin/inventory/warehouses", "inventory.read"),
        ],
    ),
    NavGroup("marketing", N_("Marketing")),
    NavGroup("customers", N_("Customers"), [NavItem(N_("Customers"), "/admin/customers/", "customers.read")]),
    NavGroup(
        "content",
        N_("Content"),
        [NavItem(N_("Banners"), "/admin/content/banners", "catalog.read", match="/admin/content/banners")],
    ),
    NavGroup("data", N_("Data")),
    NavGroup("merchants", N_("Merchants")),
    NavGroup(
        "settings",
        N_("Settings"),
        [
            NavItem(N_("Shop settings"), "/admin/settings", "settings.manage"),
            NavItem(N_("Shipping templates"), "/admin/shipping/", "settings.manage"),
            NavItem(N_("Staff members"), "/admin/staff/", "staff.manage"),
            NavItem(N_("Roles"), "/admin/staff/roles", "staff.manage"),
            NavItem(N_("Audit log"), "/admin/audit/", "audit.read"),
        ],
    ),
]


def add_item(group: str, item: NavItem) -> None:
    """Append a page to an area's menu (a module's routes call this once, at import).

    Raises:
        KeyError: no group has this key.
    """
    for known in REGISTRY:
        if known.key == group:
            if item not in known.items:
                known.items.append(item)
            return
    raise KeyError(group)


def menu(staff: StaffRead | None, path: str) -> Menu:
    """The groups and items ``staff`` may see, and the current page's item for ``path``."""
    if staff is None:
        return Menu([], None, None, path)
    groups = [
        NavGroup(group.key, group.label, visible)
        for group in REGISTRY
        if (
            visible := [item for item in group.items if item.permission is None or staff.has(item.permission)]
        )
    ]
    best: tuple[int, NavGroup | None, NavItem | None] = (0, None, None)
    for group in groups:
        for item in group.items:
            score = item.matches(path)
            if score > best[0]:
                best = (score, group, item)
    return Menu(groups, best[1], best[2], path)


def permission_description(code: str) -> str:
    """The permission's description (a msgid, translated where it is drawn), or its code."""
    return identity.PERMISSIONS.get(code, code)


templates.globals["console_menu"] = menu
templates.globals["permission_description"] = permission_description
