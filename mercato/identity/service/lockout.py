"""Password sign-in lockout, shared by customers and staff.

Failures are counted in the rate limiter (Redis in production) under three keys:

- per (account, IP address): 5 in 15 minutes, or 20 in a day, lock the account *from that
  address*. A lock from one address never refuses the right password from another, so nobody
  can lock a member (a superuser included) out by guessing from elsewhere;
- per IP address, whatever the account: 30 in 15 minutes block the address.

There is deliberately no ceiling per account whatever the address: any such ceiling is a lock
that a stranger with enough addresses can close on a real member (the finding this module fixes,
only with a larger number). A guesser spread over many addresses is slowed by the per-pair and
per-address limits and by argon2id's cost; spotting such a spread is the risk engine's job.

Unknown accounts are counted exactly like known ones, so the answers never tell them apart.
An account key may carry an epoch (staff: ``identity_staff.lockout_epoch``); raising the epoch
(``unlock_staff``) starts every counter of that account afresh, in every process and with either
limiter backend, because the old counters are simply no longer asked about.
"""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.cache import Limit, get_rate_limiter
from mercato.identity.errors import AccountLocked, IpBlocked


@dataclass(frozen=True)
class LockoutRules:
    """The limits of one kind of sign-in (their names keep customers and staff apart)."""

    per_pair: tuple[Limit, ...]
    per_ip: Limit


def _rules(prefix: str) -> LockoutRules:
    return LockoutRules(
        per_pair=(Limit(f"{prefix}.pair_15m", "5/15minutes"), Limit(f"{prefix}.pair_day", "20/day")),
        per_ip=Limit(f"{prefix}.ip_15m", "30/15minutes"),
    )


CUSTOMER_SIGN_IN = _rules("identity.login")
STAFF_SIGN_IN = _rules("identity.staff_login")


def _pair(account: str, ip: str | None) -> str:
    return f"{account}|{ip or '-'}"


async def guard_sign_in(rules: LockoutRules, account: str, ip: str | None) -> None:
    """Refuse before the password is even checked when one of the counters is full.

    Raises:
        AccountLocked: too many failures for the account from this address.
        IpBlocked: too many failures from this address, whatever the account.
    """
    limiter = get_rate_limiter()
    for limit in rules.per_pair:
        await limiter.check(limit, _pair(account, ip), error=AccountLocked)
    if ip:
        await limiter.check(rules.per_ip, ip, error=IpBlocked)


async def count_sign_in_failure(rules: LockoutRules, account: str, ip: str | None) -> None:
    """Count one failed sign-in under every key."""
    limiter = get_rate_limiter()
    for limit in rules.per_pair:
        await limiter.count(limit, _pair(account, ip))
    if ip:
        await limiter.count(rules.per_ip, ip)
