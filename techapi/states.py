"""Transition tables for the state machines (closure, cancellation, document,
task, webhook event): which state may follow which, and nothing else."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from techapi.errors import IllegalTransition

S = TypeVar("S", bound=enum.StrEnum)


class Transitions(Generic[S]):
    """A state machine's table. `check` refuses any move the table does not list;
    moving to the same state is a move like any other and must be listed too."""

    def __init__(self, name: str, states: type[S], table: Mapping[S, Iterable[S]]) -> None:
        missing = set(states) - set(table)
        if missing:
            raise ValueError(f"{name}: no row for {', '.join(sorted(s.value for s in missing))}")
        self.name = name
        self.states = states
        self._table = {state: frozenset(after) for state, after in table.items()}

    def allows(self, current: str, new: str) -> bool:
        return self.states(new) in self._table[self.states(current)]

    def check(self, current: str, new: str) -> S:
        """The new state, or IllegalTransition (409) naming both states."""
        if not self.allows(current, new):
            raise IllegalTransition(f"{self.name} is {current}; it cannot become {new}")
        return self.states(new)

    def final(self, state: str) -> bool:
        return not self._table[self.states(state)]
