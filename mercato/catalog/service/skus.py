"""SKUs: generated from the product's spec combinations, then priced and coded one by one.

``set_product_specs`` takes the spec values the product is sold in and makes one SKU per
combination (the cartesian product). A SKU whose combination is still chosen is kept as it is
(same id, code, price, stock and history); a new combination gets a new SKU, unpriced, coded
``<product id>-<n>`` unless a code is given; a combination no longer chosen disables its SKU
(never deletes it: orders and the stock ledger refer to it), and choosing it again re-enables it.

After every SKU change the product's read model follows: ``min_price_amount`` and
``max_price_amount`` over its active SKUs, and ``in_stock``.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import (
    DuplicateSkuCode,
    InvalidAttributes,
    PriceInvalid,
    ProductNotEditable,
    SkuNotFound,
    SkuSpecMismatch,
    TooManySkus,
)
from mercato.catalog.models import PriceBreak, Product, Sku
from mercato.catalog.schemas import (
    AttributeKind,
    AttributeRead,
    PriceBreakRead,
    SkuRead,
    SkuUpdate,
    SpecsWrite,
)
from mercato.catalog.service.caching import invalidate_products
from mercato.catalog.service.common import unique_guard
from mercato.catalog.service.listing import get_product_row, reopen_for_edit
from mercato.catalog.service.product_types import load_attributes
from mercato.catalog.states import EDITABLE, ListingStatus, SkuStatus
from mercato.core import clock
from mercato.core.errors import DomainError, FieldError
from mercato.core.i18n import N_

MAX_SKUS = 600
LIVE = frozenset({ListingStatus.pending_review, ListingStatus.on_sale})


def spec_key(spec: Mapping[str, str]) -> str:
    """The canonical form of a combination: ``code=value`` pairs joined by ``;``, codes sorted."""
    return ";".join(f"{code}={spec[code]}" for code in sorted(spec))


def spec_problem(specs: Mapping[str, AttributeRead], code: str, value: str) -> tuple[str, str] | None:
    """Why ``code=value`` is not a spec choice of a type whose spec attributes are ``specs`` (by
    code), as (error code, message); None when it is valid."""
    attribute = specs.get(code)
    if attribute is None:
        return "catalog.unknown_attribute", N_("Not a spec of this product type.")
    if value not in {v.value for v in attribute.values}:
        return "catalog.unknown_attribute_value", N_("Not one of the values of this spec.")
    return None


def live_price_problem(price: int, market_price: int | None) -> tuple[str, str] | None:
    """Why an active SKU of a product waiting for review or on sale cannot have this price, as
    (error code, message); None when it can."""
    if price <= 0:
        return "catalog.price_not_positive", N_("Set a price greater than zero.")
    if market_price is not None and price > market_price:
        return "catalog.price_above_market_price", N_("The price must not exceed the market price.")
    return None


def _code_conflict(codes: Iterable[str]) -> Mapping[tuple[str, tuple[str, ...]], Callable[[], DomainError]]:
    listed = ", ".join(sorted(codes))
    return {("catalog_sku", ("code",)): lambda: DuplicateSkuCode(sku_code=listed)}


async def _price_breaks(session: AsyncSession, sku_ids: list[int]) -> dict[int, list[PriceBreakRead]]:
    found: dict[int, list[PriceBreakRead]] = defaultdict(list)
    if sku_ids:
        rows = (
            await session.execute(
                select(PriceBreak).where(PriceBreak.sku_id.in_(sku_ids)).order_by(PriceBreak.min_quantity)
            )
        ).scalars()
        for row in rows:
            found[row.sku_id].append(PriceBreakRead.model_validate(row))
    return found


def _read(row: Sku, breaks: list[PriceBreakRead]) -> SkuRead:
    return SkuRead(
        id=row.id,
        product_id=row.product_id,
        code=row.code,
        barcode=row.barcode,
        spec=dict(row.spec),
        spec_key=row.spec_key,
        currency=row.currency,
        price_amount=row.price_amount,
        market_price_amount=row.market_price_amount,
        cost_price_amount=row.cost_price_amount,
        weight_grams=row.weight_grams,
        status=SkuStatus(row.status),
        available_quantity=row.available_quantity,
        price_breaks=breaks,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def list_skus(session: AsyncSession, *, product_id: int) -> list[SkuRead]:
    """Every SKU of a product, disabled ones included, in creation order.

    Raises:
        ProductNotFound.
    """
    await get_product_row(session, product_id)
    rows = (
        (await session.execute(select(Sku).where(Sku.product_id == product_id).order_by(Sku.id)))
        .scalars()
        .all()
    )
    breaks = await _price_breaks(session, [row.id for row in rows])
    return [_read(row, breaks[row.id]) for row in rows]


async def sync_product_prices(session: AsyncSession, product_id: int) -> None:
    """Recompute the product's price range and in-stock flag from its active SKUs (one UPDATE)."""
    active = (Sku.product_id == product_id) & (Sku.status == SkuStatus.active.value)
    lowest = select(func.coalesce(func.min(Sku.price_amount), 0)).where(active).scalar_subquery()
    highest = select(func.coalesce(func.max(Sku.price_amount), 0)).where(active).scalar_subquery()
    available = select(func.count()).where(active, Sku.available_quantity > 0).scalar_subquery()
    await session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(
            min_price_amount=lowest, max_price_amount=highest, in_stock=available > 0, updated_at=clock.now()
        )
        .execution_options(synchronize_session=False)
    )
    product = await session.get(Product, product_id)
    if product is not None:
        await session.refresh(product)  # the session's copy must not show the old range


