"""The console shell: the sidebar drawn from the menu registry for what the staff member's roles
allow, the current page marked, and the breadcrumbs (area › page › the page's own title)."""

from __future__ import annotations

import re

from httpx import AsyncClient

from mercato.admin import navigation
from tests.web.pages import EN, staff_sign_in


def _menu(page: str, kind: str) -> str:
    start = page.index(f'<nav class="console-sidebar {kind}"')
    return page[start : page.index("</nav>", start)]


def sidebar_of(page: str) -> dict[str, list[str]]:
    """Group summary -> the item labels under it, as the sidebar shows them (the phone's drawer
    shows the same)."""
    block = _menu(page, "console-column")
    drawer = _menu(page, "console-drawer-panel")
    assert re.findall(r"<(?:a|summary)[^>]*>.*?<", drawer) == re.findall(r"<(?:a|summary)[^>]*>.*?<", block)
    groups: dict[str, list[str]] = {}
    for summary, items in re.findall(r"<summary>(.*?)</summary>\s*<ul>(.*?)</ul>", block, re.DOTALL):
        groups[summary] = re.findall(r"<a [^>]*>(.*?)</a>", items)
    return groups


def current_of(page: str) -> list[str]:
    block = _menu(page, "console-column")
    return re.findall(r'<a href="([^"]+)" aria-current="page">', block)


def breadcrumbs_of(page: str) -> list[str]:
    match = re.search(
        r'<nav class="breadcrumbs wrap" aria-label="Breadcrumb">\s*<ol>(.*?)</ol>', page, re.DOTALL
    )
    assert match is not None
    return [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li[^>]*>(.*?)</li>", match.group(1), re.DOTALL)
    ]


async def test_orders_reader_sees_only_the_overview_and_the_orders_group(client: AsyncClient) -> None:
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    page = await client.get("/admin/orders/", headers=EN)

    assert page.status_code == 200
    assert sidebar_of(page.text) == {"At a glance": ["Workbench"], "Orders": ["Orders"]}
    assert current_of(page.text) == ["/admin/orders/"]


async def test_a_hidden_page_is_still_refused_by_url(client: AsyncClient) -> None:
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    for path in ("/admin/catalog/", "/admin/staff/", "/admin/audit/", "/admin/inventory/"):
        response = await client.get(path, headers=EN)
        assert response.status_code == 403, path


async def test_a_superuser_sees_every_group_that_has_pages(client: AsyncClient) -> None:
    await staff_sign_in(client, "root@example.com", superuser=True)

    page = await client.get("/admin/", headers=EN)

    assert sidebar_of(page.text) == {
        "At a glance": ["Workbench"],
        "Orders": ["Orders", "Batch shipping", "After-sales", "Pickup verification"],
        "Products": [
            "Products",
            "Review queue",
            "Categories",
            "Brands",
            "Product types",
            "Banned terms",
            "Import",
        ],
        "Inventory": ["Stock", "Low stock", "Ledger", "Warehouses"],
        "Marketing": ["Promotions", "Coupons", "Campaigns", "Bargaining", "Flash sales", "Group buying"],
        "Customers": ["Customers"],
        "Content": ["Banners"],
        "Settings": ["Shop settings", "Shipping templates", "Staff members", "Roles", "Audit log"],
    }
    assert current_of(page.text) == ["/admin/"]
    assert breadcrumbs_of(page.text) == ["At a glance", "Workbench"]


async def test_a_page_a_module_adds_to_the_registry_shows_in_its_group(client: AsyncClient) -> None:
    item = navigation.NavItem("Coupons", "/admin/promotions/coupons", "promotions.write")
    navigation.add_item("marketing", item)
    try:
        await staff_sign_in(client, "marketer@example.com", "promotions.write")
        page = await client.get("/admin/", headers=EN)
    finally:
        navigation.REGISTRY[4].items.remove(item)

    assert sidebar_of(page.text) == {"At a glance": ["Workbench"], "Marketing": ["Coupons"]}


async def test_breadcrumbs_name_the_area_the_page_and_a_deeper_page_by_its_title(client: AsyncClient) -> None:
    await staff_sign_in(client, "buyer@example.com", "catalog.read", "catalog.write")

    brands = await client.get("/admin/catalog/brands", headers=EN)
    new_product = await client.get("/admin/catalog/products/new", headers=EN)

    assert breadcrumbs_of(brands.text) == ["Products", "Brands"]
    assert '<a href="/admin/catalog/brands" aria-current="page">Brands</a>' in brands.text
    assert breadcrumbs_of(new_product.text) == ["Products", "Products", "New product"]
    assert current_of(new_product.text) == ["/admin/catalog/"]


async def test_the_shell_is_translated(client: AsyncClient) -> None:
    await staff_sign_in(client, "clerk@example.com", "orders.read", "aftersales.read")

    page = await client.get("/admin/aftersales/", headers={"Accept-Language": "zh-CN"})

    assert sidebar_of(page.text) == {"概览": ["工作台"], "订单": ["订单", "售后"]}
    assert breadcrumbs_of(page.text) == ["订单", "售后"]
