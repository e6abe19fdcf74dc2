"""Catalog transition tables: the listing workflow of a product, as data.

::

    draft ──submit──▶ pending_review ──approve──▶ on_sale ◀──▶ off_sale
                                                  (take off sale / put on sale)
    pending_review ──reject (reason)──▶ rejected ──resubmit──▶ pending_review
    rejected, off_sale ──edit──▶ draft

Only the named actions in ``service/listing.py`` move a product along these edges, and each move
writes a ``catalog_listing_status_change`` row and an audit entry.
"""

from __future__ import annotations

from enum import StrEnum

from mercato.core.statemachine import TransitionTable


class ListingStatus(StrEnum):
    """Where a product (SPU) stands in the listing workflow."""

    draft = "draft"  # being written; invisible to shoppers; editable
    pending_review = "pending_review"  # passed the automatic checks; waits for a reviewer
    on_sale = "on_sale"  # approved and visible in the storefront
    off_sale = "off_sale"  # taken down by staff; can go back on sale, or back to draft to edit
    rejected = "rejected"  # refused by a reviewer with a reason; resubmit or edit


class SkuStatus(StrEnum):
    """Whether a SKU can be sold; SKUs are never deleted."""

    active = "active"  # sellable (when its product is on sale)
    disabled = "disabled"  # its spec combination was removed, or staff switched it off


LISTING = TransitionTable(
    "catalog",
    {
        ListingStatus.draft: frozenset({ListingStatus.pending_review}),
        ListingStatus.pending_review: frozenset({ListingStatus.on_sale, ListingStatus.rejected}),
        ListingStatus.on_sale: frozenset({ListingStatus.off_sale}),
        ListingStatus.off_sale: frozenset({ListingStatus.on_sale, ListingStatus.draft}),
        ListingStatus.rejected: frozenset({ListingStatus.pending_review, ListingStatus.draft}),
    },
)

#: Statuses in which a product's content (texts, params, specs) may be edited; editing a
#: rejected or off-sale product moves it back to draft first (it needs a new review).
EDITABLE = frozenset({ListingStatus.draft, ListingStatus.rejected, ListingStatus.off_sale})
