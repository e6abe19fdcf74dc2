"""Public DTOs and inputs of sharing and invites: share cards (what a poster and a share link
show), invitations and the shopper's invite summary."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from mercato.core.schemas import InputModel, ReadModel


class ShareKind(StrEnum):
    """What a share link and poster are of (the ``id`` names one of these)."""

    product = "product"  # a product page (id: the product)
    flash = "flash"  # a flash-sale item (id: the item), at its 秒杀价
    group = "group"  # a group (团) to join (id: the group), at the group price
    bargain = "bargain"  # a bargain to help cut (id: the bargain), at its price now
    invite = "invite"  # the sharer's own invitation (no id: the registration page)


class ShareCard(ReadModel):
    """What a share of one product or play shows: the poster's texts and picture, and the link
    that carries the sharer's invite code (``code``; None for a guest)."""

    kind: ShareKind
    target_id: int
    product_id: int | None  # None for an invitation
    title: str  # the product's title; the shop's name for an invitation
    title_en: str
    currency: str
    price_amount: int  # the play's price for a play, the lowest SKU price for a product
    price_is_from: bool  # a product whose SKUs differ in price: "from" the lowest
    group_size: int | None  # a group's size (the "3人团" badge)
    image_url: str | None  # the product's first picture (full size), None without one
    path: str  # the share link within the shop, e.g. /p/tee?ref=K7M3Q9XA
    url: str  # the same, absolute (what the QR code holds)
    code: str | None


class InvitationRead(ReadModel):
    """Who invited a customer, and when the invitee registered and first paid an order."""

    invitee_id: int
    inviter_id: int
    code: str
    registered_at: dt.datetime
    first_paid_at: dt.datetime | None
    created_at: dt.datetime


class InviteSummary(ReadModel):
    """The shopper's invite page, counted from the rows: their code and invite link, how many
    registered through it, how many of those paid an order, and the coupons they received for
    inviting (used or not)."""

    code: str | None  # None until the customer's first share or visit of the invite page
    link: str | None
    registered: int
    ordered: int
    coupons_earned: int


class InvitationCode(InputModel):
    """An invite code entered after registering (apps): 8 characters, spaces and dashes ignored."""

    code: Annotated[str, Field(min_length=1, max_length=20)]
