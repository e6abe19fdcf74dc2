"""The request transition table: every status is reachable from ``requested``, every path can end,
final statuses are final, and the conditional UPDATE's sources match the table."""

from __future__ import annotations

from mercato import aftersales
from mercato.aftersales.states import FINAL, RELEASED, WAITING_ON_SHOP

S = aftersales.AftersalesStatus
TABLE = aftersales.REQUEST


def reachable(start: aftersales.AftersalesStatus) -> set[aftersales.AftersalesStatus]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in TABLE.allowed(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_status_is_reachable_and_every_one_can_end() -> None:
    assert reachable(S.requested) == set(S)
    assert [status for status in S if not reachable(status) & FINAL] == []
    assert reachable(S.rejected) & FINAL == {S.cancelled, S.closed, S.completed}


def test_final_statuses_have_no_way_out_and_the_sets_are_consistent() -> None:
    assert [status for status in FINAL if TABLE.allowed(status)] == []
    assert RELEASED <= FINAL
    assert WAITING_ON_SHOP & FINAL == frozenset()
    assert TABLE.sources(S.refunding) == ["approved", "received", "refund_failed"]
    assert TABLE.sources(S.approved) == ["disputed", "requested"]
    assert TABLE.sources(S.cancelled) == ["rejected", "requested"]