def _sku_views(rows: Iterable[Sku]) -> list[dict[str, Any]]:
    return [{"id": row.id, "code": row.code, "spec_key": row.spec_key, "status": row.status} for row in rows]


async def _choices(session: AsyncSession, product: Product, data: SpecsWrite) -> list[dict[str, str]]:
    """The combinations ``data`` asks for, codes in attribute order, values deduplicated.

    Raises:
        InvalidAttributes (422), TooManySkus (422).
    """
    specs = {
        attribute.code: attribute
        for attribute in (await load_attributes(session, [product.product_type_id]))[product.product_type_id]
        if attribute.kind == AttributeKind.spec
    }
    errors: list[FieldError] = []
    for code, values in data.specs.items():
        if code not in specs:
            unknown = spec_problem(specs, code, "")
            assert unknown is not None
            errors.append(FieldError(loc=("body", "specs", code), code=unknown[0], message=unknown[1]))
            continue
        for index, value in enumerate(values):
            problem = spec_problem(specs, code, value)
            if problem is not None:
                errors.append(
                    FieldError(loc=("body", "specs", code, index), code=problem[0], message=problem[1])
                )
    if errors:
        raise InvalidAttributes(fields=errors)
    codes = [code for code in specs if code in data.specs]  # attribute order
    chosen = [list(dict.fromkeys(data.specs[code])) for code in codes]
    count = math.prod(len(v) for v in chosen)
    if count > MAX_SKUS:
        raise TooManySkus(count=count, max_skus=MAX_SKUS)
    return [dict(zip(codes, combination, strict=True)) for combination in itertools.product(*chosen)]


async def _free_codes(session: AsyncSession, product_id: int, count: int, reserved: set[str]) -> list[str]:
    """``count`` unused codes ``<product id>-<n>``, lowest n first."""
    prefix = f"{product_id}-"
    taken = set(
        (
            await session.execute(select(Sku.code).where(Sku.code.startswith(prefix, autoescape=True)))
        ).scalars()
    )
    taken |= reserved
    codes: list[str] = []
    for n in itertools.count(1):
        if len(codes) == count:
            break
        if f"{prefix}{n}" not in taken:
            codes.append(f"{prefix}{n}")
    return codes


