"""Catalog media in the console API: product images and brand logos (multipart uploads), and the
read-only ``/media`` files app that serves what the local disk storage holds.

Uploads may be larger than the global body limit: the middleware allows these paths up to
``max_image_bytes`` plus a multipart envelope, and refuses anything bigger with 413 before the
body is read.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Response, UploadFile, status
from pydantic import AfterValidator
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route, Router

from mercato import catalog
from mercato.api.deps import DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.images import ImageDecodersBusy, TooManyImageUploads
from mercato.core.schemas import check_text
from mercato.core.storage import LocalDiskStorage, content_type_of, get_storage
from mercato.web.openapi import raises
from mercato.web.uploads import decode_upload

router = APIRouter(prefix=f"{PREFIX}/admin/catalog", tags=["catalog media"])

Reader = Annotated[StaffAuth, Depends(require("catalog.read"))]
Writer = Annotated[StaffAuth, Depends(require("catalog.write"))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Upload = Annotated[UploadFile, File(description="A JPEG, PNG or WebP image (decided by its content)")]


@router.post("/products/{product_id}/images", status_code=status.HTTP_201_CREATED)
@raises(
    catalog.ImageInvalid,
    catalog.ImageTooLarge,
    catalog.ImageAltTooLong,
    catalog.ProductNotFound,
    TooManyImageUploads,
    ImageDecodersBusy,
)
async def add_product_image(
    product_id: Id,
    file: Upload,
    auth: Writer,
    session: DbSession,
    alt: Annotated[
        str, Form(max_length=200, description="Alternative text"), AfterValidator(check_text)
    ] = "",
) -> catalog.ProductImageRead:
    """Upload an image as the product's last one; metadata is stripped and a thumbnail made."""
    upload = await catalog.check_product_image(
        session, product_id=product_id, data=await file.read(), alt=alt, actor=auth.actor
    )
    image = await decode_upload(session, upload)
    return await catalog.add_product_image(
        session,
        product_id=product_id,
        image=image,
        filename=file.filename or "",
        declared_type=file.content_type,
        alt=alt,
        actor=auth.actor,
    )


@router.get("/products/{product_id}/images")
@raises(catalog.ProductNotFound)
async def list_product_images(
    product_id: Id, auth: Reader, session: DbSession
) -> list[catalog.ProductImageRead]:
    """The product's images in display order."""
    return await catalog.list_product_images(session, product_id=product_id)


@router.put("/products/{product_id}/images/order")
@raises(catalog.ProductNotFound, catalog.ImageOrderMismatch)
async def reorder_product_images(
    product_id: Id, data: catalog.ProductImageOrder, auth: Writer, session: DbSession
) -> list[catalog.ProductImageRead]:
    """Set the display order: list every image id of the product exactly once."""
    return await catalog.reorder_product_images(
        session, product_id=product_id, image_ids=data.image_ids, actor=auth.actor
    )


@router.get("/products/{product_id}/spec-images")
@raises(catalog.ProductNotFound)
async def list_spec_images(product_id: Id, auth: Reader, session: DbSession) -> list[catalog.SpecImageRead]:
    """The picture of each value of the product's picture-driving spec."""
    return await catalog.list_spec_images(session, product_id=product_id)


@router.put("/products/{product_id}/spec-images")
@raises(catalog.ProductNotFound, catalog.InvalidAttributes)
async def set_spec_images(
    product_id: Id, data: catalog.SpecImagesWrite, auth: Writer, session: DbSession
) -> list[catalog.SpecImageRead]:
    """Tie values of one spec (e.g. each colour) to the product's images, replacing every tie;
    the storefront shows a value's picture when it is picked, carts and orders the SKU's."""
    return await catalog.set_spec_images(session, product_id=product_id, data=data, actor=auth.actor)


@router.delete(
    "/products/{product_id}/images/{image_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
@raises(catalog.ProductImageNotFound)
async def remove_product_image(product_id: Id, image_id: Id, auth: Writer, session: DbSession) -> Response:
    """Delete an image; its files go once the deletion is committed."""
    await catalog.remove_product_image(session, product_id=product_id, image_id=image_id, actor=auth.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/brands/{brand_id}/logo")
@raises(
    catalog.ImageInvalid,
    catalog.ImageTooLarge,
    catalog.BrandNotFound,
    TooManyImageUploads,
    ImageDecodersBusy,
)
async def set_brand_logo(
    brand_id: Id, file: Upload, auth: Writer, session: DbSession
) -> catalog.BrandLogoRead:
    """Upload the brand's logo, replacing the previous one."""
    upload = await catalog.check_brand_logo(
        session, brand_id=brand_id, data=await file.read(), actor=auth.actor
    )
    image = await decode_upload(session, upload)
    return await catalog.set_brand_logo(
        session,
        brand_id=brand_id,
        image=image,
        filename=file.filename or "",
        declared_type=file.content_type,
        actor=auth.actor,
    )


# --- /media: the files of the local disk storage, read-only ---------------------------------

#: Keys are random and never reused, so a file never changes under its URL.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"


async def _serve_media(request: Request) -> FileResponse:
    key = request.path_params["key"]
    storage = get_storage()
    media_type = content_type_of(key)
    if not isinstance(storage, LocalDiskStorage) or media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    try:
        path = storage.path(key)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND) from None
    if not await asyncio.to_thread(path.is_file):
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return FileResponse(path, media_type=media_type, headers={"cache-control": MEDIA_CACHE_CONTROL})


#: Mounted at ``/media`` by the app (GET and HEAD only; anything else is 405).
media_files = Router(routes=[Route("/{key:path}", _serve_media, methods=["GET", "HEAD"])])
