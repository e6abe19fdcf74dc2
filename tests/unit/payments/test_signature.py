"""The sandbox notification signature: HMAC-SHA256 over timestamp, nonce and the raw body, within
a five-minute window."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato.core import clock
from mercato.payments.errors import InvalidNotification, InvalidSignature
from mercato.payments.providers.sandbox import SandboxProvider, signature, signed_headers, verify_signature

SECRET = "unit-secret"
BODY = json.dumps(
    {
        "id": "sbx_1:paid",
        "trade_id": "sbx_1",
        "out_trade_no": "7",
        "status": "paid",
        "amount": 100,
        "currency": "CNY",
    }
).encode()


def test_the_signature_is_an_hmac_of_timestamp_nonce_and_body() -> None:
    expected = hmac.new(b"k", b"1700000000\nabcdefabcdefabcd\n{}\n", hashlib.sha256).hexdigest()

    assert signature("k", "1700000000", "abcdefabcdefabcd", b"{}") == expected


def test_signed_headers_verify() -> None:
    headers = signed_headers(BODY, secret=SECRET)

    verify_signature(headers, BODY, secret=SECRET)
    assert set(headers) == {"content-type", "Sandbox-Timestamp", "Sandbox-Nonce", "Sandbox-Signature"}


def test_header_names_are_case_insensitive() -> None:
    headers = {key.upper(): value for key, value in signed_headers(BODY, secret=SECRET).items()}

    verify_signature(headers, BODY, secret=SECRET)


@pytest.mark.parametrize(
    ("_case", "change"),
    [
        ("body", lambda h, b: (h, b.replace(b"100", b"101"))),
        ("trailing_space", lambda h, b: (h, b + b" ")),
        ("timestamp", lambda h, b: ({**h, "Sandbox-Timestamp": str(int(h["Sandbox-Timestamp"]) + 1)}, b)),
        ("nonce", lambda h, b: ({**h, "Sandbox-Nonce": "0" * 32}, b)),
        ("signature", lambda h, b: ({**h, "Sandbox-Signature": "0" * 64}, b)),
        ("no_signature", lambda h, b: ({k: v for k, v in h.items() if k != "Sandbox-Signature"}, b)),
        ("no_timestamp", lambda h, b: ({k: v for k, v in h.items() if k != "Sandbox-Timestamp"}, b)),
        ("negative_timestamp", lambda h, b: ({**h, "Sandbox-Timestamp": "-5"}, b)),
        ("nonce_with_symbols", lambda h, b: ({**h, "Sandbox-Nonce": "abc/def+ghijklmnop"}, b)),
    ],
)
def test_any_change_breaks_the_signature(_case: str, change: object) -> None:
    headers, body = change(signed_headers(BODY, secret=SECRET), BODY)  # type: ignore[operator]

    with pytest.raises(InvalidSignature):
        verify_signature(headers, body, secret=SECRET)


def test_another_secret_breaks_the_signature() -> None:
    with pytest.raises(InvalidSignature):
        verify_signature(signed_headers(BODY, secret="other"), BODY, secret=SECRET)


@pytest.mark.parametrize(
    ("_case", "age", "accepted"),
    [("fresh", 0, True), ("edge", 299, True), ("stale", 301, False), ("future", -301, False)],
)
def test_timestamps_outside_five_minutes_are_refused(_case: str, age: int, accepted: bool) -> None:
    now = int(clock.now().timestamp())
    headers = signed_headers(BODY, secret=SECRET, timestamp=now - age)

    if accepted:
        verify_signature(headers, BODY, secret=SECRET)
    else:
        with pytest.raises(InvalidSignature):
            verify_signature(headers, BODY, secret=SECRET)


def test_the_window_follows_the_clock() -> None:
    headers = signed_headers(BODY, secret=SECRET)
    clock.advance(dt.timedelta(minutes=5, seconds=2))
    try:
        with pytest.raises(InvalidSignature):
            verify_signature(headers, BODY, secret=SECRET)
    finally:
        clock.reset()


@given(st.binary(max_size=500))
def test_parsing_arbitrary_signed_bytes_never_crashes(body: bytes) -> None:
    provider = SandboxProvider(secret=SECRET)
    try:
        notification = provider.parse_notification(signed_headers(body, secret=SECRET), body)
    except InvalidNotification:
        return
    assert notification.status in {"paid", "pending", "failed", "closed"}


def test_a_valid_notification_is_read() -> None:
    provider = SandboxProvider(secret=SECRET)

    notification = provider.parse_notification(signed_headers(BODY, secret=SECRET), BODY)

    assert (notification.provider_txn_id, notification.provider_payment_id, notification.status) == (
        "sbx_1:paid",
        "sbx_1",
        "paid",
    )
    assert (notification.amount, notification.currency, notification.merchant_payment_id) == (100, "CNY", "7")


@pytest.mark.parametrize("out_trade_no", [None, 7, "", "abc", "1" * 20])
def test_a_notification_without_our_payment_id_is_refused(out_trade_no: object) -> None:
    payload = json.loads(BODY)
    payload["out_trade_no"] = out_trade_no
    body = json.dumps(payload).encode()

    with pytest.raises(InvalidNotification):
        SandboxProvider(secret=SECRET).parse_notification(signed_headers(body, secret=SECRET), body)
