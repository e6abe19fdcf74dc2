"""A local server that speaks the parts of Stripe's REST API Mercato uses, for provider tests.

What it implements, as https://docs.stripe.com/api documents it:

- ``Authorization: Bearer <secret key>``; anything else is 401 with an ``invalid_request_error``.
- Form-encoded POST bodies with bracketed nesting (``metadata[payment_id]=7``).
- ``Idempotency-Key``: a POST repeated with the same key and the same parameters replays the first
  response (with ``Idempotent-Replayed: true``) and does nothing else; the same key with other
  parameters or on another endpoint is 400 ``idempotency_error``.
- ``POST /v1/payment_intents``, ``GET /v1/payment_intents/{id}``,
  ``POST /v1/payment_intents/{id}/cancel`` (400 ``payment_intent_unexpected_state`` unless the
  intent is in a cancelable status), ``POST /v1/refunds`` (400 ``amount_too_large`` past what is
  left, ``charge_already_refunded`` when nothing is left), ``GET /v1/refunds/{id}``,
  ``GET /v1/refunds?payment_intent=...`` (a list, newest first).
- Errors as ``{"error": {"type", "code", "message", "param"}}``; 404 ``resource_missing``.

What a customer and Stripe itself would do is driven by the test through methods: ``pay``
(the customer confirms: the intent succeeds with a charge), ``decline`` (a card is declined),
``settle_refund`` (a pending refund finishes). Webhook events are built as Stripe sends them
(``event``) and signed as Stripe documents it (``sign``, written here from the documentation,
not with the SDK, so the provider's verification is checked against the documented scheme):

    Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(endpoint secret, "<t>.<raw body>")>
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.providers.local_server import serving

SECRET_KEY = "sk_test_mercato_fake_secret_key"
PUBLISHABLE_KEY = "pk_test_mercato_fake_publishable_key"
WEBHOOK_SECRET = "whsec_mercato_fake_endpoint_secret"
API_VERSION = "2026-10-28.endive"
_CANCELABLE = {
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
}


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` (Stripe's documented scheme)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    signed_payload = f"{stamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed_payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def _error(status: int, kind: str, message: str, *, code: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": kind, "message": message, **extra}
    if code is not None:
        body["code"] = code
        body["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
    return JSONResponse({"error": body}, status_code=status, headers={"Request-Id": _request_id()})


def _request_id() -> str:
    return "req_" + secrets.token_hex(7)


def _form_to_params(items: list[tuple[str, str]]) -> dict[str, Any]:
    """``metadata[payment_id]=7`` → ``{"metadata": {"payment_id": "7"}}`` (one level is all we need)."""
    params: dict[str, Any] = {}
    for key, value in items:
        if "[" in key and key.endswith("]"):
            outer, inner = key[:-1].split("[", 1)
            params.setdefault(outer, {})[inner] = value
        else:
            params[key] = value
    return params


@dataclass
class FakeStripe:
    base_url: str = ""
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every request that passed authentication: (method, path, params, Idempotency-Key).
    requests: list[tuple[str, str, dict[str, Any], str | None]] = field(default_factory=list)
    #: Answer every request with this HTTP status (an outage) while set.
    fail_with: int | None = None
    #: The status new refunds get: "succeeded", or "pending" (finished later by settle_refund).
    refund_status: str = "succeeded"
    _idempotency: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _clock: itertools.count[int] = field(default_factory=lambda: itertools.count(1_790_000_000, 7))

    def _id(self, prefix: str) -> str:
        return f"{prefix}_3Mercato{next(self._ids):016d}"

    # -- the HTTP API ------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
            return _error(401, "invalid_request_error", "Invalid API Key provided: sk_test_****")
        if self.fail_with is not None:
            return _error(self.fail_with, "api_error", "An unknown error occurred")
        if request.method == "POST":
            params = _form_to_params([(k, str(v)) for k, v in (await request.form()).multi_items()])
        else:
            params = _form_to_params(list(request.query_params.multi_items()))
        key = request.headers.get("idempotency-key")
        self.requests.append((request.method, request.url.path, params, key))
        if request.method != "POST" or key is None:
            return self._route(request.method, request.url.path, params)
        fingerprint = json.dumps([request.url.path, params], sort_keys=True)
        if key in self._idempotency:
            seen, status, body = self._idempotency[key]
            if seen != fingerprint:
                return _error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were "
                    f"first used with. Try using a key other than '{key}' if you meant to execute a "
                    "different request.",
                )
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        response = self._route(request.method, request.url.path, params)
        if response.status_code < 500:
            self._idempotency[key] = (fingerprint, response.status_code, json.loads(response.body))
        return response

    def _route(self, method: str, path: str, params: dict[str, Any]) -> JSONResponse:
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["v1", "payment_intents"]:
            return self._create_intent(params)
        if len(parts) >= 3 and parts[:2] == ["v1", "payment_intents"]:
            intent = self.intents.get(parts[2])
            if intent is None:
                return self._missing("payment_intent", parts[2])
            if method == "GET" and len(parts) == 3:
                return self._ok(intent)
            if method == "POST" and parts[3:] == ["cancel"]:
                return self._cancel(intent, params)
        if method == "POST" and parts == ["v1", "refunds"]:
            return self._create_refund(params)
        if method == "GET" and parts == ["v1", "refunds"]:
            return self._list_refunds(params)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "refunds"]:
            refund = self.refunds.get(parts[2])
            return self._ok(refund) if refund is not None else self._missing("refund", parts[2])
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _ok(self, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse(body, headers={"Request-Id": _request_id()})

    def _missing(self, kind: str, ident: str) -> JSONResponse:
        return _error(
            404, "invalid_request_error", f"No such {kind}: '{ident}'", code="resource_missing", param="id"
        )

    def _create_intent(self, params: dict[str, Any]) -> JSONResponse:
        amount, currency = params.get("amount", ""), params.get("currency", "")
        if not amount.isdigit() or int(amount) < 1:
            return _error(400, "invalid_request_error", "Invalid integer", code="parameter_invalid_integer")
        if len(currency) != 3 or currency != currency.lower():
            return _error(400, "invalid_request_error", "Invalid currency", code="parameter_invalid_string")
        intent_id = self._id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(amount),
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": {
                "enabled": params.get("automatic_payment_methods", {}).get("enabled") == "true"
            },
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic",
            "created": next(self._clock),
            "currency": currency,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(params.get("metadata", {})),
            "next_action": None,
            "payment_method": None,
            "payment_method_types": ["card", "alipay", "wechat_pay"],
            "status": "requires_payment_method",
        }
        self.intents[intent_id] = intent
        return self._ok(intent)

    def _cancel(self, intent: dict[str, Any], params: dict[str, Any]) -> JSONResponse:
        if intent["status"] not in _CANCELABLE:
            return _error(
                400,
                "invalid_request_error",
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. "
                "Only a PaymentIntent with one of the following statuses may be canceled: "
                "requires_payment_method, requires_capture, requires_confirmation, requires_action, "
                "processing.",
                code="payment_intent_unexpected_state",
                payment_intent=intent,
            )
        intent.update(
            status="canceled",
            canceled_at=next(self._clock),
            cancellation_reason=params.get("cancellation_reason"),
        )
        return self._ok(intent)

    def _create_refund(self, params: dict[str, Any]) -> JSONResponse:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            return self._missing("payment_intent", params.get("payment_intent", ""))
        charge = self.charges.get(intent["latest_charge"] or "")
        if intent["status"] != "succeeded" or charge is None:
            return _error(
                400,
                "invalid_request_error",
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        left = charge["amount_captured"] - charge["amount_refunded"]
        if left == 0:
            return _error(
                400,
                "invalid_request_error",
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = int(params["amount"]) if "amount" in params else left
        if amount > left:
            return _error(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        refund = {
            "id": self._id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": self._id("txn"),
            "charge": charge["id"],
            "created": next(self._clock),
            "currency": charge["currency"],
            "metadata": dict(params.get("metadata", {})),
            "payment_intent": intent["id"],
            "reason": params.get("reason"),
            "receipt_number": None,
            "status": self.refund_status,
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
        return self._ok(refund)

    def _list_refunds(self, params: dict[str, Any]) -> JSONResponse:
        """Newest first, as Stripe lists them, filtered by ``payment_intent``."""
        found = [r for r in self.refunds.values() if r["payment_intent"] == params.get("payment_intent")]
        limit = int(params.get("limit", "10"))
        data = sorted(found, key=lambda r: r["created"], reverse=True)[:limit]
        return self._ok(
            {"object": "list", "data": data, "has_more": len(found) > limit, "url": "/v1/refunds"}
        )

    # -- what the customer and Stripe do (driven by the test) --------------------------------

    def pay(
        self, intent_id: str, *, amount: int | None = None, currency: str | None = None
    ) -> dict[str, Any]:
        """The customer confirms the payment: the intent succeeds with one charge."""
        intent = self.intents[intent_id]
        received = intent["amount"] if amount is None else amount
        charge = {
            "id": self._id("ch"),
            "object": "charge",
            "amount": received,
            "amount_captured": received,
            "amount_refunded": 0,
            "captured": True,
            "created": next(self._clock),
            "currency": currency or intent["currency"],
            "metadata": {},  # a PaymentIntent's metadata is not copied to its charges
            "paid": True,
            "payment_intent": intent_id,
            "refunded": False,
            "status": "succeeded",
        }
        self.charges[charge["id"]] = charge
        intent.update(
            status="succeeded",
            amount_received=received,
            currency=currency or intent["currency"],
            latest_charge=charge["id"],
        )
        return intent

    def decline(self, intent_id: str) -> dict[str, Any]:
        """A card is declined: the intent goes back to waiting for a payment method."""
        intent = self.intents[intent_id]
        intent.update(
            status="requires_payment_method",
            last_payment_error={
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            },
        )
        return intent

    def settle_refund(self, refund_id: str, status: str = "succeeded") -> dict[str, Any]:
        """A pending refund finishes (``succeeded`` or ``failed``)."""
        refund = self.refunds[refund_id]
        refund["status"] = status
        if status == "failed":
            refund["failure_reason"] = "expired_or_canceled_card"
            charge = self.charges[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
        return refund

    def event(self, kind: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """A webhook event as Stripe posts it (a snapshot of ``obj``)."""
        return {
            "id": event_id or self._id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": next(self._clock),
            "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": _request_id(), "idempotency_key": None},
            "type": kind,
        }


@asynccontextmanager
async def running_fake_stripe() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    paths = ["/v1/{rest:path}"]
    app = Starlette(routes=[Route(path, fake.dispatch, methods=["GET", "POST"]) for path in paths])
    async with serving(app) as base_url:
        fake.base_url = base_url
        yield fake
