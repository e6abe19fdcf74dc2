"""Demo data for embedded mode: idempotent, safe to run on every start."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, inventory
from mercato.core.db import reset_database, uow
from mercato.core.events import deliver_pending
from mercato.core.settings import get_settings
from mercato.demo.banners import seed_banners
from mercato.demo.catalog import seed_catalog
from mercato.demo.content import CATEGORIES, WAREHOUSES
from mercato.demo.orders import seed_orders
from mercato.demo.promotions import seed_promotions
from mercato.demo.shop import seed_shop
from mercato.demo.social import seed_flash_sales, seed_groups_and_bargains
from mercato.worker import register

#: Told each step of the demo build, as one line of text.
Progress = Callable[[str], None]

DEMO_STAFF_EMAIL = "admin@example.com"
DEMO_STAFF_PASSWORD = "mercato-admin-2026"  # noqa: S105 - printed demo login, embedded mode only
DEMO_CUSTOMER_PHONE = "+8613800138000"
DEMO_CUSTOMER_EMAIL = "shopper@example.com"
DEMO_CUSTOMER_PASSWORD = "mercato-shop-2026"  # noqa: S105 - printed demo login, embedded mode only

DEMO_WAREHOUSE = WAREHOUSES[0][0]

DEMO_ROLES = {
    "Catalog manager": (
        "Products, categories, stock and listing review",
        ["catalog.read", "catalog.write", "catalog.review", "inventory.read", "inventory.write"],
    ),
    "Customer service": (
        "Orders, customers and refunds",
        ["orders.read", "orders.write", "orders.refund", "customers.read"],
    ),
    "Auditor": ("Read-only access to the audit log and reports", ["audit.read", "analytics.read"]),
}


async def _seed(session: AsyncSession) -> list[str]:
    created: list[str] = []
    meta = identity.RequestMeta(ip=None, user_agent="mercato demo")
    try:
        await identity.create_staff(
            session,
            email=DEMO_STAFF_EMAIL,
            password=DEMO_STAFF_PASSWORD,
            name="Demo admin",
            is_superuser=True,
        )
        created.append(f"staff {DEMO_STAFF_EMAIL}")
    except identity.StaffEmailTaken:
        pass
    system = identity.Actor(staff_id=None, label="demo")
    for name, (description, permissions) in DEMO_ROLES.items():
        try:
            await identity.create_role(
                session, name=name, description=description, permissions=permissions, actor=system
            )
            created.append(f"role {name}")
        except identity.RoleNameTaken:
            pass
    try:
        customer = await identity.create_customer(
            session,
            phone=DEMO_CUSTOMER_PHONE,
            email=DEMO_CUSTOMER_EMAIL,
            password=DEMO_CUSTOMER_PASSWORD,
            name="演示用户",
            meta=meta,
        )
    except identity.AccountExists:
        return created
    created.append(f"customer {DEMO_CUSTOMER_PHONE}")
    await identity.add_address(
        session,
        customer_id=customer.id,
        data=identity.AddressWrite(
            recipient="李雷",
            phone="13800138000",
            province="上海市",
            city="上海市",
            district="浦东新区",
            detail="世纪大道 100 号 8 楼",
            postal_code="200120",
            is_default=True,
        ),
    )
    return created


async def _seed_catalog(progress: Progress) -> list[str]:
    """The demo assortment, once: skipped when its warehouses already exist."""
    count = get_settings().demo_products
    async with uow() as session:
        existing = {w.code for w in await inventory.list_warehouses(session)}
        if DEMO_WAREHOUSE in existing or count == 0:
            return []
        progress(f"demo: building the demo shop ({count} products, MERCATO_DEMO_PRODUCTS); this happens once")
        await seed_catalog(session, count=count, progress=progress)
    # Settle the read models now (in-stock flags) instead of waiting for the first job run.
    register()
    delivered = 0
    while batch := await deliver_pending(limit=1000):
        delivered += batch
        progress(f"demo: stock and listings settled, {delivered} events…")
    return [f"{count} products in {len(CATEGORIES)} categories with stock in 3 warehouses and a pickup store"]


async def _seed_banners() -> list[str]:
    """The demo home-page banners, once: skipped when the shop has any banner."""
    async with uow() as session:
        return await seed_banners(session)


async def _seed_shop() -> list[str]:
    """The demo shop's profile and legal pages, once (before the demo customer consents)."""
    async with uow() as session:
        return await seed_shop(session)


async def _seed_orders(progress: Progress) -> list[str]:
    """The demo orders in every state, once, after the catalogue and the demo customer exist."""
    register()  # the orders' events (paid, shipped…) are handled as the build goes
    return await seed_orders(
        shopper_phone=DEMO_CUSTOMER_PHONE, count=get_settings().demo_products, progress=progress
    )


async def _seed_promotions() -> list[str]:
    """The demo campaigns, promotions and coupons, once, after the orders (so the figures of the
    demo orders stay those of list prices)."""
    async with uow() as session:
        made = await seed_promotions(session, shopper_phone=DEMO_CUSTOMER_PHONE)
    async with uow() as session:
        made += await seed_flash_sales(session)
    return made + await seed_groups_and_bargains(shopper_phone=DEMO_CUSTOMER_PHONE)


def _silent(_line: str) -> None:
    """Progress nobody reads."""


async def seed(progress: Progress = _silent) -> list[str]:
    """Create what is missing of the demo data; return what was created. ``progress`` is told
    each step as it starts (``mercato run`` and ``mercato demo`` print them: the first build of the
    catalogue takes a while)."""
    try:
        profile = await _seed_shop()  # first: the demo customer consents to its privacy policy
        async with uow() as session:
            created = await _seed(session)
        catalogue = await _seed_catalog(progress)
        made = created + catalogue + await _seed_banners() + profile + await _seed_orders(progress)
        return made + await _seed_promotions()
    finally:
        await reset_database()
