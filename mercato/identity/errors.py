"""Identity errors and their stable codes.

Codes: identity.invalid_credentials, identity.account_locked, identity.ip_blocked,
identity.code_invalid, identity.code_expired, identity.code_attempts_exceeded,
identity.code_rate_limited, identity.phone_invalid, identity.email_invalid,
identity.identifier_required, identity.account_exists, identity.weak_password,
identity.consent_required, identity.address_limit_reached, identity.address_not_found,
identity.session_invalid, identity.csrf_failed, identity.permission_denied,
identity.staff_not_found, identity.staff_email_taken, identity.role_not_found,
identity.role_name_taken, identity.unknown_permission, identity.self_lockout,
identity.account_deleted, identity.customer_not_found, identity.code_purpose_unsupported,
identity.one_identifier_only, identity.registration_rate_limited,
identity.password_attempts_exceeded, identity.cannot_manage_staff,
identity.wechat_not_configured, identity.wechat_state_invalid, identity.wechat_denied,
identity.wechat_refused, identity.wechat_unavailable, identity.wechat_already_linked,
identity.wechat_link_exists, identity.wechat_account_not_found, identity.region_invalid,
identity.tag_invalid, identity.tag_limit_reached.
"""

from __future__ import annotations

from typing import ClassVar

from mercato.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)


class InvalidCredentials(Unauthenticated):
    """Unknown account and wrong password get this same answer."""

    code = "identity.invalid_credentials"
    message = "The account or password is incorrect."


class AccountLocked(RateLimited):
    code = "identity.account_locked"
    message = "Too many failed sign-in attempts. Try again in {seconds} seconds."


class IpBlocked(RateLimited):
    code = "identity.ip_blocked"
    message = "Too many failed attempts from your network. Try again in {seconds} seconds."


class CodeInvalid(InvalidInput):
    """A wrong code: the attempt is counted, so the failure is committed."""

    persist_changes: ClassVar[bool] = True
    code = "identity.code_invalid"
    message = "The verification code is incorrect."


class CodeExpired(InvalidInput):
    code = "identity.code_expired"
    message = "The verification code has expired or was not requested. Request a new one."


class CodeAttemptsExceeded(InvalidInput):
    persist_changes: ClassVar[bool] = True
    code = "identity.code_attempts_exceeded"
    message = "Too many wrong codes. Request a new one."


class CodeRateLimited(RateLimited):
    code = "identity.code_rate_limited"
    message = "Codes are sent at most once a minute and five times an hour. Try again in {seconds} seconds."


class PhoneInvalid(InvalidInput):
    code = "identity.phone_invalid"
    message = "The mobile number is not valid."


class EmailInvalid(InvalidInput):
    code = "identity.email_invalid"
    message = "The email address is not valid."


class IdentifierRequired(InvalidInput):
    code = "identity.identifier_required"
    message = "Give a mobile number or an email address."


class AccountExists(Conflict):
    code = "identity.account_exists"
    message = "An account with this mobile number or email already exists."


class WeakPassword(InvalidInput):
    code = "identity.weak_password"
    message = "Use 8 to 128 characters with letters and digits, not a common password."


class ConsentRequired(InvalidInput):
    code = "identity.consent_required"
    message = "Accept the privacy policy to create an account."


class AddressLimitReached(Conflict):
    code = "identity.address_limit_reached"
    message = "You can keep at most {limit} addresses."


class RegionInvalid(InvalidInput):
    """The province, city and district do not fit together (the field error names which)."""

    code = "identity.region_invalid"
    message = "Choose the province, city and district from the lists."


class AddressNotFound(NotFound):
    code = "identity.address_not_found"
    message = "Address not found."


class SessionInvalid(Unauthenticated):
    code = "identity.session_invalid"
    message = "Your session has ended. Sign in again."


class CsrfFailed(PermissionDenied):
    code = "identity.csrf_failed"
    message = "The form has expired or did not come from this site. Reload the page and try again."


