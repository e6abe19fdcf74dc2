"""Home-page banners: staff create, edit, switch on and off and delete them (audited); the home
page reads the live ones.

The image is uploaded with the banner in three steps (``core.images``), the edge owning the
transactions: ``check_banner_image`` checks its size (and that the banner exists) before it is
decoded; the route ends the transaction and ``core.images.decode`` proves and re-encodes it;
``create_banner`` / ``update_banner`` store it in ``core.storage`` before the row that points at
it, in a new transaction. A rolled-back transaction deletes the file, and a replaced or deleted
banner's file is deleted only after the commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.content.errors import (
    BannerImageInvalid,
    BannerImagePixelsTooMany,
    BannerImageRequired,
    BannerImageTooLarge,
    BannerNotFound,
)
from mercato.content.models import Banner
from mercato.content.schemas import BannerRead, BannerStatus, BannerWrite
from mercato.core import clock, images
from mercato.core.errors import DomainError, FieldError
from mercato.core.i18n import gettext
from mercato.core.settings import get_settings
from mercato.core.storage import get_storage

#: The most banners the home page shows.
MAX_LIVE = 8
#: Banner images may be wide, but not wider or taller than this (pixels).
MAX_SIDE = 4000


def _status(row: Banner, now: dt.datetime) -> BannerStatus:
    if not row.is_enabled:
        return BannerStatus.disabled
    if row.active_from is not None and now < row.active_from:
        return BannerStatus.scheduled
    if row.active_until is not None and now >= row.active_until:
        return BannerStatus.ended
    return BannerStatus.live


def _read(row: Banner, now: dt.datetime) -> BannerRead:
    return BannerRead(
        id=row.id,
        title=row.title,
        title_en=row.title_en,
        subtitle=row.subtitle,
        subtitle_en=row.subtitle_en,
        link=row.link,
        image_url=get_storage().url(row.image_key),
        image_width=row.image_width,
        image_height=row.image_height,
        position=row.position,
        active_from=row.active_from,
        active_until=row.active_until,
        is_enabled=row.is_enabled,
        status=_status(row, now),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _view(row: Banner) -> dict[str, Any]:
    """What the audit log records of a banner."""
    return {
        "title": row.title,
        "title_en": row.title_en,
        "subtitle": row.subtitle,
        "subtitle_en": row.subtitle_en,
        "link": row.link,
        "image_key": row.image_key,
        "position": row.position,
        "active_from": row.active_from.isoformat() if row.active_from else None,
        "active_until": row.active_until.isoformat() if row.active_until else None,
        "is_enabled": row.is_enabled,
    }


def _printable(value: str | None, limit: int) -> str:
    return "".join(ch for ch in (value or "") if ch.isprintable()).strip()[:limit]


def _image_field(error: type[DomainError], message: str | None = None) -> FieldError:
    """Point an image error at the ``image`` field of the form or request."""
    return FieldError(loc=("body", "image"), code=error.code, message=message or error.message)


def _refused(exc: images.ImageRejected) -> DomainError:
    """The content domain's error for an upload ``core.images`` refused."""
    if isinstance(exc, images.ImageOverPixelLimit):
        message = gettext(BannerImagePixelsTooMany.message, max_megapixels=exc.megapixels)
        return BannerImagePixelsTooMany(
            max_megapixels=exc.megapixels, fields=[_image_field(BannerImagePixelsTooMany, message)]
        )
    return BannerImageInvalid(fields=[_image_field(BannerImageInvalid)])


async def check_banner_image(
    session: AsyncSession, *, data: bytes, actor: identity.Actor, banner_id: int | None = None
) -> images.Upload:
    """Check a banner image upload before it is decoded (no decoding, no writes); with
    ``banner_id``, that the banner it replaces the image of exists.

    Decode the returned upload with ``core.images.decode`` once the transaction is ended, then
    hand the image to :func:`create_banner` or :func:`update_banner`.

    Raises:
        BannerImageRequired (422): empty upload.
        BannerImageTooLarge (422): over ``max_image_bytes``.
        BannerNotFound (404).
    """
    if not data:
        raise BannerImageRequired(fields=[_image_field(BannerImageRequired)])
    limit = get_settings().max_image_bytes
    if len(data) > limit:
        megabytes = f"{limit / (1024 * 1024):g}"
        raise BannerImageTooLarge(
            max_megabytes=megabytes,
            fields=[
                _image_field(
                    BannerImageTooLarge, gettext(BannerImageTooLarge.message, max_megabytes=megabytes)
                )
            ],
        )
    if (
        banner_id is not None
        and await session.scalar(select(Banner.id).where(Banner.id == banner_id)) is None
    ):
        raise BannerNotFound()
    uploader = f"staff:{actor.staff_id}" if actor.staff_id is not None else f"actor:{actor.label}"
    return images.Upload(data=data, uploader=uploader, refused=_refused, max_side=MAX_SIDE)


