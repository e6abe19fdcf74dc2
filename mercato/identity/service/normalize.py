"""Normalise and validate mobile numbers (phonenumbers, +86 by default) and email addresses."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumberType

from mercato.core.errors import FieldError
from mercato.core.settings import get_settings
from mercato.identity.errors import EmailInvalid, PhoneInvalid

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """Return the mobile number in E.164 (``+8613812345678``).

    Raises:
        PhoneInvalid: not a valid mobile number for its region.
    """
    try:
        number = phonenumbers.parse(raw, get_settings().default_region)
    except NumberParseException as exc:
        raise PhoneInvalid(
            fields=[FieldError(("body", field), "identity.phone_invalid", PhoneInvalid.message)]
        ) from exc
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise PhoneInvalid(
            fields=[FieldError(("body", field), "identity.phone_invalid", PhoneInvalid.message)]
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_phone(e164: str) -> str:
    """A stored number as a shopper writes it at home (``13812345678`` for +86 in China); a
    number from another country, or one that does not parse, stays as stored."""
    try:
        number = phonenumbers.parse(e164, get_settings().default_region)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) != get_settings().default_region:
        return e164
    return str(number.national_number)


def normalize_email(raw: str, *, field: str = "email") -> str:
    """Return the email address normalised and lower-cased.

    Raises:
        EmailInvalid: not a syntactically valid address.
    """
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise EmailInvalid(
            fields=[FieldError(("body", field), "identity.email_invalid", EmailInvalid.message)]
        ) from exc
    return result.normalized.lower()


def normalize_identifier(raw: str) -> str:
    """An identifier with ``@`` is an email, otherwise a mobile number."""
    return (
        normalize_email(raw, field="identifier") if "@" in raw else normalize_phone(raw, field="identifier")
    )
