"""Pictures tied to a spec value: the white hoodie's photo for colour=白色.

A product's pictures follow one spec (its picture-driving spec, colour in the demo): each value
of that spec its active SKUs use may name one of the product's uploaded images. The storefront
shows that picture when the shopper picks the value, and a SKU's picture (cart, checkout, and the
order line, which freezes it at placement) is its value's picture, else the product's first
image (:func:`sku_thumbnails`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.catalog.errors import InvalidAttributes
from mercato.catalog.models import ProductImage, Sku, SpecImage
from mercato.catalog.schemas import SpecImageRead, SpecImagesWrite
from mercato.catalog.service.caching import invalidate_products
from mercato.catalog.service.listing import get_product_row
from mercato.catalog.states import SkuStatus
from mercato.core.errors import FieldError
from mercato.core.i18n import N_
from mercato.core.storage import get_storage


async def list_spec_images(session: AsyncSession, *, product_id: int) -> list[SpecImageRead]:
    """The product's spec-value pictures, by value.

    Raises:
        ProductNotFound (404 catalog.product_not_found).
    """
    await get_product_row(session, product_id)
    storage = get_storage()
    rows = await session.execute(
        select(SpecImage.attribute_code, SpecImage.value, ProductImage)
        .join(ProductImage, ProductImage.id == SpecImage.image_id)
        .where(SpecImage.product_id == product_id)
        .order_by(SpecImage.attribute_code, SpecImage.value)
    )
    return [
        SpecImageRead(
            attribute_code=code,
            value=value,
            image_id=image.id,
            url=storage.url(image.storage_key),
            thumbnail_url=storage.url(image.thumbnail_key),
        )
        for code, value, image in rows
    ]


async def _spec_values(session: AsyncSession, product_id: int) -> dict[str, set[str]]:
    """The values each spec of the product's active SKUs uses, by attribute code."""
    values: dict[str, set[str]] = {}
    for spec in await session.scalars(
        select(Sku.spec).where(Sku.product_id == product_id, Sku.status == SkuStatus.active.value)
    ):
        for code, value in spec.items():
            values.setdefault(code, set()).add(value)
    return values


async def set_spec_images(
    session: AsyncSession, *, product_id: int, data: SpecImagesWrite, actor: identity.Actor
) -> list[SpecImageRead]:
    """Tie each value of ``data.attribute_code`` to one of the product's images, replacing every
    tie the product had (values sent as null, or left out, show the main picture). Allowed in any
    listing status, like the images themselves; audited as ``product.spec_images_set``.

    Raises:
        ProductNotFound (404 catalog.product_not_found).
        InvalidAttributes (422 catalog.invalid_attributes): a field error per spec the product's
            SKUs do not use (``catalog.unknown_attribute``), value they do not use
            (``catalog.unknown_attribute_value``) or image that is not the product's
            (``catalog.unknown_image``). Nothing changes.
    """
    await get_product_row(session, product_id)
    used = (await _spec_values(session, product_id)).get(data.attribute_code)
    own_images = set(
        await session.scalars(select(ProductImage.id).where(ProductImage.product_id == product_id))
    )
    errors: list[FieldError] = []
    if used is None:
        errors.append(
            FieldError(
                loc=("body", "attribute_code"),
                code="catalog.unknown_attribute",
                message=N_("The product's SKUs have no such spec."),
            )
        )
    wanted = {value: image_id for value, image_id in data.images.items() if image_id is not None}
    for value, image_id in wanted.items():
        if used is not None and value not in used:
            errors.append(
                FieldError(
                    loc=("body", "images", value),
                    code="catalog.unknown_attribute_value",
                    message=N_("The product's SKUs do not use this value."),
                )
            )
        elif image_id not in own_images:
            errors.append(
                FieldError(
                    loc=("body", "images", value),
                    code="catalog.unknown_image",
                    message=N_("Choose one of this product's images."),
                )
            )
    if errors:
        raise InvalidAttributes(fields=errors)

    before = await list_spec_images(session, product_id=product_id)
    await session.execute(delete(SpecImage).where(SpecImage.product_id == product_id))
    if wanted:
        await session.execute(
            insert(SpecImage),
            [
                {
                    "product_id": product_id,
                    "attribute_code": data.attribute_code,
                    "value": value,
                    "image_id": image,
                }
                for value, image in sorted(wanted.items())
            ],
        )
    after = await list_spec_images(session, product_id=product_id)
    await invalidate_products(session, [product_id])  # the product page shows the pictures
    await identity.record_audit(
        session,
        actor=actor,
        action="product.spec_images_set",
        object_type="product",
        object_id=str(product_id),
        before={"spec_images": {f"{i.attribute_code}={i.value}": i.image_id for i in before}},
        after={"spec_images": {f"{i.attribute_code}={i.value}": i.image_id for i in after}},
    )
    return after


async def spec_image_ids(
    session: AsyncSession, product_ids: Iterable[int]
) -> dict[int, dict[str, dict[str, int]]]:
    """Product id -> attribute code -> value -> image id."""
    ids = sorted(set(product_ids))
    ties: dict[int, dict[str, dict[str, int]]] = {}
    if not ids:
        return ties
    for product_id, code, value, image_id in await session.execute(
        select(SpecImage.product_id, SpecImage.attribute_code, SpecImage.value, SpecImage.image_id).where(
            SpecImage.product_id.in_(ids)
        )
    ):
        ties.setdefault(product_id, {}).setdefault(code, {})[value] = image_id
    return ties


def spec_image_of(ties: dict[str, dict[str, int]], spec: dict[str, str]) -> int | None:
    """The image id of the first of ``spec``'s values that has a picture, if any."""
    for code, values in sorted(ties.items()):
        if code in spec and spec[code] in values:
            return values[spec[code]]
    return None


async def sku_thumbnails(
    session: AsyncSession, skus: Collection[tuple[int, int, dict[str, str]]]
) -> dict[int, str]:
    """SKU id -> its picture's thumbnail URL, for (sku id, product id, spec) triples: the
    picture of its spec value, else the product's first image; SKUs with neither are left out."""
    product_ids = sorted({product_id for _sku, product_id, _spec in skus})
    if not product_ids:
        return {}
    storage = get_storage()
    thumbnails: dict[int, str] = {}
    first: dict[int, str] = {}
    for image_id, product_id, key in await session.execute(
        select(ProductImage.id, ProductImage.product_id, ProductImage.thumbnail_key)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
    ):
        thumbnails[image_id] = storage.url(key)
        first.setdefault(product_id, storage.url(key))
    ties = await spec_image_ids(session, product_ids)
    found: dict[int, str] = {}
    for sku_id, product_id, spec in skus:
        tied = spec_image_of(ties.get(product_id, {}), spec)
        url = (thumbnails.get(tied) if tied is not None else None) or first.get(product_id)
        if url is not None:
            found[sku_id] = url
    return found
