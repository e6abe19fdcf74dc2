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
