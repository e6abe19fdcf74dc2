"""Notification errors (codes are part of the API contract)::

NotFound (404)
├── MessageNotFound    notify.message_not_found    no such message, or another customer's
└── DeliveryNotFound   notify.delivery_not_found
Conflict (409)
└── NotRetryable       notify.not_retryable        only a failed email can be sent again
"""

from __future__ import annotations

from mercato.core.errors import Conflict, NotFound


class MessageNotFound(NotFound):
    code = "notify.message_not_found"
    message = "The message was not found."


class DeliveryNotFound(NotFound):
    code = "notify.delivery_not_found"
    message = "The email was not found."


class NotRetryable(Conflict):
    code = "notify.not_retryable"
    message = "Only an email that was given up can be sent again."
