"""Domain errors with stable machine codes, rendered as RFC 9457 problem+json by the web layer.

Hierarchy::

    DomainError                 400  code "<domain>.<reason>"
    ├── InvalidInput            422  a value breaks a business rule; may carry field errors
    ├── NotFound                404  the object does not exist or is not the caller's
    ├── Conflict                409  the state of the object forbids the action
    │   └── IllegalTransition   409  a state machine refused the move
    ├── Unauthenticated         401  no or bad credentials
    ├── PermissionDenied        403  authenticated but not allowed
    ├── RateLimited             429  too many attempts; ``retry_after`` seconds
    └── Unavailable             503  an outside provider (SMS, payment, carrier) failed

``message`` is an English msgid translated at render time into the request's language; named
``params`` are formatted into it. Codes are part of the API contract: never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class ErrorKind(StrEnum):
    """What sort of failure an error is; the web layer maps it to an HTTP status."""

    bad_request = "bad_request"  # 400
    invalid = "invalid"  # 422
    unauthenticated = "unauthenticated"  # 401
    forbidden = "forbidden"  # 403
    not_found = "not_found"  # 404
    conflict = "conflict"  # 409
    rate_limited = "rate_limited"  # 429
    unavailable = "unavailable"  # 503: a provider we depend on failed


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; ``loc`` is the path to it (``["body", "phone"]``)."""

    loc: tuple[str | int, ...]
    code: str
    message: str


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    kind: ClassVar[ErrorKind] = ErrorKind.bad_request
    code: str = "core.bad_request"
    message: str = "The request cannot be processed."
    #: When True, the unit of work commits the changes made before the error was raised
    #: (a failed attempt that must be counted, e.g. a wrong verification code), then re-raises.
    persist_changes: ClassVar[bool] = False

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: list[FieldError] | None = None,
        retry_after: int | None = None,
        **params: object,
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or []
        self.retry_after = retry_after
        self.params = params
        super().__init__(f"{self.code}: {self.message}")


class InvalidInput(DomainError):
    kind = ErrorKind.invalid
    code = "core.invalid_input"
    message = "The input is not valid."


class NotFound(DomainError):
    kind = ErrorKind.not_found
    code = "core.not_found"
    message = "Not found."


class Conflict(DomainError):
    kind = ErrorKind.conflict
    code = "core.conflict"
    message = "The request conflicts with the current state."


class IllegalTransition(Conflict):
    code = "core.illegal_transition"
    message = "Cannot change status from {current} to {target}."


class Unauthenticated(DomainError):
    kind = ErrorKind.unauthenticated
    code = "core.unauthenticated"
    message = "Sign in to continue."


class PermissionDenied(DomainError):
    kind = ErrorKind.forbidden
    code = "core.permission_denied"
    message = "You do not have permission to do this."


class RateLimited(DomainError):
    kind = ErrorKind.rate_limited
    code = "core.rate_limited"
    message = "Too many attempts. Try again in {seconds} seconds."


class Unavailable(DomainError):
    kind = ErrorKind.unavailable
    code = "core.unavailable"
    message = "A service we depend on is not answering. Try again shortly."
