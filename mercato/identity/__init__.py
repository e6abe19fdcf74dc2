"""Identity: customers, staff, roles and permissions, sessions and tokens, addresses, consent,
and the audit log of staff writes.

Public API (service functions take an ``AsyncSession`` first, keyword arguments after, and return
schemas):

- customers: ``register_customer``, ``authenticate_with_password``, ``authenticate_with_code``,
  ``get_customer``, ``update_profile``, ``change_password``, ``reset_password``
- codes: ``send_code`` (SMS, after commit), ``verify_code``
- tokens: ``issue_token``, ``resolve_token``, ``touch_token``, ``revoke_token``,
  ``revoke_all_tokens``, ``list_live_tokens``
- addresses: ``list_addresses``, ``get_address``, ``add_address``, ``update_address``,
  ``delete_address``
- privacy: ``list_consents``, ``export_customer_data``, ``delete_customer``
- staff: ``authenticate_staff``, ``get_staff``, ``create_staff``, ``require_permission``,
  ``record_audit`` and the role/staff/audit management functions
- ``PERMISSIONS``: the permission catalogue

Events emitted: ``CustomerRegistered``, ``CustomerDeleted``. Events consumed: none.
Depends on: core only. Glossary: CONTEXT.md (账号, 验证码, 收货地址, 权限, 审计日志).
"""

from mercato.identity.errors import (
    AccountExists,
    AccountLocked,
    AddressLimitReached,
    AddressNotFound,
    CodeAttemptsExceeded,
    CodeExpired,
    CodeInvalid,
    CodeRateLimited,
    ConsentRequired,
    CsrfFailed,
    EmailInvalid,
    InvalidCredentials,
    IpBlocked,
    MissingPermission,
    PhoneInvalid,
    RoleNameTaken,
    RoleNotFound,
    SelfLockout,
    SessionInvalid,
    StaffEmailTaken,
    StaffNotFound,
    UnknownPermission,
    WeakPassword,
)
from mercato.identity.events import CustomerDeleted, CustomerRegistered
from mercato.identity.permissions import PERMISSIONS
from mercato.identity.providers.base import SmsDeliveryFailed, SmsSender
from mercato.identity.providers.console import ConsoleSms
from mercato.identity.providers.registry import get_sms_sender, set_sms_sender
from mercato.identity.providers.twilio import TwilioSms
from mercato.identity.schemas import (
    Actor,
    AddressRead,
    AddressWrite,
    ChangePassword,
    CodeLogin,
    CodePurpose,
    ConsentRead,
    CustomerExport,
    CustomerRead,
    CustomerStatus,
    DeleteAccount,
    IssuedToken,
    PasswordLogin,
    RegisterCustomer,
    RequestMeta,
    ResetPassword,
    SendCode,
    SignedIn,
    StaffLogin,
    StaffRead,
    StaffSignedIn,
    TokenRead,
    UpdateProfile,
)
from mercato.identity.service.addresses import (
    MAX_ADDRESSES,
    add_address,
    delete_address,
    get_address,
    list_addresses,
    update_address,
)
from mercato.identity.service.codes import send_code, verify_code
from mercato.identity.service.customers import (
    authenticate_with_code,
    authenticate_with_password,
    change_password,
    create_customer,
    get_customer,
    register_customer,
    reset_password,
    update_profile,
)
from mercato.identity.service.normalize import normalize_email, normalize_phone
from mercato.identity.service.privacy import delete_customer, export_customer_data, list_consents
from mercato.identity.service.staff import (
    authenticate_staff,
    create_staff,
    get_staff,
    record_audit,
    require_permission,
)
from mercato.identity.service.tokens import (
    ResolvedToken,
    issue_token,
    list_live_tokens,
    resolve_token,
    revoke_all_tokens,
    revoke_token,
    touch_token,
)

__all__ = [
    "MAX_ADDRESSES",
    "PERMISSIONS",
    "AccountExists",
    "AccountLocked",
    "Actor",
    "AddressLimitReached",
    "AddressNotFound",
    "AddressRead",
    "AddressWrite",
    "ChangePassword",
    "CodeAttemptsExceeded",
    "CodeExpired",
    "CodeInvalid",
    "CodeLogin",
    "CodePurpose",
    "CodeRateLimited",
    "ConsentRead",
    "ConsentRequired",
    "ConsoleSms",
    "CsrfFailed",
    "CustomerDeleted",
    "CustomerExport",
    "CustomerRead",
    "CustomerRegistered",
    "CustomerStatus",
    "DeleteAccount",
    "EmailInvalid",
    "InvalidCredentials",
    "IpBlocked",
    "IssuedToken",
    "MissingPermission",
    "PasswordLogin",
    "PhoneInvalid",
    "RegisterCustomer",
    "RequestMeta",
    "ResetPassword",
    "ResolvedToken",
    "RoleNameTaken",
    "RoleNotFound",
    "SelfLockout",
    "SendCode",
    "SessionInvalid",
    "SignedIn",
    "SmsDeliveryFailed",
    "SmsSender",
    "StaffEmailTaken",
    "StaffLogin",
    "StaffNotFound",
    "StaffRead",
    "StaffSignedIn",
    "TokenRead",
    "TwilioSms",
    "UnknownPermission",
    "UpdateProfile",
    "WeakPassword",
    "add_address",
    "authenticate_staff",
    "authenticate_with_code",
    "authenticate_with_password",
    "change_password",
    "create_customer",
    "create_staff",
    "delete_address",
    "delete_customer",
    "export_customer_data",
    "get_address",
    "get_customer",
    "get_sms_sender",
    "get_staff",
    "issue_token",
    "list_addresses",
    "list_consents",
    "list_live_tokens",
    "normalize_email",
    "normalize_phone",
    "record_audit",
    "register_customer",
    "require_permission",
    "reset_password",
    "resolve_token",
    "revoke_all_tokens",
    "revoke_token",
    "send_code",
    "set_sms_sender",
    "touch_token",
    "update_address",
    "update_profile",
    "verify_code",
]
