"""The ``stripe`` provider: PaymentIntents, signed webhooks and refunds through Stripe's own SDK.

- ``create`` opens a PaymentIntent (``POST /v1/payment_intents``) for our amount in Stripe's
  minor unit of the currency, lower-case currency, ``metadata[payment_id]`` and
  ``metadata[reference]``, with the Idempotency-Key ``mercato-payment-<payment id>``: a retry
  returns the same intent instead of opening a second one. The browser pays on our pay page
  (``pay_url``) with Stripe.js, which needs ``client_data``: the publishable key, the intent's
  client secret and where Stripe sends the customer back.
- Webhooks (``parse_notification``): the ``Stripe-Signature`` header is checked with the SDK
  (``t=<unix seconds>,v1=<hex HMAC-SHA256(endpoint secret, "<t>.<raw body>")>``, at most 300 s
  old); the event id is the notification id, so a resent or replayed event is applied once.
  ``payment_intent.succeeded`` → paid (amount received), ``payment_intent.payment_failed`` →
  failed, ``payment_intent.canceled`` → closed, other ``payment_intent.*`` → pending (ignored);
  ``refund.created`` / ``refund.updated`` / ``refund.failed`` settle our refund named in the
  refund's ``metadata[refund_id]``; ``charge.refunded`` says only how much of a charge was
  given back (its refunds are not in the event since API version 2022-11-15), so it is recorded
  as a ``refunded`` notice and changes nothing. Any other event type is refused (400): subscribe
  the endpoint to the events above only.
- ``query`` retrieves the intent; ``refund`` creates a Refund with the Idempotency-Key
  ``mercato-refund-<refund id>`` (Stripe answers ``succeeded``, ``pending`` or ``failed``);
  ``query_refund`` looks the refund up by its metadata among the intent's refunds (a repeated
  create would replay the first answer for 24 hours); ``close`` cancels the intent (an intent
  that already succeeded → ``already_paid``).

Every API call goes through a fresh ``StripeClient`` (async, httpx) closed after the call, so a
provider object is safe to use from any event loop (the web app, jobs, the CLI). Stripe errors
that mean "try again later" (network, authentication, rate limits, 5xx) become
``ProviderUnavailable``; a refund Stripe refuses (400) is a failed refund.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import stripe
import structlog

from mercato.core.money import exponent
from mercato.core.settings import Settings, get_settings
from mercato.payments.errors import InvalidNotification, InvalidSignature, ProviderUnavailable
from mercato.payments.providers.base import (
    CloseResult,
    Notification,
    PaymentToCreate,
    ProviderCreated,
    RefundNotification,
    RefundResult,
)

log = structlog.get_logger("mercato.payments.stripe")

# The SDK would otherwise write a telemetry id under the user's home and send platform details.
stripe.enable_telemetry = False

NAME = "stripe"
#: Our pay page for a Stripe payment (served by the storefront): it mounts Stripe.js with
#: ``client_data`` and is also where Stripe sends the customer back after a redirect.
PAY_PATH = "/pay/stripe/{payment_id}"
SIGNATURE_HEADER = "stripe-signature"
#: Seconds a webhook's signed timestamp may be old (Stripe's documented default).
TOLERANCE_SECONDS = 300
#: Currencies Stripe counts in whole units, and those it counts in thousandths
#: (https://docs.stripe.com/currencies); every other currency is in hundredths (ISK too, though
#: ISO 4217 gives it no decimals).
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF"}
    | {"XPF"}
)
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
#: Intent status → the status a query reports. A declined attempt leaves the intent
#: ``requires_payment_method``: the customer may still pay it, so a query reports it pending.
_QUERY_STATUS = {"succeeded": "paid", "canceled": "closed"}
#: Payment-intent event type → the status it reports (other payment_intent.* events: pending).
_EVENT_STATUS = {
    "payment_intent.succeeded": "paid",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "closed",
}
_REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})
#: What we expect of a Stripe object id before we store it.
_MAX_ID = 100


def stripe_exponent(currency: str) -> int:
    """The number of decimals Stripe's API uses for ``currency`` (ISO code, any case)."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def to_stripe_amount(amount: int, currency: str) -> int:
    """Our minor units → Stripe's ``amount`` (they differ only where ISO 4217 and Stripe do).

    Raises:
        ValueError: the amount cannot be expressed exactly in Stripe's unit.
    """
    shift = stripe_exponent(currency) - exponent(currency.upper())
    factor: int = 10 ** abs(shift)
    if shift >= 0:
        return amount * factor
    whole, rest = divmod(amount, factor)
    if rest:
        raise ValueError(f"{amount} {currency} has more decimals than Stripe accepts")
    return whole