async def _save_image(session: AsyncSession, image: images.EncodedImage) -> str:
    """Store a decoded image; the file goes away again if the transaction rolls back."""
    key = f"banners/{uuid.uuid4().hex}.{image.extension}"
    await images.save_files(get_storage(), [(key, image.data, image.content_type)])
    images.delete_if_rolled_back(session, [key])
    return key


async def list_banners(session: AsyncSession) -> list[BannerRead]:
    """Every banner (for staff), in display order: position, then newest first."""
    now = clock.now()
    rows = await session.scalars(select(Banner).order_by(Banner.position, Banner.id.desc()))
    return [_read(row, now) for row in rows]


async def list_live_banners(session: AsyncSession, *, limit: int = MAX_LIVE) -> list[BannerRead]:
    """The banners the home page shows now (enabled, inside their window), in display order."""
    now = clock.now()
    rows = await session.scalars(
        select(Banner)
        .where(
            Banner.is_enabled.is_(True),
            or_(Banner.active_from.is_(None), Banner.active_from <= now),
            or_(Banner.active_until.is_(None), Banner.active_until > now),
        )
        .order_by(Banner.position, Banner.id.desc())
        .limit(max(1, min(limit, MAX_LIVE)))
    )
    return [_read(row, now) for row in rows]


async def _get_row(session: AsyncSession, banner_id: int) -> Banner:
    row = await session.get(Banner, banner_id)
    if row is None:
        raise BannerNotFound()
    return row


async def get_banner(session: AsyncSession, *, banner_id: int) -> BannerRead:
    """Raises: BannerNotFound (404)."""
    return _read(await _get_row(session, banner_id), clock.now())


async def create_banner(
    session: AsyncSession,
    *,
    data: BannerWrite,
    image: images.EncodedImage,
    filename: str = "",
    declared_type: str | None = None,
    actor: identity.Actor,
) -> BannerRead:
    """Create a banner with its image, decoded from an upload :func:`check_banner_image` checked.

    ``filename`` and ``declared_type`` are recorded in the audit log only: the format comes from
    the content, the storage key from a random id.
    """
    key = await _save_image(session, image)
    now = clock.now()
    row = Banner(
        **data.model_dump(),
        image_key=key,
        image_width=image.width,
        image_height=image.height,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await identity.record_audit(
        session,
        actor=actor,
        action="banner.create",
        object_type="banner",
        object_id=str(row.id),
        after=_view(row)
        | {"filename": _printable(filename, 200), "declared_type": _printable(declared_type, 100)},
    )
    return _read(row, now)


async def update_banner(
    session: AsyncSession,
    *,
    banner_id: int,
    data: BannerWrite,
    image: images.EncodedImage | None = None,
    filename: str = "",
    declared_type: str | None = None,
    actor: identity.Actor,
) -> BannerRead:
    """Replace a banner's text, link, order, window and switch; with ``image`` (decoded from an
    upload :func:`check_banner_image` checked), its image too (the old file is deleted after the
    commit).

    Raises:
        BannerNotFound (404).
    """
    row = await _get_row(session, banner_id)
    before = _view(row)
    if image is not None:
        key = await _save_image(session, image)
        images.delete_after_commit(session, [row.image_key])
        row.image_key, row.image_width, row.image_height = key, image.width, image.height
    for name, value in data.model_dump().items():
        setattr(row, name, value)
    now = clock.now()
    row.updated_at = now
    await session.flush()
    after = _view(row)
    if image is not None:
        after |= {"filename": _printable(filename, 200), "declared_type": _printable(declared_type, 100)}
    await identity.record_audit(
        session,
        actor=actor,
        action="banner.update",
        object_type="banner",
        object_id=str(row.id),
        before=before,
        after=after,
    )
    return _read(row, now)


async def set_banner_enabled(
    session: AsyncSession, *, banner_id: int, enabled: bool, actor: identity.Actor
) -> BannerRead:
    """Switch a banner on or off (a no-op switch is not audited).

    Raises:
        BannerNotFound (404).
    """
    row = await _get_row(session, banner_id)
    now = clock.now()
    if row.is_enabled != enabled:
        row.is_enabled = enabled
        row.updated_at = now
        await session.flush()
        await identity.record_audit(
            session,
            actor=actor,
            action="banner.enable" if enabled else "banner.disable",
            object_type="banner",
            object_id=str(row.id),
            before={"is_enabled": not enabled},
            after={"is_enabled": enabled},
        )
    return _read(row, now)


async def delete_banner(session: AsyncSession, *, banner_id: int, actor: identity.Actor) -> None:
    """Delete a banner; its image file is deleted after the commit.

    Raises:
        BannerNotFound (404).
    """
    row = (
        await session.scalars(delete(Banner).where(Banner.id == banner_id).returning(Banner))
    ).one_or_none()
    if row is None:
        raise BannerNotFound()
    images.delete_after_commit(session, [row.image_key])
    await identity.record_audit(
        session,
        actor=actor,
        action="banner.delete",
        object_type="banner",
        object_id=str(banner_id),
        before=_view(row),
    )
