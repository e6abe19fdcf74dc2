"""Bargaining (砍价) cut schedules: how much each friend's help takes off the price.

A bargain asks the sharer to collect ``helps`` helps; together they cut the price from the
original down to the floor. The schedule is honest by construction:

- **Truthful progress.** The cuts are positive and sum exactly to ``original − floor``, so the
  floor is reached exactly at the last required help. There is no endless "only ¥0.01 left"
  tail (the bait that complaints about bargaining plays name): the progress bar never lies.
- **Fixed when the bargain starts.** The schedule is a pure function of the amount, the number
  of helps and a seed (the bargain's id, say). It is computed once and stored with the bargain,
  so a help just takes the next entry; a later change to this module never alters a running
  bargain, and the shop can show exactly what is left.
- **Front-loaded but bounded.** Like the big apps, the first help cuts a large share, which
  makes sharing feel worthwhile, and later cuts trend smaller and vary. The guarantees:

  - the first cut is 20–40 % of the total (rounded up), raised for few helps to about 1.5 fair
    shares, and never more than half the total (``total // 2``) when ``helps > 1``;
  - no later cut is more than ``LATER_CUT_FACTOR`` (3) fair shares, rounded up:
    ``ceil(3 × total / helps)``;
  - with 3 or more helps no later cut is larger than the first (with 2 helps the second takes
    the other half, which is 1 fen larger when the total is odd).

Money is integer minor units (fen). Randomness comes from ``random.Random`` seeded by the first
eight bytes of SHA-256 of the seed, never the global generator, so the same seed always gives
the same schedule, and only integer arithmetic is used.
"""

from __future__ import annotations

import hashlib
import random

from mercato.core.money import allocate

MAX_TOTAL_AMOUNT = 10**10
"""The largest amount a schedule may cut (¥100,000,000.00): larger is a unit mistake."""
FIRST_SHARE_PERMILLE = (200, 400)
"""The range the first cut's share of the total is drawn from, in per mille."""
FIRST_CAP_PERMILLE = 500
"""The first cut never exceeds half the total when more than one help is needed."""
LATER_CUT_FACTOR = 3
"""Every cut after the first is at most this many fair shares (``total / helps``, rounded up)."""
JITTER_PERCENT = (70, 130)
"""Each later cut's weight is its place in the downward trend times a factor in this range."""

__all__ = [
    "FIRST_CAP_PERMILLE",
    "FIRST_SHARE_PERMILLE",
    "LATER_CUT_FACTOR",
    "MAX_TOTAL_AMOUNT",
    "cut_schedule",
    "helps_for",
]


def cut_schedule(*, total_amount: int, helps: int, seed: str) -> list[int]:
    """Return the ``helps`` cuts, in order, that take ``total_amount`` fen off the price.

    The cuts are positive and sum exactly to ``total_amount``; the first is a large share
    (see the module docstring for the bounds) and the rest trend downwards with variation.

    Raises:
        ValueError: ``helps`` is below 1, ``total_amount`` is below ``helps`` (every help must
            cut at least 1 fen) or ``total_amount`` is above ``MAX_TOTAL_AMOUNT``.
    """
    if helps < 1:
        raise ValueError(f"a bargain needs at least 1 help, got {helps}")
    if total_amount < helps:
        raise ValueError(f"total_amount {total_amount} cannot give each of {helps} helps a cut of 1 fen")
    if total_amount > MAX_TOTAL_AMOUNT:
        raise ValueError(f"total_amount {total_amount} is above the maximum {MAX_TOTAL_AMOUNT}")
    if helps == 1:
        return [total_amount]
    rng = _rng(seed)
    first = _first_cut(total_amount, helps, rng)
    remaining, count = total_amount - first, helps - 1
    fair_cap = -(-LATER_CUT_FACTOR * total_amount // helps)
    # No later cut above the first, unless the remainder cannot be spread that way (2 helps);
    # ceil(remaining / count) never exceeds fair_cap, so the documented bound holds either way.
    cap = max(min(fair_cap, first), -(-remaining // count))
    return [first, *_later_cuts(remaining, count, cap, rng)]


def helps_for(*, seed: str, low: int, high: int) -> int:
    """Pick how many helps a bargain needs when its offer says "between ``low`` and ``high``".

    The pick is deterministic for the seed, uniform in ``low..high`` inclusive, and drawn from a
    generator separate from the cut schedule's, so the two choices are not correlated.

    Raises:
        ValueError: ``low`` is below 1 or ``high`` is below ``low``.
    """
    if low < 1:
        raise ValueError(f"low must be at least 1, got {low}")
    if high < low:
        raise ValueError(f"high {high} is below low {low}")
    return _rng(f"helps_for:{seed}").randint(low, high)


def _rng(seed: str) -> random.Random:
    """Return a private generator seeded by the first 8 bytes of SHA-256 of ``seed``."""
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))


def _first_cut(total_amount: int, helps: int, rng: random.Random) -> int:
    """Draw the first cut's share in per mille, then leave at least 1 fen per remaining help.

    The share is drawn from 20–40 %, raised for few helps to at least 1.5 fair shares (with a
    50-per-mille spread) so the first cut stands out, and never above 50 %.
    """
    low = min(max(FIRST_SHARE_PERMILLE[0], -(-1500 // helps)), FIRST_CAP_PERMILLE)
    high = min(max(FIRST_SHARE_PERMILLE[1], low + 50), FIRST_CAP_PERMILLE)
    first = -(-total_amount * rng.randint(low, high) // 1000)
    return min(first, total_amount // 2, total_amount - (helps - 1))


def _later_cuts(remaining: int, count: int, cap: int, rng: random.Random) -> list[int]:
    """Split ``remaining`` into ``count`` cuts of 1..``cap`` fen that trend downwards.

    Each cut is 1 fen plus a share of the rest, weighted by a falling linear trend (for many
    helps the last weight is about a quarter of the first) times a random 70–130 % factor.
    Cuts over ``cap`` are clipped and the excess spread over the others in proportion to
    their room, which always suffices because the caller makes ``count × cap >= remaining``.
    """
    step = max(2, count // 3)
    weights = [(count - index + step) * rng.randint(*JITTER_PERCENT) for index in range(count)]
    cuts = [1 + part for part in allocate(remaining - count, weights)]
    excess = sum(cut - cap for cut in cuts if cut > cap)
    if excess == 0:
        return cuts
    cuts = [min(cut, cap) for cut in cuts]
    extra = allocate(excess, [cap - cut for cut in cuts])
    return [cut + more for cut, more in zip(cuts, extra, strict=True)]
