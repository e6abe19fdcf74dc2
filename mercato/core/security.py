"""Security helpers: argon2id password hashing, opaque tokens stored as hashes, signing, masking."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's argon2id recommendation (m=19 MiB, t=2, p=1) is the floor; we use argon2-cffi's
# RFC 9106 low-memory profile defaults (m=64 MiB, t=3, p=4).
_hasher = PasswordHasher()
# Verified against when the account does not exist, so both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Hash with argon2id (salted, parameters embedded in the hash)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash, spend the same time and return False."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(prefix: str = "") -> str:
    """Return a new opaque secret token (256 bits of randomness)."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 digests: a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def new_numeric_code(digits: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def mask_phone(phone: str | None) -> str | None:
    """+8613812345678 → +86138****5678."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return phone[:2] + "*" * (len(phone) - 2)
    return phone[:-8] + "****" + phone[-4:]


def mask_email(email: str | None) -> str | None:
    """alice@example.com → a***@example.com."""
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_text(text: str | None, keep: int = 1) -> str | None:
    """张三丰 → 张**; a street address → its first characters then stars."""
    if not text:
        return text
    return text[:keep] + "*" * max(len(text) - keep, 2)


# A mainland mobile number (11 digits, 1[3-9]…, optionally +86/0086/86 and spaces or dashes
# between the 3-4-4 groups) standing alone: never a digit run inside a longer token such as a
# request id, trace id, hash or UUID (letters, digits, "_", "-" or "." on either side).
_PHONE_RE = re.compile(
    r"(?<![A-Za-z0-9_.\-+])"
    r"(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}"
    r"(?![A-Za-z0-9_]|[.\-][A-Za-z0-9])"
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def mask_free_text(text: str) -> str:
    """Mask phone numbers and emails found anywhere in a string (log lines, errors)."""
    text = _EMAIL_RE.sub(lambda m: mask_email(m.group(0)) or "", text)
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0).replace(" ", "").replace("-", "")) or "", text)
