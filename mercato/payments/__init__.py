"""Payments: payment records with a state machine, provider notifications applied exactly once,
closing on timeout, full and partial refunds (settled at once, or later by the gateway's refund
notification or a query), reconciliation against provider statements, and the gateways:
``sandbox`` (embedded default), ``alipay``, ``wechatpay``, ``stripe``.

Public API (service functions take an ``AsyncSession`` first and keyword arguments; those that
call a provider between two transactions own their transactions and take no session):

- ``create_payment`` (idempotent per reference and provider while pending; the trade is opened
  at the provider after the commit; ``channel``/``payer_openid`` for WeChat Pay JSAPI: a pending
  payment paid another way is ``PendingPaymentDiffers``), ``get_payment`` (object-level with ``customer_id``),
  ``list_payments``, ``list_status_changes``, ``list_notifications``, ``list_refunds``
- ``handle_notification``: verify, deduplicate on ``(provider, provider_txn_id)``, apply once
- ``close_payment`` (asks the provider after the commit), ``close_with_provider`` (owns its
  transactions: the provider first, then the payment; e.g. a QR payment given up for JSAPI),
  ``close_expired_payments`` (job ``payments-close-expired``), ``query_payment`` (reconcile with
  the provider)
- ``close_open_payments``: the payable was given up (an order cancelled): its pending payments
  close in the caller's transaction, their trades right after the commit; refused with
  ``ReferenceAlreadyPaid`` when its money has already arrived
- ``refund_payment`` (full or partial, Idempotency-Key, audited), ``get_refund``, ``send_refund``,
  ``resume_pending_refunds`` (job ``payments-resume-refunds``), ``refund_unwanted_payment``
  (money nobody can take: refunded in full by the system, once; flagged if the gateway refuses)
- sandbox gateway pages: ``get_sandbox_checkout``, ``submit_sandbox_payment``;
  ``use_sandbox_http_client`` (tests post its notifications through the ASGI client)
- reconciliation (``mercato payments reconcile``): ``read_statement`` (a provider's CSV
  statement, pure; ``StatementUnreadable``), ``reconcile_statement`` (its lines against our
  payments and refunds → ``ReconcileReport`` of ``StatementDifference``)

States (states.py): pending → paid | failed | closed; closed → paid (late money, refunded at
once); paid → partially_refunded | refunded; partially_refunded → partially_refunded | refunded.
Every change is a ``payments_payment_status_change`` row. A notification with another amount or
currency, or one paying a failed payment, sets ``needs_review`` instead of paying; one paying a
closed payment is captured and refunded automatically.

Events emitted: ``PaymentCaptured``, ``PaymentFailed``, ``PaymentClosed``, ``PaymentRefunded``,
``PaymentNeedsReview``. Events consumed: none. Depends on: core, identity (audit).
Providers: ``providers/base.py`` (the Protocol), ``sandbox``, ``alipay``, ``wechatpay``,
``stripe``; enabled by ``MERCATO_PAYMENT_PROVIDERS`` and offered only when fully configured.
``offered_providers`` names those a shopper can choose now.
Decision records: docs/decisions/0014-payments-providers-and-sandbox.md; Alipay and WeChat Pay:
0015-alipay-and-wechat-pay.md; Stripe and reconciliation: 0016-stripe-and-reconciliation.md.
"""

from mercato.payments.errors import (
    InvalidNotification,
    InvalidSignature,
    NotificationForUnknownPayment,
    NotRefundable,
    PaymentNotFound,
    PaymentRace,
    PendingPaymentDiffers,
    ProviderUnavailable,
    ReferenceAlreadyPaid,
    RefundExceedsPayment,
    RefundNotFound,
    SandboxTradeNotFound,
    SandboxTradeNotPayable,
    UnknownProvider,
)
from mercato.payments.events import (
    PaymentCaptured,
    PaymentClosed,
    PaymentFailed,
    PaymentNeedsReview,
    PaymentRefunded,
)
from mercato.payments.providers.registry import offered_providers
from mercato.payments.providers.sandbox import use_http_client as use_sandbox_http_client
from mercato.payments.schemas import (
    NotificationOutcome,
    NotificationRead,
    NotificationResult,
    PaymentRead,
    PaymentStatus,
    PaymentStatusChangeRead,
    RefundCreate,
    RefundRead,
    RefundStatus,
    SandboxCheckout,
    SandboxOutcome,
    SandboxPay,
)
from mercato.payments.service.notifications import handle_notification
from mercato.payments.service.payments import (
    close_expired_payments,
    close_open_payments,
    close_payment,
    close_with_provider,
    create_payment,
    get_payment,
    list_notifications,
    list_payments,
    list_refunds,
    list_status_changes,
    query_payment,
)
from mercato.payments.service.reconcile import (
    STATEMENT_PROVIDERS,
    DifferenceKind,
    ReconcileReport,
    Statement,
    StatementDifference,
    StatementLine,
    StatementUnreadable,
    read_statement,
    reconcile_statement,
)
from mercato.payments.service.refunds import (
    get_refund,
    refund_payment,
    refund_unwanted_payment,
    resume_pending_refunds,
    send_refund,
)
from mercato.payments.service.sandbox_gateway import get_sandbox_checkout, submit_sandbox_payment

__all__ = [
    "DifferenceKind",
    "InvalidNotification",
    "InvalidSignature",
    "NotRefundable",
    "NotificationForUnknownPayment",
    "NotificationOutcome",
    "NotificationRead",
    "NotificationResult",
    "PaymentCaptured",
    "PaymentClosed",
    "PaymentFailed",
    "PaymentNeedsReview",
    "PaymentNotFound",
    "PaymentRace",
    "PaymentRead",
    "PaymentRefunded",
    "PaymentStatus",
    "PaymentStatusChangeRead",
    "PendingPaymentDiffers",
    "ProviderUnavailable",
    "ReconcileReport",
    "ReferenceAlreadyPaid",
    "RefundCreate",
    "RefundExceedsPayment",
    "RefundNotFound",
    "RefundRead",
    "RefundStatus",
    "STATEMENT_PROVIDERS",
    "SandboxCheckout",
    "SandboxOutcome",
    "SandboxPay",
    "SandboxTradeNotFound",
    "SandboxTradeNotPayable",
    "Statement",
    "StatementDifference",
    "StatementLine",
    "StatementUnreadable",
    "UnknownProvider",
    "close_expired_payments",
    "close_open_payments",
    "close_payment",
    "close_with_provider",
    "create_payment",
    "get_payment",
    "get_refund",
    "get_sandbox_checkout",
    "handle_notification",
    "list_notifications",
    "list_payments",
    "list_refunds",
    "list_status_changes",
    "offered_providers",
    "query_payment",
    "read_statement",
    "reconcile_statement",
    "refund_payment",
    "refund_unwanted_payment",
    "resume_pending_refunds",
    "send_refund",
    "submit_sandbox_payment",
    "use_sandbox_http_client",
]
