"""Demo assortment: 10 top categories with 24 leaves, 10 brands, 5 product types, ``count``
products on sale with 1-12 SKUs each, a generated image each, and stock in 3 warehouses and a pickup store.

Everything goes through the domains' front doors as a staff member would (audited as "demo"),
so the demo data obeys the same rules as real data. Deterministic: the same count gives the same
shop.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity, inventory, pricing
from mercato.core import images
from mercato.demo.content import BRANDS, CATEGORIES, SERIES, STORE_ADDRESSES, TYPES, WAREHOUSES, Leaf
from mercato.demo.shop import PROFILE

ACTOR = identity.Actor(staff_id=None, label="demo")
PALETTE = (
    (230, 57, 70),
    (29, 53, 87),
    (69, 123, 157),
    (42, 157, 143),
    (233, 196, 106),
    (244, 162, 97),
    (131, 56, 236),
    (58, 134, 255),
    (255, 0, 110),
    (6, 214, 160),
)


def product_image(index: int, hue: int) -> bytes:
    """A 600 x 600 JPEG: a soft background, a shape and a number, different for every product."""
    rng = random.Random(index)
    base = PALETTE[hue % len(PALETTE)]
    background = tuple(min(255, c + 150) for c in base)
    image = Image.new("RGB", (600, 600), background)
    draw = ImageDraw.Draw(image)
    shape = index % 3
    box = (120 + rng.randint(-30, 30), 120 + rng.randint(-30, 30), 480, 480)
    if shape == 0:
        draw.ellipse(box, fill=base)
    elif shape == 1:
        draw.rounded_rectangle(box, radius=60, fill=base)
    else:
        draw.polygon([(300, 100), (500, 480), (100, 480)], fill=base)
    draw.text((40, 530), f"MERCATO DEMO #{index:03d}", fill=(40, 40, 40))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


async def _product_types(session: AsyncSession) -> dict[str, catalog.ProductTypeRead]:
    created = {}
    for key, (name, name_en, attributes) in TYPES.items():
        created[key] = await catalog.create_product_type(
            session,
            data=catalog.ProductTypeCreate(
                name=name,
                name_en=name_en,
                attributes=[
                    catalog.AttributeCreate(
                        code=code,
                        name=attr_name,
                        name_en=attr_en,
                        kind=catalog.AttributeKind(kind),
                        position=position,
                        values=[
                            catalog.AttributeValueWrite(value=zh, value_en=en, position=i)
                            for i, (zh, en) in enumerate(values)
                        ],
                    )
                    for position, (code, attr_name, attr_en, kind, values) in enumerate(attributes)
                ],
            ),
            actor=ACTOR,
        )
    return created


async def _categories(session: AsyncSession) -> list[tuple[Leaf, int, int]]:
    """Create the tree; return (leaf, leaf category id, top index)."""
    leaves = []
    for top_index, top in enumerate(CATEGORIES):
        parent = await catalog.create_category(
            session,
            data=catalog.CategoryCreate(
                name=top.name,
                name_en=top.name_en,
                slug=top.slug,
                position=top_index,
                is_high_risk=top.high_risk,
                seo_title=f"{top.name} - {PROFILE.name}",
            ),
            actor=ACTOR,
        )
        for position, leaf in enumerate(top.leaves):
            child = await catalog.create_category(
                session,
                data=catalog.CategoryCreate(
                    name=leaf.name,
                    name_en=leaf.name_en,
                    slug=leaf.slug,
                    parent_id=parent.id,
                    position=position,
                ),
                actor=ACTOR,
            )
            leaves.append((leaf, child.id, top_index))
    return leaves


def _spec_choice(rng: random.Random, attributes: Sequence[catalog.AttributeRead]) -> dict[str, list[str]]:
    """A few values of each spec attribute (at most 12 combinations)."""
    specs: dict[str, list[str]] = {}
    for attribute in attributes:
        if attribute.kind is not catalog.AttributeKind.spec:
            continue
        values = [v.value for v in attribute.values]
        specs[attribute.code] = rng.sample(values, k=rng.randint(1, min(3, len(values))))
    return specs


async def seed_catalog(
    session: AsyncSession, *, count: int, progress: Callable[[str], None] | None = None
) -> int:
    """Create the demo assortment with ``count`` products; return how many products exist after.
    ``progress`` is told how far the products are, about every twentieth."""
    rng = random.Random(2026)
    await catalog.ensure_default_banned_terms(session)
    types = await _product_types(session)
    leaves = await _categories(session)
    brands = [
        await catalog.create_brand(
            session, data=catalog.BrandCreate(name=zh, name_en=en, slug=slug), actor=ACTOR
        )
        for slug, zh, en in BRANDS
    ]
    warehouses = [
        await inventory.create_warehouse(
            session,
            data=inventory.WarehouseWrite(
                code=code,
                name=name,
                kind=inventory.WarehouseKind(kind),
                province=province,
                city=city,
                district=STORE_ADDRESSES.get(code, ("", ""))[0],
                detail=STORE_ADDRESSES.get(code, ("", ""))[1],
                regions=list(regions),
                priority=priority,
                cost_amount=cost,
            ),
            actor=ACTOR,
        )
        for code, name, kind, province, city, regions, priority, cost in WAREHOUSES
    ]
    await pricing.create_shipping_template(
        session,
        data=pricing.ShippingTemplateWrite(
            name="标准运费",
            rules=[
                pricing.ShippingRule(
                    regions=("新疆维吾尔自治区", "西藏自治区"),
                    first_fee_amount=2000,
                    additional_fee_amount=1000,
                ),
                pricing.ShippingRule(first_fee_amount=800, additional_fee_amount=200, free_over_amount=9900),
            ],
            express_surcharge_amount=1200,
            is_default=True,
        ),
        actor=ACTOR,
    )
    step = max(1, count // 20)
    for index in range(count):
        if progress is not None and index % step == 0:
            progress(f"demo: catalog {index}/{count} products…")
        leaf, category_id, top_index = leaves[index % len(leaves)]
        brand = brands[rng.randrange(len(brands))]
        noun_zh, noun_en = leaf.nouns[index % len(leaf.nouns)]
        series_zh, series_en = SERIES[(index // len(leaves)) % len(SERIES)]
        product_type = types[leaf.kind]
        params = {
            a.code: a.values[rng.randrange(len(a.values))].value
            for a in product_type.attributes
            if a.kind is catalog.AttributeKind.param
        }
        product = await catalog.create_product(
            session,
            data=catalog.ProductCreate(
                product_type_id=product_type.id,
                category_id=category_id,
                brand_id=brand.id,
                title=f"{brand.name} {noun_zh} {series_zh}",
                title_en=f"{brand.name_en} {noun_en} {series_en}",
                subtitle=f"{leaf.name} · {series_zh} · 正品保障，7 天无理由退货",
                description_html=(
                    f"<p>{brand.name}{noun_zh}（{series_zh}），精选用料，品质可靠。</p>"
                    f"<p>{brand.name_en} {noun_en} ({series_en}): carefully made, quality checked.</p>"
                ),
                tags=[leaf.name, series_zh],
                params=params,
                slug=f"demo-{index + 1:03d}",
            ),
            actor=ACTOR,
        )
        skus = await catalog.set_product_specs(
            session,
            product_id=product.id,
            data=catalog.SpecsWrite(specs=_spec_choice(rng, product_type.attributes)),
            actor=ACTOR,
        )
        low, high = leaf.price_yuan
        base = rng.randint(low, high) * 100 - rng.choice((0, 0, 1, 10, 100))  # ¥199.00, ¥198.99 ...
        for position, sku in enumerate(skus):
            price = base + position * rng.choice((0, 1000, 2000)) if base > 5000 else base
            market = price + price // rng.choice((4, 5, 10)) if rng.random() < 0.6 else None
            await catalog.update_sku(
                session,
                sku_id=sku.id,
                data=catalog.SkuUpdate(
                    price_amount=price,
                    market_price_amount=market,
                    cost_price_amount=price * 6 // 10,
                    weight_grams=leaf.grams,
                ),
                actor=ACTOR,
            )
            regional = [w for w in warehouses if w.kind is not inventory.WarehouseKind.store]
            stocked = rng.sample(regional, k=rng.randint(1, len(regional)))
            if index % 3 == 0:  # the store carries a third of the range
                stocked += [w for w in warehouses if w.kind is inventory.WarehouseKind.store]
            for warehouse in stocked:
                units = rng.choice((0, 3, 8, 20, 50, 120, 300))
                if units:
                    await inventory.receive_stock(
                        session,
                        data=inventory.ReceiveStock(
                            sku_id=sku.id, warehouse_id=warehouse.id, quantity=units, reference="demo-opening"
                        ),
                        actor=ACTOR,
                    )
        alt = f"{brand.name} {noun_zh}"
        upload = await catalog.check_product_image(
            session, product_id=product.id, data=product_image(index + 1, top_index), alt=alt, actor=ACTOR
        )
        await catalog.add_product_image(
            session,
            product_id=product.id,
            image=await images.decode(upload),  # the demo loader is the only writer: no need to end it
            filename=f"demo-{index + 1:03d}.jpg",
            declared_type="image/jpeg",
            alt=alt,
            actor=ACTOR,
        )
        await catalog.submit_for_review(session, product_id=product.id, actor=ACTOR)
        await catalog.approve_listing(session, product_id=product.id, actor=ACTOR)
    if progress is not None:
        progress(f"demo: catalog {count}/{count} products")
    return count
