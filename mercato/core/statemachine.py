"""Transition tables: a status changes only along a declared edge, through a named action.

A domain declares ``TABLE = TransitionTable("orders", {Status.a: {Status.b, ...}, ...})`` in its
``states.py``; its named actions call :meth:`TransitionTable.check` and record the change in their
own ``<domain>_<entity>_status_change`` table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from mercato.core.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class TransitionTable(Generic[S]):
    """Allowed moves from each status; a status absent from the table is terminal."""

    domain: str
    edges: Mapping[S, frozenset[S]] = field(default_factory=dict)

    def allowed(self, current: S) -> frozenset[S]:
        return self.edges.get(current, frozenset())

    def can(self, current: S, target: S) -> bool:
        return target in self.allowed(current)

    def sources(self, target: S) -> list[str]:
        """The statuses that may move to ``target``: the WHERE of a conditional UPDATE, so the
        table, not the caller, decides which rows may move."""
        return sorted(str(state) for state, targets in self.edges.items() if target in targets)

    def check(self, current: S, target: S) -> None:
        """Raise ``IllegalTransition`` with code ``<domain>.illegal_transition`` unless allowed."""
        if not self.can(current, target):
            raise IllegalTransition(
                code=f"{self.domain}.illegal_transition", current=str(current), target=str(target)
            )
