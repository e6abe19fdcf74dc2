"""Notify: tells shoppers what happened to their orders — in-app messages they list and mark
read, and emails over SMTP — in their language, exactly once per fact.

Public API (service functions take an ``AsyncSession`` first and keyword arguments; those that
talk to the SMTP server own their transactions and take no session):

- ``notify_customer``: an in-app message plus, when the customer has an email address, an email
  in the outbox; idempotent by ``(customer_id, kind, dedupe_key)``. Other domains (after-sales)
  call it in their own transaction; ``KIND_PARAMS`` lists the parameters of each kind.
- inbox: ``list_messages`` (newest first, cursor pages, unread only), ``count_unread``,
  ``get_message``, ``mark_read``, ``mark_all_read`` — always scoped to one customer
- email outbox: ``send_due_emails`` (job ``notify-send-emails``, kicked after each commit that
  queued an email), ``send_email`` (claim, send, record), ``list_deliveries``, ``get_delivery``,
  ``list_delivery_history``, ``retry_delivery`` (staff, audited)
- ``erase_customer_messages`` (account deletion)
- ``preview_messages``: every template rendered with sample data in every language (read-only)
- transports: ``ConsoleEmail`` (the embedded default: a masked log line), ``SmtpEmail``
  (aiosmtplib), ``get_email_transport``/``use_email_transport``, ``build_mime``

Kinds: order_paid, order_shipped (every parcel; ``fully`` on the last), order_delivered,
refund_succeeded, aftersales_decided. Account emails (``AccountEmailKind``: register_code,
reset_code, account_exists) go through the same outbox without an in-app message, written by
the handlers of identity's ``EmailCodeIssued`` and ``ExistingAccountSignUpAttempted``.
Templates: ``templates/notify/<locale>/`` (zh_CN, en).
Email states (states.py): pending → sending → sent | pending (retry, backoff) | failed; every
change is a ``notify_delivery_status_change`` row.

Events emitted: none. Events consumed: ``orders.order_paid``, ``orders.order_shipped``,
``orders.order_delivered``, ``payments.payment_refunded``, ``identity.customer_deleted``,
``identity.email_code_issued``, ``identity.existing_account_sign_up_attempted`` (handlers.py).
Depends on: core, identity (customers' email and name, audit), orders (order reads), payments
(events). Decision record: docs/decisions/0018-notifications.md.
"""

from mercato.notify.errors import DeliveryNotFound, MessageNotFound, NotRetryable
from mercato.notify.providers.base import EmailDeliveryFailed, EmailTransport, OutgoingEmail, build_mime
from mercato.notify.providers.console import ConsoleEmail
from mercato.notify.providers.registry import get_email_transport, use_email_transport
from mercato.notify.providers.smtp import SmtpEmail
from mercato.notify.schemas import (
    AccountEmailKind,
    Channel,
    DeliveryRead,
    DeliveryStatus,
    DeliveryStatusChangeRead,
    MarkAllRead,
    MarkedRead,
    MessageKind,
    MessageRead,
    RetryDelivery,
    TemplatePreview,
    UnreadCount,
)
from mercato.notify.service.emails import (
    get_delivery,
    list_deliveries,
    list_delivery_history,
    retry_delivery,
    send_due_emails,
    send_email,
)
from mercato.notify.service.messages import (
    count_unread,
    erase_customer_messages,
    get_message,
    list_messages,
    mark_all_read,
    mark_read,
    notify_customer,
)
from mercato.notify.service.previews import preview_messages
from mercato.notify.states import DELIVERY
from mercato.notify.templating import KIND_PARAMS

__all__ = [
    "DELIVERY",
    "KIND_PARAMS",
    "AccountEmailKind",
    "Channel",
    "ConsoleEmail",
    "DeliveryNotFound",
    "DeliveryRead",
    "DeliveryStatus",
    "DeliveryStatusChangeRead",
    "EmailDeliveryFailed",
    "EmailTransport",
    "MarkAllRead",
    "MarkedRead",
    "MessageKind",
    "MessageNotFound",
    "MessageRead",
    "NotRetryable",
    "OutgoingEmail",
    "RetryDelivery",
    "SmtpEmail",
    "TemplatePreview",
    "UnreadCount",
    "build_mime",
    "count_unread",
    "erase_customer_messages",
    "get_delivery",
    "get_email_transport",
    "get_message",
    "list_deliveries",
    "list_delivery_history",
    "list_messages",
    "mark_all_read",
    "mark_read",
    "notify_customer",
    "preview_messages",
    "retry_delivery",
    "send_due_emails",
    "send_email",
    "use_email_transport",
]
