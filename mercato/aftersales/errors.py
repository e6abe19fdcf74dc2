"""After-sales errors (stable codes ``aftersales.*``).

Hierarchy (see ``mercato.core.errors``)::

    DomainError (400)
    ├── NotFound (404)
    │   ├── RequestNotFound           aftersales.request_not_found   no such request, or another customer's
    │   └── LineNotFound              aftersales.line_not_found      no such line in the customer's orders
    ├── InvalidInput (422)
    │   ├── QuantityExceedsBought     aftersales.quantity_exceeds_bought
    │   ├── RefundTooLarge            aftersales.refund_too_large    over the units' share of the line
    │   ├── KindNotAllowed            aftersales.kind_not_allowed    e.g. a return before shipment
    │   ├── TooManyUnitsGraded        aftersales.too_many_units_graded
    │   ├── UnitsNotGraded            aftersales.units_not_graded
    │   ├── PhotoInvalid              aftersales.photo_invalid       not a JPEG, PNG or WebP image
    │   │   └── PhotoPixelsTooMany    (same code)                    over max_image_pixels in all
    │   ├── PhotoTooLarge             aftersales.photo_too_large
    │   └── InvalidPeriod             aftersales.invalid_period      ends before it starts
    └── Conflict (409)
        ├── IllegalTransition         aftersales.illegal_transition  the request's status forbids the action
        ├── RequestChanged            aftersales.request_changed     it moved while this action ran; retry
        ├── OrderNotEligible          aftersales.order_not_eligible  unpaid, cancelled or closed order
        ├── NotDeliveredYet           aftersales.not_delivered_yet   on its way: wait for the delivery
        ├── WindowClosed              aftersales.window_closed       more than N days after delivery
        ├── PaymentExhausted          aftersales.payment_exhausted   the payment has less left than the refund
        ├── PhotosClosed              aftersales.photos_closed       decided, and not disputed
        └── TooManyPhotos             aftersales.too_many_photos
"""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound


class RequestNotFound(NotFound):
    code = "aftersales.request_not_found"
    message = "After-sales request not found."


class LineNotFound(NotFound):
    code = "aftersales.line_not_found"
    message = "This order line does not exist."


class QuantityExceedsBought(InvalidInput):
    """Bought minus the units already in open or completed requests is less than asked for."""

    code = "aftersales.quantity_exceeds_bought"
    message = "At most {available} more units of this line can be returned or refunded."


class RefundTooLarge(InvalidInput):
    code = "aftersales.refund_too_large"
    message = "The refund can be at most {maximum} for these units."


class KindNotAllowed(InvalidInput):
    code = "aftersales.kind_not_allowed"
    message = "This kind of request is not possible for this line now."


class TooManyUnitsGraded(InvalidInput):
    code = "aftersales.too_many_units_graded"
    message = "More units were graded ({graded}) than were returned ({returned})."


class UnitsNotGraded(InvalidInput):
    code = "aftersales.units_not_graded"
    message = "Grade every returned unit: {graded} graded of {returned} returned."


class PhotoInvalid(InvalidInput):
    """Not a JPEG, PNG or WebP image by its content, damaged, or too many pixels."""

    code = "aftersales.photo_invalid"
    message = "The photo is not a valid JPEG, PNG or WebP image of at most {max_side} × {max_side} pixels."


class PhotoPixelsTooMany(PhotoInvalid):
    """Each side allowed, but over ``max_image_pixels`` in all (same code as PhotoInvalid)."""

    message = "The photo has too many pixels: at most {max_megapixels} megapixels."


class PhotoTooLarge(InvalidInput):
    code = "aftersales.photo_too_large"
    message = "The photo is too large: at most {max_megabytes} MB."


class InvalidPeriod(InvalidInput):
    code = "aftersales.invalid_period"
    message = "The period must start before it ends and span at most {max_days} days."


class RequestChanged(Conflict):
    code = "aftersales.request_changed"
    message = "The request changed while this was being done; reload it and try again."


class OrderNotEligible(Conflict):
    code = "aftersales.order_not_eligible"
    message = "After-sales requests are only possible for paid orders."


class NotDeliveredYet(Conflict):
    code = "aftersales.not_delivered_yet"
    message = "This item is on its way; after-sales requests are possible once it is delivered."


class WindowClosed(Conflict):
    code = "aftersales.window_closed"
    message = "The after-sales window of {days} days after delivery has closed."


class PaymentExhausted(Conflict):
    code = "aftersales.payment_exhausted"
    message = "The payment has only {refundable} left to refund."


class TooManyPhotos(Conflict):
    code = "aftersales.too_many_photos"
    message = "A request can have at most {maximum} photos."


class PhotosClosed(Conflict):
    code = "aftersales.photos_closed"
    message = "Photos can be added only before the request is decided, or to a dispute."