async def set_product_specs(
    session: AsyncSession, *, product_id: int, data: SpecsWrite, actor: identity.Actor
) -> list[SkuRead]:
    """Make the product's SKUs the combinations of the chosen spec values (see the module doc).

    A rejected or off-sale product goes back to draft when its SKUs change.

    Raises:
        ProductNotFound, ProductNotEditable (409), InvalidAttributes (422), TooManySkus (422),
        DuplicateSkuCode (409): a given code belongs to another SKU.
    """
    product = await get_product_row(session, product_id, lock=True)
    if ListingStatus(product.status) not in EDITABLE:
        raise ProductNotEditable(status=product.status)
    combinations = await _choices(session, product, data)
    wanted = {spec_key(spec): spec for spec in combinations}
    given: dict[str, str] = {}
    errors: list[FieldError] = []
    for index, choice in enumerate(data.sku_codes):
        key = spec_key(choice.spec)
        if key not in wanted:
            errors.append(
                FieldError(
                    loc=("body", "sku_codes", index, "spec"),
                    code="catalog.unknown_combination",
                    message=N_("Not one of the chosen combinations."),
                )
            )
        given[key] = choice.code
    if errors:
        raise InvalidAttributes(fields=errors)
    if len(set(given.values())) != len(given):
        duplicates = sorted({code for code in given.values() if list(given.values()).count(code) > 1})
        raise DuplicateSkuCode(sku_code=duplicates[0])

    existing = {
        row.spec_key: row
        for row in (
            await session.execute(select(Sku).where(Sku.product_id == product_id).order_by(Sku.id))
        ).scalars()
    }
    before = _sku_views(existing.values())
    taken_elsewhere = (
        (
            await session.execute(
                select(Sku.code).where(Sku.code.in_(list(given.values())), Sku.product_id != product_id)
            )
        )
        .scalars()
        .first()
    )
    if taken_elsewhere is not None:
        raise DuplicateSkuCode(sku_code=taken_elsewhere)

    now = clock.now()
    new_keys = [key for key in wanted if key not in existing]
    auto = iter(
        await _free_codes(session, product_id, sum(key not in given for key in new_keys), set(given.values()))
    )
    async with unique_guard(session, _code_conflict(given.values())):
        for key, row in existing.items():
            status = SkuStatus.active if key in wanted else SkuStatus.disabled
            code = given.get(key, row.code)
            if row.status != status or row.code != code:
                row.status = status.value
                row.code = code
                row.updated_at = now
        for key in new_keys:
            session.add(
                Sku(
                    product_id=product_id,
                    code=given.get(key) or next(auto),
                    barcode=None,
                    spec=wanted[key],
                    spec_key=key,
                    currency=product.currency,
                    price_amount=0,
                    market_price_amount=None,
                    cost_price_amount=None,
                    weight_grams=0,
                    status=SkuStatus.active.value,
                    available_quantity=0,
                    stock_version=0,
                    created_at=now,
                    updated_at=now,
                )
            )
    rows = (
        (await session.execute(select(Sku).where(Sku.product_id == product_id).order_by(Sku.id)))
        .scalars()
        .all()
    )
    after = _sku_views(rows)
    if after != before:
        await reopen_for_edit(session, product, actor=actor)
        await sync_product_prices(session, product_id)
        await identity.record_audit(
            session,
            actor=actor,
            action="product.set_specs",
            object_type="product",
            object_id=str(product_id),
            before={"skus": before},
            after={"specs": {code: list(dict.fromkeys(v)) for code, v in data.specs.items()}, "skus": after},
        )
        await invalidate_products(session, [product_id])
    return await list_skus(session, product_id=product_id)


def _check_price_breaks(price: int, breaks: list[tuple[int, int]], *, given: bool) -> list[FieldError]:
    """Breaks need distinct quantities and unit prices at most the SKU price, falling as quantity rises."""
    errors: list[FieldError] = []
    seen: set[int] = set()
    for index, (quantity, unit_price) in enumerate(breaks):
        loc: tuple[str | int, ...] = ("body", "price_breaks", index) if given else ("body", "price_amount")
        if quantity in seen:
            errors.append(
                FieldError(
                    loc=(*loc, "min_quantity") if given else loc,
                    code="catalog.price_break_invalid",
                    message=N_("Each price break needs a different quantity."),
                )
            )
        seen.add(quantity)
        if unit_price > price:
            errors.append(
                FieldError(
                    loc=(*loc, "unit_price_amount") if given else loc,
                    code="catalog.price_break_invalid",
                    message=N_("A price break cannot cost more than the SKU's price."),
                )
            )
    if errors:
        return errors
    for (_q1, p1), (_q2, p2) in itertools.pairwise(sorted(breaks)):
        if p2 > p1:
            errors.append(
                FieldError(
                    loc=("body", "price_breaks") if given else ("body", "price_amount"),
                    code="catalog.price_break_invalid",
                    message=N_("Unit prices must not rise as the quantity rises."),
                )
            )
            break
    return errors


