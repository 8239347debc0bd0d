"""A small per-process cache of slot answers, so a phone that refreshes does not
spend the usage plan: each answer is kept at most `ttl` and the cache holds at
most `size` answers (the oldest goes first)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

V = TypeVar("V")

SLOT_TTL = timedelta(seconds=60)
SLOT_CACHE_SIZE = 1024


class TtlCache(Generic[V]):
    def __init__(self, ttl: timedelta = SLOT_TTL, size: int = SLOT_CACHE_SIZE) -> None:
        self.ttl, self.size = ttl, size
        self._items: OrderedDict[Hashable, tuple[datetime, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime) -> tuple[datetime, V] | None:
        """(when it was stored, the value), if stored less than `ttl` before `now`."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if not found[0] <= now < found[0] + self.ttl:
                del self._items[key]
                return None
            return found

    def put(self, key: Hashable, value: V, now: datetime) -> None:
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (now, value)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def forget(self, matches: Callable[[Hashable], bool]) -> None:
        """Drop every answer whose key `matches` (a booking changed them)."""
        with self._lock:
            for key in [k for k in self._items if matches(k)]:
                del self._items[key]

    def __len__(self) -> int:
        return len(self._items)
