"""Chooses the SMS provider named by MERCATO_SMS_PROVIDER (one instance per process)."""

from __future__ import annotations

from mercato.core.settings import get_settings
from mercato.identity.providers.aliyun import AliyunSms
from mercato.identity.providers.base import SmsSender
from mercato.identity.providers.console import ConsoleSms
from mercato.identity.providers.twilio import TwilioSms

_sender: SmsSender | None = None


def get_sms_sender() -> SmsSender:
    global _sender
    if _sender is None:
        settings = get_settings()
        if settings.sms_provider == "twilio":
            _sender = TwilioSms(
                account_sid=settings.sms_twilio_account_sid,
                auth_token=settings.sms_twilio_auth_token.get_secret_value(),
                from_number=settings.sms_twilio_from,
                base_url=settings.sms_twilio_base_url,
            )
        elif settings.sms_provider == "aliyun":
            _sender = AliyunSms(
                access_key_id=settings.sms_aliyun_access_key_id,
                access_key_secret=settings.sms_aliyun_access_key_secret.get_secret_value(),
                sign_name=settings.sms_aliyun_sign_name,
                template_code=settings.sms_aliyun_template_code,
                endpoint=settings.sms_aliyun_endpoint,
            )
        else:
            _sender = ConsoleSms()
    return _sender


def set_sms_sender(sender: SmsSender | None) -> None:
    """Replace the process's provider (tests, and settings reloads)."""
    global _sender
    _sender = sender