class MissingPermission(PermissionDenied):
    code = "identity.permission_denied"
    message = "You need the {permission} permission."


class StaffNotFound(NotFound):
    code = "identity.staff_not_found"
    message = "Staff member not found."


class StaffEmailTaken(Conflict):
    code = "identity.staff_email_taken"
    message = "A staff member with this email already exists."


class RoleNotFound(NotFound):
    code = "identity.role_not_found"
    message = "Role not found."


class RoleNameTaken(Conflict):
    code = "identity.role_name_taken"
    message = "A role with this name already exists."


class UnknownPermission(InvalidInput):
    code = "identity.unknown_permission"
    message = "Unknown permission: {permission}."


class SelfLockout(Conflict):
    code = "identity.self_lockout"
    message = "You cannot remove your own superuser status or deactivate yourself."


class SuperuserRequired(PermissionDenied):
    code = "identity.superuser_required"
    message = "Only a superuser can do this."


class CannotGrant(PermissionDenied):
    code = "identity.cannot_grant"
    message = "You cannot grant a permission you do not hold: {permission}."


class CustomerNotFound(NotFound):
    code = "identity.customer_not_found"
    message = "Customer not found."


class CodePurposeUnsupported(InvalidInput):
    """Email codes serve registration and password resets only."""

    code = "identity.code_purpose_unsupported"
    message = "Codes for this purpose are only sent by SMS."


class OneIdentifierOnly(InvalidInput):
    """A registration proves one address with one code, so it names exactly one."""

    code = "identity.one_identifier_only"
    message = "Register with a mobile number or an email address, not both."


class RegistrationRateLimited(RateLimited):
    code = "identity.registration_rate_limited"
    message = "Too many sign-up attempts. Try again in {seconds} seconds."


class PasswordAttemptsExceeded(RateLimited):
    """Too many wrong current passwords (password change, account deletion): even the right one
    is refused until the window has passed."""

    code = "identity.password_attempts_exceeded"
    message = "Too many wrong passwords. Try again in {seconds} seconds."


class CannotManageStaff(PermissionDenied):
    """Staff management acts only on members whose permissions the manager holds all of."""

    code = "identity.cannot_manage_staff"
    message = "You cannot change a staff member who holds permissions you do not hold."


class TagInvalid(InvalidInput):
    """A customer tag that is blank or too long once normalised."""

    code = "identity.tag_invalid"
    message = "A tag is 1 to {max_length} characters long."


class TagLimitReached(Conflict):
    code = "identity.tag_limit_reached"
    message = "A customer can carry at most {limit} tags."


class WeChatNotConfigured(NotFound):
    """No WeChat app for this browser (none configured, or only the official account outside WeChat)."""

    code = "identity.wechat_not_configured"
    message = "Signing in with WeChat is not available here."


class WeChatStateInvalid(InvalidInput):
    """The ``state`` of a WeChat callback is not this browser's, was used, or has expired; or the
    ticket of a pending link is gone."""

    code = "identity.wechat_state_invalid"
    message = "This WeChat sign-in has expired or was already used. Start again."


class WeChatDenied(InvalidInput):
    code = "identity.wechat_denied"
    message = "WeChat sign-in was not allowed. Start again, or sign in another way."


class WeChatRefused(InvalidInput):
    """WeChat refused the authorisation code (40029 invalid, 40163 already used, 42003 expired …)."""

    code = "identity.wechat_refused"
    message = "WeChat did not confirm the sign-in (error {errcode}). Start again."


class WeChatUnavailable(Unavailable):
    code = "identity.wechat_unavailable"
    message = "WeChat is not answering. Try again shortly."


class WeChatAlreadyLinked(Conflict):
    code = "identity.wechat_already_linked"
    message = "This WeChat account is linked to another account."


class WeChatLinkExists(Conflict):
    code = "identity.wechat_link_exists"
    message = "Your account is already linked to another WeChat account. Unlink it first."


class WeChatAccountNotFound(NotFound):
    code = "identity.wechat_account_not_found"
    message = "WeChat account not found."
