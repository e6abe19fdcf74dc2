"""Image uploads at the edge: a domain's checked upload decoded with no transaction open.

Every route taking an image (API or form) does the same three steps, in its unit of work::

    upload = await catalog.check_product_image(session, product_id=..., data=data, ...)
    image = await decode_upload(session, upload)    # commits so far; decodes holding nothing
    return await catalog.add_product_image(session, product_id=..., image=image, ...)

The domain's check refuses what it can before any decoding (size, target, state, counters);
``decode_upload`` ends the transaction, so no SQLite write lock and no pooled connection is held
for the seconds a large image takes, and decodes within the per-uploader and per-process limits
of ``core.images``; the domain's write then re-checks atomically in a new transaction. Domains
cannot import this module: only the edge ends a transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import images
from mercato.core.db import end_transaction


async def decode_upload(session: AsyncSession, upload: images.Upload) -> images.EncodedImage:
    """End ``session``'s transaction (committing what the request did so far), then decode.

    Raises:
        TooManyImageUploads (429 core.too_many_image_uploads), ImageDecodersBusy (503
            core.image_decoders_busy), or the domain's error for a refused image.
    """
    await end_transaction(session)
    return await images.decode(upload)
