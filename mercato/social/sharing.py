"""Sharing a product or a play: the share card (title, price, picture and the link carrying the
sharer's invite code) and its poster, rendered by ``posters.render_poster``.

A poster is cached on disk under ``<var_dir>/posters/<hash>.png``, the hash taken over everything
it shows (texts, the picture's URL, the link) and ``POSTER_VERSION``: the same share is drawn
once, and any change (a new price, another picture, another sharer) draws a new one. Drawing
takes about 150 ms of CPU for a 1200 px photo (130 ms from a JPEG, 170 ms from a WebP, 20 ms
without a picture; about 180 ms for the first, which loads the fonts) and a cached poster about
1 ms, so drawing runs in a small thread pool of its own (``RENDER_THREADS``), off the event loop
and never more than that many at once; the picture is read from media storage outside any
transaction. Posters of photos are large PNGs (about 1 MB; ``posters.py`` writes PNG).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity
from mercato.core import clock
from mercato.core.i18n import N_, gettext
from mercato.core.money import Money
from mercato.core.security import mask_text
from mercato.core.settings import get_settings
from mercato.core.storage import get_storage
from mercato.social.errors import PosterUnavailable, ShareTargetNotFound
from mercato.social.invites import share_link, share_path
from mercato.social.models import Bargain, BargainOffer, FlashItem, FlashSession, Group, GroupOffer
from mercato.social.posters import PosterContent, PosterFontMissing, render_poster
from mercato.social.schemas import FlashSessionStatus
from mercato.social.schemas_invites import ShareCard, ShareKind

log = structlog.get_logger(__name__)

#: Bump when the drawing changes, so cached posters are drawn again.
POSTER_VERSION = "1"
#: Posters rendered at once by this process (each takes one CPU for a few hundred ms).
RENDER_THREADS = 2
#: Cached posters kept on disk; past it, the oldest fifth is removed.
MAX_CACHED_POSTERS = 2000
CAPTION = N_("Long-press the QR code to open")
FRIEND = N_("A friend")
FLASH_BADGE = N_("Flash price")
GROUP_BADGE = N_("{size}-person group")
BARGAIN_BADGE = N_("Bargain")
FROM_PRICE = N_("{price} and up")
INVITE_BADGE = N_("Invite")
INVITE_TITLE = N_("Join {shop} with my invitation: coupons for both of us")
#: Plays that may be shared: a group still taking members, a bargain still taking helps.
SHAREABLE_GROUP = "forming"
SHAREABLE_BARGAIN = "active"


async def _product(session: AsyncSession, product_id: int) -> catalog.ProductDetail:
    try:
        return await catalog.get_storefront_product(session, product_id=product_id)
    except catalog.ProductNotFound as exc:
        raise ShareTargetNotFound() from exc


async def _play(session: AsyncSession, kind: ShareKind, target_id: int) -> tuple[int, int, int | None]:
    """A play's product, price now and group size. Raises ShareTargetNotFound."""
    now = clock.now()
    if kind is ShareKind.flash:
        item = await session.get(FlashItem, target_id)
        flash = await session.get(FlashSession, item.session_id) if item is not None else None
        if (
            item is None
            or flash is None
            or flash.status != FlashSessionStatus.published
            or flash.ends_at <= now
        ):
            raise ShareTargetNotFound()
        return item.product_id, item.price_amount, None
    if kind is ShareKind.group:
        group = await session.get(Group, target_id)
        offer = await session.get(GroupOffer, group.offer_id) if group is not None else None
        if group is None or offer is None or group.status != SHAREABLE_GROUP:
            raise ShareTargetNotFound()
        return offer.product_id, offer.price_amount, group.size
    bargain = await session.get(Bargain, target_id)
    offer_row = await session.get(BargainOffer, bargain.offer_id) if bargain is not None else None
    if (
        bargain is None
        or offer_row is None
        or bargain.status != SHAREABLE_BARGAIN
        or bargain.expires_at <= now
    ):
        raise ShareTargetNotFound()
    return offer_row.product_id, bargain.current_amount, None


async def share_card(
    session: AsyncSession, *, kind: ShareKind, target_id: int, code: str | None
) -> ShareCard:
    """What sharing a product on sale, a live flash-sale item, a forming group or an active
    bargain shows, with the link carrying ``code`` (the sharer's invite code; None for a guest).

    Raises:
        ShareTargetNotFound (404): no such product on sale or play that can be shared now (an
            invitation is not shared through here: see ``invite_card``).
    """
    if kind is ShareKind.invite:
        raise ShareTargetNotFound()
    if kind is ShareKind.product:
        product = await _product(session, target_id)
        price, size, target = product.min_price_amount, None, product.slug
        price_is_from = product.max_price_amount > product.min_price_amount
    else:
        product_id, price, size = await _play(session, kind, target_id)
        product = await _product(session, product_id)
        target, price_is_from = str(target_id), False
    return ShareCard(
        kind=kind,
        target_id=target_id,
        product_id=product.id,
        title=product.title,
        title_en=product.title_en,
        currency=product.currency,
        price_amount=price,
        price_is_from=price_is_from,
        group_size=size,
        image_url=product.images[0].url if product.images else None,
        path=share_path(kind, target=target, code=code),
        url=share_link(kind, target=target, code=code),
        code=code,
    )


