"""The slot cache keeps an answer at most its TTL, and at most `size` answers."""

from datetime import UTC, datetime, timedelta

from techapi.appointments.cache import TtlCache

T0 = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)


def test_an_answer_is_kept_for_its_ttl_and_no_longer():
    cache: TtlCache[str] = TtlCache(ttl=timedelta(seconds=60))
    cache.put("k", "v", T0)
    assert cache.get("k", T0 + timedelta(seconds=59)) == (T0, "v")
    assert cache.get("k", T0 + timedelta(seconds=60)) is None
    assert len(cache) == 0


def test_the_oldest_answer_goes_when_the_cache_is_full():
    cache: TtlCache[int] = TtlCache(size=2)
    for i in range(3):
        cache.put(i, i, T0)
    assert cache.get(0, T0) is None and cache.get(2, T0) == (T0, 2) and len(cache) == 2


def test_forgetting_drops_only_the_matching_answers():
    cache: TtlCache[int] = TtlCache()
    cache.put(("store", "S1", "a"), 1, T0)
    cache.put(("store", "S2", "a"), 2, T0)
    cache.forget(lambda key: key[1] == "S1")
    assert cache.get(("store", "S1", "a"), T0) is None and cache.get(("store", "S2", "a"), T0) is not None
