"""Admission in front of a flash sale's placement (ADR 0035).

Under a rush, thousands of shoppers press "buy" for a few hundred units. Admission answers the
losers "sold out" before they reach the database; only admitted buyers go on to place an order,
and the database still referees each of those (the quota hold's conditional UPDATE and the
per-customer row), so admission only filters: it can let too many through (they then get a clean
sold-out answer at placement), never sell more than the quota.

Two backends behind one interface:

- ``RedisAdmission`` (production, ``MERCATO_REDIS_URL``): one Lua script per attempt checks the
  customer's units against the limit and takes the units from the item's count atomically, so
  the sold-out answer costs one Redis round trip and no SQL. The count is loaded from the
  database when missing (a Redis restart or eviction) and set back to the database's truth by
  ``sync`` (after an order gives units back, and by the reconcile job every 30 seconds).
- ``DatabaseAdmission`` (embedded mode): the same answers read from the database (the quota
  hold's units and the customer's row); the referee decides anyway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from mercato.core.cache import get_redis
from mercato.social.schemas import AdmissionVerdict

#: The item's units left (admission's copy) and each customer's units taken, with their expiry.
_LEFT = "mercato:flash:{item}:left"
_BUYERS = "mercato:flash:{item}:buyers"

# KEYS: left, buyers. ARGV: customer, quantity, limit, ttl seconds.
# Returns 1 admitted, 0 sold out, -1 over the limit (or sold out to a customer who holds units:
# the database decides), -2 the count is not loaded.
_ADMIT = """
local left = redis.call('GET', KEYS[1])
if not left then return -2 end
local quantity = tonumber(ARGV[2])
local had = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if had + quantity > tonumber(ARGV[3]) then return -1 end
if tonumber(left) < quantity then
  if had > 0 then return -1 end
  return 0
end
redis.call('DECRBY', KEYS[1], quantity)
redis.call('HINCRBY', KEYS[2], ARGV[1], quantity)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return 1
"""

# KEYS: left, buyers. ARGV: customer, quantity. Gives an admission back (placement refused it).
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], tonumber(ARGV[2])) end
local had = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if had > 0 then redis.call('HINCRBY', KEYS[2], ARGV[1], -math.min(had, tonumber(ARGV[2]))) end
return 1
"""

Loader = Callable[[], Awaitable[int]]


class Admission(Protocol):
    async def admit(
        self,
        *,
        item_id: int,
        customer_id: int,
        quantity: int,
        limit: int,
        ttl: int,
        load: Loader,
        bought: Loader,
    ) -> AdmissionVerdict:
        """Admit ``quantity`` units for the customer, or say why not. ``load`` reads the units
        left from the database (the Redis backend calls it when its count is missing), ``bought``
        the customer's units. A customer who holds units is answered ``over_limit`` rather than
        ``sold_out``, so the database decides: a retry of their order returns that order."""
        ...

    async def give_back(self, *, item_id: int, customer_id: int, quantity: int) -> None:
        """Return an admission that did not become an order (placement refused it)."""
        ...

    async def sync(
        self, *, item_id: int, left: int, ttl: int, customer_id: int | None = None, units: int = 0
    ) -> None:
        """Set the item's count to the database's ``left`` (and a customer's units when given)."""
        ...


class RedisAdmission:
    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self._admit = redis.register_script(_ADMIT)
        self._give_back = redis.register_script(_GIVE_BACK)

    async def admit(
        self,
        *,
        item_id: int,
        customer_id: int,
        quantity: int,
        limit: int,
        ttl: int,
        load: Loader,
        bought: Loader,
    ) -> AdmissionVerdict:
        keys = [_LEFT.format(item=item_id), _BUYERS.format(item=item_id)]
        for _attempt in range(2):
            answer = int(await self._admit(keys=keys, args=[customer_id, quantity, limit, ttl]))
            if answer == 1:
                return AdmissionVerdict.admitted
            if answer == 0:
                return AdmissionVerdict.sold_out
            if answer == -1:
                return AdmissionVerdict.over_limit
            await self.redis.set(keys[0], await load(), ex=ttl, nx=True)  # -2: not loaded yet
        return AdmissionVerdict.admitted  # still missing (evicted at once): the referee decides

    async def give_back(self, *, item_id: int, customer_id: int, quantity: int) -> None:
        await self._give_back(
            keys=[_LEFT.format(item=item_id), _BUYERS.format(item=item_id)], args=[customer_id, quantity]
        )

    async def sync(
        self, *, item_id: int, left: int, ttl: int, customer_id: int | None = None, units: int = 0
    ) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(_LEFT.format(item=item_id), max(left, 0), ex=ttl)
            if customer_id is not None:
                pipe.hset(_BUYERS.format(item=item_id), str(customer_id), units)
                pipe.expire(_BUYERS.format(item=item_id), ttl)
            await pipe.execute()


class DatabaseAdmission:
    """Embedded mode: answers from the database (``load``, the units left) each time; the
    customer's limit is checked by the referee in the placement's transaction."""

    async def admit(
        self,
        *,
        item_id: int,
        customer_id: int,
        quantity: int,
        limit: int,
        ttl: int,
        load: Loader,
        bought: Loader,
    ) -> AdmissionVerdict:
        if quantity > limit:
            return AdmissionVerdict.over_limit
        if await load() >= quantity:
            return AdmissionVerdict.admitted
        return AdmissionVerdict.over_limit if await bought() > 0 else AdmissionVerdict.sold_out

    async def give_back(self, *, item_id: int, customer_id: int, quantity: int) -> None:
        return None

    async def sync(
        self, *, item_id: int, left: int, ttl: int, customer_id: int | None = None, units: int = 0
    ) -> None:
        return None


_backends: dict[int, Admission] = {}


def get_admission() -> Admission:
    """Redis admission when Redis is configured, else the database's (one per Redis client)."""
    redis = get_redis()
    if redis is None:
        return DatabaseAdmission()
    backend = _backends.get(id(redis))
    if backend is None:
        _backends.clear()
        backend = _backends[id(redis)] = RedisAdmission(redis)
    return backend