def invite_card(*, code: str, shop_name: str, image_url: str | None = None) -> ShareCard:
    """What sharing one's invitation shows: the shop (``image_url``: its picture, if any) and the
    registration link carrying ``code``."""
    return ShareCard(
        kind=ShareKind.invite,
        target_id=0,
        product_id=None,
        title=shop_name,
        title_en=shop_name,
        currency="CNY",
        price_amount=0,
        price_is_from=False,
        group_size=None,
        image_url=image_url,
        path=share_path(ShareKind.invite, target="", code=code),
        url=share_link(ShareKind.invite, target="", code=code),
        code=code,
    )


def sharer_label(customer: identity.CustomerRead | None, *, locale: str) -> str | None:
    """How a poster names its sharer: the masked name ("张**"), "a friend" for a customer without
    a name (never their number), None for a guest (the caller shows the shop's name)."""
    if customer is None:
        return None
    return mask_text(customer.name.strip()) or gettext(FRIEND, locale)


def poster_content(
    card: ShareCard, *, sharer_name: str, locale: str, image: bytes | None = None
) -> PosterContent:
    """The poster's texts in ``locale`` (the picture given separately)."""
    if card.kind is ShareKind.invite:
        return PosterContent(
            title=gettext(INVITE_TITLE, locale, shop=card.title),
            price_text="",
            badge=gettext(INVITE_BADGE, locale),
            sharer_name=sharer_name,
            caption=gettext(CAPTION, locale),
            url=card.url,
            image=image,
            avatar=None,
        )
    price = Money(card.price_amount, card.currency).format(locale)
    badges = {
        ShareKind.flash: gettext(FLASH_BADGE, locale),
        ShareKind.group: gettext(GROUP_BADGE, locale, size=card.group_size),
        ShareKind.bargain: gettext(BARGAIN_BADGE, locale),
    }
    return PosterContent(
        title=card.title_en if locale == "en" and card.title_en else card.title,
        price_text=gettext(FROM_PRICE, locale, price=price) if card.price_is_from else price,
        badge=badges.get(card.kind, ""),
        sharer_name=sharer_name,
        caption=gettext(CAPTION, locale),
        url=card.url,
        image=image,
        avatar=None,
    )


def poster_hash(content: PosterContent, image_url: str | None) -> str:
    """The cache key of a poster: everything it shows (the picture by its URL: a new upload gets
    a new storage key) and the drawing's version."""
    shown = dataclasses.asdict(dataclasses.replace(content, image=None, avatar=None))
    raw = json.dumps([POSTER_VERSION, shown, image_url], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _cache_dir() -> Path:
    return get_settings().var_dir / "posters"


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="mercato-poster")


def _read_cached(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _store(path: Path, png: bytes) -> None:
    """Write the poster atomically, then keep the folder under ``MAX_CACHED_POSTERS``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(png)
    os.replace(temporary, path)
    files = list(path.parent.glob("*.png"))
    if len(files) > MAX_CACHED_POSTERS:
        files.sort(key=lambda f: f.stat().st_mtime if f.exists() else 0)
        for old in files[: len(files) // 5]:
            old.unlink(missing_ok=True)


async def _picture(url: str | None) -> bytes | None:
    """The picture behind a media URL, from media storage; None when it cannot be read."""
    base = get_settings().media_url
    base = base if base.endswith("/") else f"{base}/"
    if url is None or not url.startswith(base):
        return None
    try:
        return await get_storage().open(url[len(base) :])
    except (OSError, ValueError) as exc:
        log.warning("social.poster_picture_missing", url=url, error=repr(exc))
        return None


async def render_share_poster(card: ShareCard, *, sharer_name: str, locale: str) -> bytes:
    """The share poster (PNG, 750×1334) of ``card``, from the disk cache or drawn now off the
    event loop. Call it outside a transaction: it reads media storage and may take a while.

    Raises:
        PosterUnavailable (503): no CJK font is installed.
    """
    content = poster_content(card, sharer_name=sharer_name, locale=locale)
    path = _cache_dir() / f"{poster_hash(content, card.image_url)}.png"
    cached = await asyncio.to_thread(_read_cached, path)
    if cached is not None:
        return cached
    content = dataclasses.replace(content, image=await _picture(card.image_url))
    try:
        png = await asyncio.get_running_loop().run_in_executor(_pool(), render_poster, content)
    except PosterFontMissing as exc:
        log.error("social.poster_font_missing", error=str(exc))
        raise PosterUnavailable() from exc
    try:
        await asyncio.to_thread(_store, path, png)
    except OSError as exc:  # a full or read-only disk costs the next render, not this share
        log.warning("social.poster_cache_failed", error=repr(exc))
    return png