def from_stripe_amount(value: int, currency: str) -> int | None:
    """Stripe's ``amount`` → our minor units; None when it has no exact equivalent."""
    shift = exponent(currency.upper()) - stripe_exponent(currency)
    factor: int = 10 ** abs(shift)
    if shift >= 0:
        return value * factor
    whole, rest = divmod(value, factor)
    return None if rest else whole


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx transport, passing the form-encoded body as ``content=``: the SDK passes
    it as ``data=``, which httpx deprecates for text (and our tests turn warnings into errors)."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return [args, kwargs]


@dataclass(frozen=True)
class StripeConfig:
    """What the provider needs from the settings (secrets from the environment only)."""

    secret_key: str
    publishable_key: str
    webhook_secret: str
    api_base: str = stripe.DEFAULT_API_BASE
    public_base_url: str = ""
    timeout_seconds: float = 20.0
    max_network_retries: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeConfig:
        return cls(
            secret_key=settings.stripe_secret_key.get_secret_value(),
            publishable_key=settings.stripe_publishable_key,
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            api_base=settings.stripe_api_base.rstrip("/"),
            public_base_url=settings.public_base_url,
        )


class StripeProvider:
    """The shop's client of Stripe (see the module docstring)."""

    name = NAME

    def __init__(self, config: StripeConfig) -> None:
        self._config = config

    @classmethod
    def from_settings(cls) -> StripeProvider:
        return cls(StripeConfig.from_settings(get_settings()))

    # -- calling the API ---------------------------------------------------------------------

    @asynccontextmanager
    async def _api(self, action: str) -> AsyncIterator[stripe.StripeClient]:
        """A client for one call; Stripe errors other than a refusal → ``ProviderUnavailable``.

        ``stripe.InvalidRequestError`` (a 4xx about the request itself) is left to the caller,
        which knows whether it means "refused" or "unavailable".
        """
        http = _HTTPXClient(timeout=self._config.timeout_seconds)
        client = stripe.StripeClient(
            self._config.secret_key,
            base_addresses={"api": self._config.api_base},
            http_client=http,
            max_network_retries=self._config.max_network_retries,
        )
        try:
            yield client
        except stripe.InvalidRequestError:
            raise
        except stripe.StripeError as exc:
            raise self._unavailable(action, exc) from exc
        finally:
            await http.close_async()  # type: ignore[no-untyped-call]

    def _unavailable(self, action: str, exc: stripe.StripeError) -> ProviderUnavailable:
        """Log why Stripe could not be used (no secrets: the error's class, status and code)."""
        log.warning(
            "stripe.call_failed",
            action=action,
            error=type(exc).__name__,
            status=exc.http_status,
            code=exc.code,
        )
        return ProviderUnavailable()

    # -- the provider interface --------------------------------------------------------------

    async def create(self, payment: PaymentToCreate) -> ProviderCreated:
        amount = to_stripe_amount(payment.amount, payment.currency)
        currency = payment.currency.lower()
        try:
            async with self._api("create") as client:
                intent = await client.v1.payment_intents.create_async(
                    {
                        "amount": amount,
                        "currency": currency,
                        "automatic_payment_methods": {"enabled": True},
                        "metadata": {"payment_id": str(payment.payment_id), "reference": payment.reference},
                    },
                    {"idempotency_key": f"mercato-payment-{payment.payment_id}"},
                )
        except stripe.InvalidRequestError as exc:
            raise self._unavailable("create", exc) from exc
        pay_url = self._config.public_base_url + PAY_PATH.format(payment_id=payment.payment_id)
        return ProviderCreated(
            provider_payment_id=intent.id,
            pay_url=pay_url,
            client_data={
                "publishable_key": self._config.publishable_key,
                "client_secret": intent.client_secret,
                "payment_intent": intent.id,
                "amount": intent.amount,
                "currency": intent.currency,
                "return_url": pay_url,
            },
        )

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> Notification | RefundNotification:
        lowered = {key.lower(): value for key, value in headers.items()}
        try:
            stripe.WebhookSignature.verify_header(
                body, lowered.get(SIGNATURE_HEADER), self._config.webhook_secret, TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidSignature() from exc
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise InvalidNotification() from exc
        return read_event(event)

    async def query(self, provider_payment_id: str) -> Notification:
        try:
            async with self._api("query") as client:
                intent = await client.v1.payment_intents.retrieve_async(provider_payment_id)
        except stripe.InvalidRequestError as exc:
            raise self._unavailable("query", exc) from exc
        payload = intent.to_dict()
        status = _QUERY_STATUS.get(str(payload.get("status")), "pending")
        return _intent_notification(f"{intent.id}:{payload.get('status')}", payload, status, raw=payload)

    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        try:
            async with self._api("refund") as client:
                intent = (await client.v1.payment_intents.retrieve_async(provider_payment_id)).to_dict()
                refund = await client.v1.refunds.create_async(
                    {
                        "payment_intent": provider_payment_id,
                        "amount": to_stripe_amount(amount, str(intent["currency"])),
                        "metadata": {"refund_id": str(refund_id), "payment_id": _payment_id(intent) or ""},
                    },
                    {"idempotency_key": f"mercato-refund-{refund_id}"},
                )
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                raise self._unavailable("refund", exc) from exc
            return RefundResult(succeeded=False, failure_reason=f"stripe: {exc.code or 'refused'}")
        return refund_result(refund.to_dict())

    async def query_refund(self, provider_payment_id: str, refund_id: int) -> RefundResult:
        """The refund's status now, found among the intent's refunds by ``metadata[refund_id]``."""
        try:
            async with self._api("query_refund") as client:
                found = await client.v1.refunds.list_async(
                    {"payment_intent": provider_payment_id, "limit": 100}
                )
        except stripe.InvalidRequestError as exc:
            raise self._unavailable("query_refund", exc) from exc
        for refund in found.data:
            payload = refund.to_dict()
            if (payload.get("metadata") or {}).get("refund_id") == str(refund_id):
                return refund_result(payload)
        log.warning("stripe.refund_not_found", refund_id=refund_id, payment_intent=provider_payment_id)
        raise ProviderUnavailable()

    async def close(self, provider_payment_id: str) -> CloseResult:
        try:
            async with self._api("close") as client:
                try:
                    await client.v1.payment_intents.cancel_async(
                        provider_payment_id, {"cancellation_reason": "abandoned"}
                    )
                except stripe.InvalidRequestError as exc:
                    if exc.code != "payment_intent_unexpected_state":
                        raise
                    # Not cancelable now: it succeeded, was canceled already, or is processing.
                    intent = await client.v1.payment_intents.retrieve_async(provider_payment_id)
                    if intent.status == "succeeded":
                        return CloseResult(closed=False, already_paid=True)
                    if intent.status != "canceled":
                        raise ProviderUnavailable() from exc  # processing: ask again later
        except stripe.InvalidRequestError as exc:
            raise self._unavailable("close", exc) from exc
        return CloseResult(closed=True)


# -- reading events (pure) --------------------------------------------------------------------


def _text(value: Any, *, prefix: str = "") -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_ID or not value.startswith(prefix):
        raise InvalidNotification()
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**15:
        raise InvalidNotification()
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha() or not value.isascii():
        raise InvalidNotification()
    return value.upper()


def _ours(value: int, currency: str) -> int:
    """Stripe's amount in our minor units; -1 (never an expected amount, so the payment is
    flagged for review) when it has no exact equivalent."""
    converted = from_stripe_amount(value, currency)
    return -1 if converted is None else converted


def _metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _payment_id(obj: Mapping[str, Any]) -> str | None:
    value = _metadata(obj).get("payment_id")
    return value if isinstance(value, str) and value.isdigit() and len(value) <= 19 else None


def _intent_notification(
    txn_id: str, intent: Mapping[str, Any], status: str, *, raw: dict[str, Any]
) -> Notification:
    currency = _currency(intent.get("currency"))
    received = _count(intent.get("amount_received")) if status == "paid" else _count(intent.get("amount"))
    return Notification(
        provider_txn_id=_text(txn_id),
        provider_payment_id=_text(intent.get("id"), prefix="pi_"),
        status=status,
        amount=_ours(received, currency),
        currency=currency,
        raw=raw,
        merchant_payment_id=_payment_id(intent),
    )


def refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """A Stripe Refund object's status as our refund result (pending while Stripe works on it)."""
    refund_id = _text(refund.get("id"), prefix="re_")
    status = refund.get("status")
    if status == "succeeded":
        return RefundResult(succeeded=True, provider_refund_id=refund_id)
    if status in {"failed", "canceled"}:
        reason = refund.get("failure_reason") or status
        return RefundResult(succeeded=False, provider_refund_id=refund_id, failure_reason=f"stripe: {reason}")
    return RefundResult.pending_refund(refund_id)  # pending, requires_action


def read_event(event: Any) -> Notification | RefundNotification:
    """A verified webhook event → what it tells us (see the module docstring).

    Raises:
        InvalidNotification: not an event, an event type we do not handle, or malformed fields.
    """
    if not isinstance(event, dict) or event.get("object") != "event":
        raise InvalidNotification()
    event_id = _text(event.get("id"), prefix="evt_")
    kind = event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(kind, str) or not isinstance(obj, dict):
        raise InvalidNotification()
    if kind.startswith("payment_intent.") and obj.get("object") == "payment_intent":
        return _intent_notification(event_id, obj, _EVENT_STATUS.get(kind, "pending"), raw=event)
    if kind in _REFUND_EVENTS and obj.get("object") == "refund":
        refund_id = _metadata(obj).get("refund_id")
        if not isinstance(refund_id, str) or not refund_id.isdigit() or len(refund_id) > 18:
            raise InvalidNotification()  # a refund made outside Mercato (e.g. in the Dashboard)
        currency = _currency(obj.get("currency"))
        result = refund_result(obj)
        review = ""
        if not result.succeeded and not result.pending:
            reason = obj.get("failure_reason") or obj.get("status")
            review = f"Stripe could not refund the customer ({reason}): pay it back another way"
        return RefundNotification(
            provider_txn_id=event_id,
            refund_id=int(refund_id),
            result=result,
            amount=_ours(_count(obj.get("amount")), currency),
            currency=currency,
            raw=event,
            merchant_payment_id=_payment_id(obj),
            review_reason=review,
        )
    if kind == "charge.refunded" and obj.get("object") == "charge":
        currency = _currency(obj.get("currency"))
        return Notification(
            provider_txn_id=event_id,
            provider_payment_id=_text(obj.get("payment_intent"), prefix="pi_"),
            status="refunded",  # a notice: our refunds are settled by refund.* events
            amount=_ours(_count(obj.get("amount_refunded")), currency),
            currency=currency,
            raw=event,
            merchant_payment_id=_payment_id(obj),
        )
    raise InvalidNotification()
