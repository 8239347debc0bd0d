"""Token buckets shared by every process and host using one SP-API account.

SP-API's usage plans apply to the selling partner, not to a process: four
workers that each keep 5 requests/s send 20. These limiters keep the buckets
where every process sees them: in PostgreSQL (one row per bucket, updated in a
single statement under its row lock) or in Redis (one Lua script). Both use the
store's own clock, so hosts with drifting clocks still agree. The reservation
semantics are those of TokenBucket: a caller takes a token now or in the future
and sleeps until it is due.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine

from techapi.spapi.plans import USAGE_PLANS, UsagePlan
from techapi.spapi.ratelimit import DEFAULT_CUSHION, cushion_tokens


def account_key(endpoint: str, client_id: str, refresh_token: str, marketplace_id: str) -> str:
    """Names one SP-API account's buckets without storing a secret."""
    digest = hashlib.sha256(f"{endpoint}\0{client_id}\0{refresh_token}".encode()).hexdigest()[:16]
    return f"{digest}:{marketplace_id}"


class _SharedLimiter:
    def __init__(self, account: str, plans: dict[str, UsagePlan] | None = None,
                 sleep: Callable[[float], None] = time.sleep, cushion: float = DEFAULT_CUSHION) -> None:
        self.account = account
        self._plans = dict(USAGE_PLANS if plans is None else plans)
        self._rates: dict[str, float] = {}
        self._lock = threading.Lock()
        self._sleep = sleep
        self._cushion = cushion

    def set_plan(self, operation: str, plan: UsagePlan) -> None:
        """A different plan for one operation (an account with a raised usage plan)."""
        with self._lock:
            self._plans[operation] = plan
            self._rates.pop(operation, None)

    def plan(self, operation: str) -> tuple[float, int]:
        plan = self._plans.get(operation, UsagePlan(1, 1))
        with self._lock:
            return self._rates.get(operation, plan.rate), plan.burst

    def _key(self, operation: str) -> str:
        return f"spapi:{self.account}:{operation}"

    def _reserve(self, key: str, rate: float, burst: int) -> float:
        raise NotImplementedError

    def _drain(self, key: str) -> None:
        raise NotImplementedError

    def acquire(self, operation: str) -> float:
        rate, burst = self.plan(operation)
        tokens = self._reserve(self._key(operation), rate, burst)
        edge = cushion_tokens(self._cushion, rate, burst)
        wait = 0.0 if tokens >= edge else (edge - tokens) / rate
        if wait > 0:
            self._sleep(wait)
        return wait

    def penalise(self, operation: str) -> None:
        self._drain(self._key(operation))

    def observe_limit(self, operation: str, rate: float) -> None:
        current, _ = self.plan(operation)
        if 0 < rate < current:
            with self._lock:
                self._rates[operation] = rate


class PostgresRateLimiter(_SharedLimiter):
    RESERVE = text("""
        INSERT INTO rate_buckets (name, tokens, updated_at)
        VALUES (:name, :burst - 1, extract(epoch from clock_timestamp()))
        ON CONFLICT (name) DO UPDATE SET
            tokens = LEAST(:burst, rate_buckets.tokens
                       + (extract(epoch from clock_timestamp()) - rate_buckets.updated_at) * :rate) - 1,
            updated_at = extract(epoch from clock_timestamp())
        RETURNING tokens
    """)
    DRAIN = text("""
        INSERT INTO rate_buckets (name, tokens, updated_at)
        VALUES (:name, 0, extract(epoch from clock_timestamp()))
        ON CONFLICT (name) DO UPDATE SET tokens = LEAST(rate_buckets.tokens, 0)
    """)

    def __init__(self, engine: Engine, account: str, **kwargs) -> None:
        super().__init__(account, **kwargs)
        self.engine = engine

    def _reserve(self, key: str, rate: float, burst: int) -> float:
        with self.engine.begin() as conn:
            tokens = conn.execute(self.RESERVE, {"name": key, "burst": burst, "rate": rate}).scalar_one()
        return float(tokens)

    def _drain(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.DRAIN, {"name": key})


class RedisRateLimiter(_SharedLimiter):
    # KEYS[1] bucket; ARGV rate, burst. Returns the tokens left after taking one
    # (negative: a reservation in the future). Uses the Redis server's clock.
    RESERVE = """
        local now = redis.call('TIME')
        local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
        local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens, at = tonumber(state[1]), tonumber(state[2])
        if tokens == nil then tokens, at = burst, t end
        tokens = math.min(burst, tokens + (t - at) * rate) - 1
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(t))
        redis.call('EXPIRE', KEYS[1], 3600)
        return tostring(tokens)
    """
    DRAIN = """
        local now = redis.call('TIME')
        local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
        local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
        if tokens == nil then
            redis.call('HSET', KEYS[1], 'tokens', '0', 'at', tostring(t))
        elseif tokens > 0 then
            redis.call('HSET', KEYS[1], 'tokens', '0')
        end
        redis.call('EXPIRE', KEYS[1], 3600)
        return 0
    """

    def __init__(self, url: str, account: str, **kwargs) -> None:
        import redis

        super().__init__(account, **kwargs)
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._reserve_script = self.client.register_script(self.RESERVE)
        self._drain_script = self.client.register_script(self.DRAIN)

    def _reserve(self, key: str, rate: float, burst: int) -> float:
        return float(self._reserve_script(keys=[key], args=[rate, burst]))

    def _drain(self, key: str) -> None:
        self._drain_script(keys=[key])
