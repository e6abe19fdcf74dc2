"""Legal pages: the privacy policy, the terms of service and the after-sales policy, in Chinese
and English, published by staff. Every save is a new version (never an edit of an old one), so a
customer's consent can name the privacy policy exactly as it read then.

The text is plain text with a little structure (a blank line between paragraphs, ``#`` for a
heading, ``-`` for a list item) rather than HTML: pages show it through autoescaped templates,
so no markup a staff member types can run in a shopper's browser, and nothing needs sanitising.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.settings import get_settings
from mercato.shop.errors import LegalPageRace
from mercato.shop.models import LegalPage
from mercato.shop.schemas import LegalBlock, LegalKind, LegalPageRead, LegalPageWrite, ShopChange
from mercato.shop.service import cache


def version_label(page: LegalPage) -> str:
    """The version as a consent records it: the day it was published and its number."""
    day = page.created_at.astimezone(get_settings().tz).date()
    return f"{day.isoformat()}.{page.version}"


def _read(page: LegalPage) -> LegalPageRead:
    return LegalPageRead(
        kind=LegalKind(page.kind),
        version=page.version,
        version_label=version_label(page),
        body=page.body,
        body_en=page.body_en,
        created_by=page.created_by,
        created_at=page.created_at,
    )


async def find_legal_page(session: AsyncSession, *, kind: LegalKind) -> LegalPageRead | None:
    """The current (newest) version of a legal page, or None before the first is published."""
    page = (
        await session.scalars(
            select(LegalPage).where(LegalPage.kind == str(kind)).order_by(LegalPage.version.desc()).limit(1)
        )
    ).first()
    return _read(page) if page is not None else None


async def count_legal_versions(session: AsyncSession, *, kind: LegalKind) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(LegalPage).where(LegalPage.kind == str(kind)))
        or 0
    )


async def privacy_policy_version(session: AsyncSession) -> str:
    """The version of the privacy policy shoppers are shown now (what a consent records):
    the newest published one, else ``MERCATO_PRIVACY_POLICY_VERSION`` (before any is published)."""
    page = await find_legal_page(session, kind=LegalKind.privacy)
    return page.version_label if page is not None else get_settings().privacy_policy_version


async def publish_legal_page(
    session: AsyncSession, *, kind: LegalKind, data: LegalPageWrite, author: str
) -> tuple[LegalPageRead, ShopChange]:
    """Publish a new version of ``kind`` (number: the last one's plus one); unchanged text
    publishes nothing and returns the current version with an empty change.

    Raises:
        LegalPageRace (409): a concurrent save took the same version number.
    """
    current = await find_legal_page(session, kind=kind)
    if current is not None and (current.body, current.body_en) == (data.body, data.body_en):
        return current, ShopChange(
            action="", object_type="legal_page", object_id=str(kind), before=None, after=None
        )
    version = (current.version if current else 0) + 1
    inserted = await insert_ignore(
        session,
        LegalPage.__table__,
        {
            "kind": str(kind),
            "version": version,
            "body": data.body,
            "body_en": data.body_en,
            "created_by": author[:120],
            "created_at": clock.now(),
        },
    )
    if not inserted:
        raise LegalPageRace()
    cache.forget_after_commit(session)  # the cached settings name the privacy policy's version
    page = await find_legal_page(session, kind=kind)
    assert page is not None
    before = (
        {"version": current.version, "body": current.body, "body_en": current.body_en} if current else None
    )
    after = {"version": page.version, "body": page.body, "body_en": page.body_en}
    return page, ShopChange(
        action="shop.legal_publish", object_type="legal_page", object_id=str(kind), before=before, after=after
    )


def legal_blocks(text: str) -> list[LegalBlock]:
    """The blocks of a legal page's text: ``#`` lines are headings, runs of ``-`` lines lists,
    other lines join into paragraphs (a blank line ends one)."""
    blocks: list[LegalBlock] = []
    paragraph: list[str] = []
    items: list[str] = []

    def close() -> None:
        if paragraph:
            blocks.append(LegalBlock(kind="paragraph", text="\n".join(paragraph)))
            paragraph.clear()
        if items:
            blocks.append(LegalBlock(kind="list", items=list(items)))
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            close()
        elif line.startswith("#"):
            close()
            heading = line.lstrip("#").strip()
            if heading:
                blocks.append(LegalBlock(kind="heading", text=heading))
        elif line.startswith(("- ", "* ", "· ")):
            if paragraph:
                close()
            items.append(line[2:].strip())
        else:
            if items:
                close()
            paragraph.append(line)
    close()
    return blocks
