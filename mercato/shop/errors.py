"""Shop errors, each with a stable code.

Exceptions::

    DomainError
    ├── Conflict
    │   └── LegalPageRace           shop.legal_page_race
    └── InvalidInput
        ├── ShopImageTooLarge       shop.image_too_large
        ├── ShopImageInvalid        shop.image_invalid
        │   └── ShopImagePixelsTooMany  (same code: over ``max_image_pixels`` in all)
        ├── DefaultLocaleNotEnabled shop.default_locale_not_enabled
        └── BrandColorTooLight      shop.brand_color_too_light
"""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput


class ShopImageTooLarge(InvalidInput):
    """The logo or favicon is over ``MAX_IMAGE_BYTES``; checked before the file is decoded."""

    code = "shop.image_too_large"
    message = "The image is too large: at most {max_kilobytes} KB."


class ShopImageInvalid(InvalidInput):
    """Not a JPEG, PNG or WebP image by its content, or wider or taller than allowed."""

    code = "shop.image_invalid"
    message = "The file is not a valid JPEG, PNG or WebP image of at most {max_side} × {max_side} pixels."


class ShopImagePixelsTooMany(ShopImageInvalid):
    """Each side allowed, but over ``max_image_pixels`` in all (same code as ShopImageInvalid)."""

    message = "The image has too many pixels: at most {max_megapixels} megapixels."


class DefaultLocaleNotEnabled(InvalidInput):
    """The default language is not among the languages the shop offers."""

    code = "shop.default_locale_not_enabled"
    message = "The default language must be one of the languages offered."


class LegalPageRace(Conflict):
    """Another save of the same legal page took this version number at the same moment."""

    code = "shop.legal_page_race"
    message = "Someone else saved this page at the same moment. Check the text and save again."


class BrandColorTooLight(InvalidInput):
    """White text on the colour (buttons) and the colour as text on white (links, prices) would be
    hard to read: its contrast with white is under WCAG AA's 4.5:1."""

    code = "shop.brand_color_too_light"
    message = "Choose a darker colour: white text on it and it on white must stay readable."
