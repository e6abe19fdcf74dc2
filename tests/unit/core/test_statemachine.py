"""Transition tables: only declared edges are allowed; refusals carry the domain's code."""

from __future__ import annotations

from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato.core.errors import IllegalTransition
from mercato.core.statemachine import TransitionTable


class Light(StrEnum):
    red = "red"  # stop
    green = "green"  # go
    amber = "amber"  # about to stop
    broken = "broken"  # terminal


TABLE = TransitionTable(
    "traffic",
    {
        Light.red: frozenset({Light.green, Light.broken}),
        Light.green: frozenset({Light.amber, Light.broken}),
        Light.amber: frozenset({Light.red, Light.broken}),
    },
)


def test_allows_declared_edges_only() -> None:
    assert TABLE.can(Light.red, Light.green)
    assert not TABLE.can(Light.red, Light.amber)
    assert TABLE.allowed(Light.broken) == frozenset()
    TABLE.check(Light.green, Light.amber)


def test_refusal_names_the_domain_and_both_states() -> None:
    with pytest.raises(IllegalTransition) as caught:
        TABLE.check(Light.broken, Light.red)

    assert caught.value.code == "traffic.illegal_transition"
    assert caught.value.params == {"current": "broken", "target": "red"}


@given(st.lists(st.sampled_from(list(Light)), max_size=30))
def test_any_walk_either_follows_the_table_or_is_refused(moves: list[Light]) -> None:
    state = Light.red
    for target in moves:
        if target in TABLE.allowed(state):
            TABLE.check(state, target)
            state = target
        else:
            with pytest.raises(IllegalTransition):
                TABLE.check(state, target)
    assert state in set(Light)


def test_sources_are_the_states_with_an_edge_to_the_target() -> None:
    assert TABLE.sources(Light.broken) == ["amber", "green", "red"]
    assert TABLE.sources(Light.red) == ["amber"]
    assert TABLE.sources(Light.broken) == sorted(s for s in Light if TABLE.can(s, Light.broken))
