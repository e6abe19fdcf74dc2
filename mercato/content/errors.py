"""Content errors, each with a stable code.

Exceptions::

    DomainError
    ├── NotFound
    │   └── BannerNotFound          content.banner_not_found
    └── InvalidInput
        ├── BannerImageRequired     content.banner_image_required
        ├── BannerImageTooLarge     content.image_too_large
        └── BannerImageInvalid      content.image_invalid
            └── BannerImagePixelsTooMany  (same code: over ``max_image_pixels`` in all)
"""

from __future__ import annotations

from mercato.core.errors import InvalidInput, NotFound


class BannerNotFound(NotFound):
    code = "content.banner_not_found"
    message = "This banner does not exist."


class BannerImageRequired(InvalidInput):
    code = "content.banner_image_required"
    message = "Choose an image for the banner."


class BannerImageTooLarge(InvalidInput):
    """The upload is over ``max_image_bytes``; checked before the file is decoded."""

    code = "content.image_too_large"
    message = "The image is too large: at most {max_megabytes} MB."


class BannerImageInvalid(InvalidInput):
    """Not a JPEG, PNG or WebP image by its content, or wider or taller than allowed."""

    code = "content.image_invalid"
    message = "The file is not a valid JPEG, PNG or WebP image."


class BannerImagePixelsTooMany(BannerImageInvalid):
    """Each side allowed, but over ``max_image_pixels`` in all (same code as BannerImageInvalid)."""

    message = "The image has too many pixels: at most {max_megapixels} megapixels."
