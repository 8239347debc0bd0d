"""Task kinds: each domain declares its own (name, priority, handler, what to do
when the task gives up); create_app assembles them into the worker's registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from techapi.context import Deps

# (deps, ref, attempt): raise RetryLater for a passing failure, PermanentFailure
# when nothing will change without a person; return when done.
Handler = Callable[[Deps, str, int], None]
# (deps, ref, reason): the task failed for good; record it on the domain object
# (document, closure, ...) so a person sees why. Must be safe to call twice.
GiveUp = Callable[[Deps, str, str], None]


class RetryLater(Exception):
    """A passing failure (SP-API 429/5xx, network): run the task again after the back-off."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentFailure(Exception):
    """The task cannot succeed as things stand; a person has to act."""


@dataclass(frozen=True)
class TaskKind:
    name: str
    # Lower runs first when several tasks are due.
    priority: int
    run: Handler
    give_up: GiveUp | None = None


class TaskRegistry:
    """The task kinds one process runs, by name."""

    def __init__(self, kinds: Iterable[TaskKind]) -> None:
        self._kinds: dict[str, TaskKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"task kind {kind.name!r} declared twice")
            self._kinds[kind.name] = kind

    def get(self, name: str) -> TaskKind | None:
        return self._kinds.get(name)

    def __iter__(self) -> Iterator[TaskKind]:
        return iter(self._kinds.values())
