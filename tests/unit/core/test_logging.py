"""Logs mask personal data and never carry secrets."""

from __future__ import annotations

from mercato.core.logging import mask_pii


def test_masks_pii_and_redacts_secrets() -> None:
    event = mask_pii(
        None,
        "info",
        {
            "event": "sms.console",
            "phone": "+8613812345678",
            "email": "alice@example.com",
            "password": "hunter2-secret",
            "authorization": "Bearer mct_abc",
            "note": "call +8613912345678 or bob@example.com",
        },
    )

    assert event == {
        "event": "sms.console",
        "phone": "+86138****5678",
        "email": "a***@example.com",
        "password": "[redacted]",
        "authorization": "[redacted]",
        "note": "call +86139****5678 or b***@example.com",
    }


def test_identifiers_and_long_digit_runs_are_not_masked() -> None:
    request_id = "a1b2c3d4e5f6-3013181301"
    event = mask_pii(
        None,
        "info",
        {
            "event": "http.request",
            "request_id": "13012343181",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "order_id": "20261207130123456789",
            "note": (
                f"req {request_id} uuid 550e8400-e29b-41d4-a716-446655440000 "
                "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 "
                "ref 201301234567890 tok abc13812345678 order 13812345678901"
            ),
        },
    )

    assert event["request_id"] == "13012343181"
    assert event["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert event["order_id"] == "20261207130123456789"
    assert "****" not in event["note"]
    assert request_id in event["note"]


def test_standalone_mainland_mobile_numbers_are_still_masked() -> None:
    event = mask_pii(
        None,
        "info",
        {
            "event": "x",
            "note": "电话13812345678，或 138 1234 5678, +86 139-1234-5678. 8613712345678",
        },
    )

    assert event["note"] == "电话138****5678，或 138****5678, +86139****5678. 86137****5678"
