"""Content: what the shop shows besides its products — for now the home-page banners.

Public API (service functions take an ``AsyncSession`` first, keyword arguments after, and return
schemas):

- banners (``service/banners.py``): ``list_live_banners`` (the home page: enabled and inside their
  window, in position order), ``list_banners``, ``get_banner``, and the staff writes
  ``create_banner``, ``update_banner`` (optionally with a new image), ``set_banner_enabled``,
  ``delete_banner``. An image upload is checked by ``check_banner_image`` first, then proved and
  re-encoded by ``core.images.decode`` outside any transaction, and kept in ``core.storage``;
  links are paths of this shop only (``BannerWrite.link``).

Every staff write takes ``actor`` and records an audit entry (``banner.*``) in the same
transaction. Permissions (checked by the callers): ``content.write`` to change banners.

Events emitted: none. Events consumed: none. Depends on: core, identity (audit).
Tables: ``content_banner``.
"""

from mercato.content.errors import (
    BannerImageInvalid,
    BannerImagePixelsTooMany,
    BannerImageRequired,
    BannerImageTooLarge,
    BannerNotFound,
)
from mercato.content.schemas import BannerRead, BannerStatus, BannerWrite
from mercato.content.service.banners import (
    check_banner_image,
    create_banner,
    delete_banner,
    get_banner,
    list_banners,
    list_live_banners,
    set_banner_enabled,
    update_banner,
)

__all__ = [
    "BannerImageInvalid",
    "BannerImagePixelsTooMany",
    "BannerImageRequired",
    "BannerImageTooLarge",
    "BannerNotFound",
    "BannerRead",
    "BannerStatus",
    "BannerWrite",
    "check_banner_image",
    "create_banner",
    "delete_banner",
    "get_banner",
    "list_banners",
    "list_live_banners",
    "set_banner_enabled",
    "update_banner",
]