def _sku_audit_view(sku: SkuRead) -> dict[str, Any]:
    return sku.model_dump(
        mode="json",
        include={
            "code",
            "barcode",
            "price_amount",
            "market_price_amount",
            "cost_price_amount",
            "weight_grams",
            "status",
            "price_breaks",
        },
    )


async def update_sku(
    session: AsyncSession, *, sku_id: int, data: SkuUpdate, actor: identity.Actor
) -> SkuRead:
    """Change a SKU's code, barcode, prices, weight, status or price breaks (which are replaced).

    ``barcode``, ``market_price_amount`` and ``cost_price_amount`` sent as null are cleared.
    While the product waits for review or is on sale, an active SKU's price must stay above zero
    and at most its market price. A disabled SKU can only be re-enabled if it has the same spec
    attributes as the product's active SKUs.

    Raises:
        SkuNotFound, DuplicateSkuCode (409), PriceInvalid (422), SkuSpecMismatch (409).
    """
    row = await session.get(Sku, sku_id)
    if row is None:
        raise SkuNotFound(sku_ids=str(sku_id))
    product = await get_product_row(session, row.product_id)
    breaks_before = (await _price_breaks(session, [row.id]))[row.id]
    before = _read(row, breaks_before)
    fields = data.model_fields_set

    price = data.price_amount if data.price_amount is not None else row.price_amount
    market = data.market_price_amount if "market_price_amount" in fields else row.market_price_amount
    status = data.status if data.status is not None else SkuStatus(row.status)
    breaks = (
        [(b.min_quantity, b.unit_price_amount) for b in data.price_breaks]
        if data.price_breaks is not None
        else [(b.min_quantity, b.unit_price_amount) for b in breaks_before]
    )
    errors = _check_price_breaks(price, breaks, given=data.price_breaks is not None)
    if ListingStatus(product.status) in LIVE and status is SkuStatus.active:
        problem = live_price_problem(price, market)
        if problem is not None:
            errors.append(FieldError(loc=("body", "price_amount"), code=problem[0], message=problem[1]))
    if errors:
        raise PriceInvalid(fields=errors)
    if status is SkuStatus.active and row.status == SkuStatus.disabled:
        others = (
            (
                await session.execute(
                    select(Sku.spec).where(
                        Sku.product_id == row.product_id,
                        Sku.status == SkuStatus.active.value,
                        Sku.id != row.id,
                    )
                )
            )
            .scalars()
            .first()
        )
        if others is not None and set(others) != set(row.spec):
            raise SkuSpecMismatch()

    async with unique_guard(session, _code_conflict([data.code or row.code])):
        if data.code is not None:
            row.code = data.code
        if "barcode" in fields:
            row.barcode = data.barcode
        if data.price_amount is not None:
            row.price_amount = data.price_amount
        if "market_price_amount" in fields:
            row.market_price_amount = data.market_price_amount
        if "cost_price_amount" in fields:
            row.cost_price_amount = data.cost_price_amount
        if data.weight_grams is not None:
            row.weight_grams = data.weight_grams
        row.status = status.value
        row.updated_at = clock.now()
    if data.price_breaks is not None:
        await session.execute(delete(PriceBreak).where(PriceBreak.sku_id == row.id))
        session.add_all(
            PriceBreak(sku_id=row.id, min_quantity=b.min_quantity, unit_price_amount=b.unit_price_amount)
            for b in data.price_breaks
        )
        await session.flush()
    after = _read(row, (await _price_breaks(session, [row.id]))[row.id])
    old, new = _sku_audit_view(before), _sku_audit_view(after)
    if old != new:
        await sync_product_prices(session, row.product_id)
        await identity.record_audit(
            session,
            actor=actor,
            action="sku.update",
            object_type="sku",
            object_id=str(row.id),
            before={key: old[key] for key in old if old[key] != new[key]},
            after={key: new[key] for key in new if old[key] != new[key]},
        )
        await invalidate_products(session, [row.product_id])
    return after
