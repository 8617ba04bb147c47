"""ReferenceDataCache / CacheClient against the real Redis.

Each test gets its own key prefix and removes every key under it afterwards,
so runs never see each other's data nor leave any behind.
"""
import logging
import os
import uuid

import eventlet
import pytest
import redis

from mes_common.cache import CacheClient, CacheStats, ReferenceDataCache

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DEAD_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _keys(r, prefix):
    return sorted(k.decode() for k in r.scan_iter(match=f"{prefix}:*", count=500))


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client):
    prefix = f"mes_test_{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}:*", count=500))
    if keys:
        redis_client.delete(*keys)
    assert _keys(redis_client, prefix) == []


@pytest.fixture
def cache(redis_client, prefix):
    return CacheClient(redis_client, prefix, default_ttl=100)


@pytest.fixture
def dead_cache():
    client = redis.Redis.from_url(DEAD_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    yield CacheClient(client, "mes_test_dead", default_ttl=100)
    client.close()


WC = {"code": "WC-10", "name": "5-axis milling"}


def test_set_get_round_trip_uses_prefixed_json_key(cache, redis_client, prefix):
    assert cache.get("work_center", 7) is None
    assert cache.set("work_center", 7, WC) is True

    assert cache.get("work_center", 7) == WC
    assert cache.get("part", 7) is None  # kinds do not collide
    assert _keys(redis_client, prefix) == [f"{prefix}:ref:work_center:7"]
    assert redis_client.get(f"{prefix}:ref:work_center:7") == b'{"code":"WC-10","name":"5-axis milling"}'


def test_set_rejects_non_dict_and_bad_kind(cache):
    with pytest.raises(TypeError):
        cache.set("part", 1, ["not", "a", "dict"])
    with pytest.raises(ValueError):
        cache.set("part:x", 1, WC)


def test_ttl_has_jitter_within_ten_percent(cache, redis_client, prefix):
    cache.set_many("part", {i: {"n": i} for i in range(40)}, ttl=100)
    cache.set("part", "default", {"n": 0})  # constructor default_ttl=100

    ttls = [redis_client.pttl(f"{prefix}:ref:part:{i}") for i in [*range(40), "default"]]
    assert all(89_000 <= t <= 110_000 for t in ttls), ttls
    assert len(set(ttls)) > 10  # jittered, not one synchronized expiry


def test_get_many_and_set_many(cache, redis_client, prefix):
    assert cache.set_many("part", {"a": {"pn": "A"}, "b": {"pn": "B"}}) is True

    assert cache.get_many("part", ["a", "b", "c", "a"]) == {"a": {"pn": "A"}, "b": {"pn": "B"}}
    assert cache.get_many("part", []) == {}
    assert cache.stats()["hits"] == 2 and cache.stats()["misses"] == 1
    assert _keys(redis_client, prefix) == [f"{prefix}:ref:part:a", f"{prefix}:ref:part:b"]


def test_invalidate_removes_only_that_key(cache, redis_client, prefix):
    cache.set("part", 1, {"pn": "1"})
    cache.set("part", 2, {"pn": "2"})

    assert cache.invalidate("part", 1) is True

    assert cache.get("part", 1) is None
    assert redis_client.exists(f"{prefix}:ref:part:1") == 0
    assert cache.get("part", 2) == {"pn": "2"}


def test_invalidate_tag_removes_only_tagged_keys_and_the_tag_set(cache, redis_client, prefix):
    cache.set("work_center", 1, WC, tags=["site:TLS"])
    cache.set_many("work_center", {2: WC, 3: WC}, tags=["site:TLS", "area:5"])
    cache.set("work_center", 4, WC, tags=["site:HAM"])
    cache.set("work_center", 5, WC)
    tag_key = f"{prefix}:tag:site:TLS"
    assert redis_client.smembers(tag_key) == {
        f"{prefix}:ref:work_center:{i}".encode() for i in (1, 2, 3)}
    # the tag set outlives its members, within the jitter bound
    assert 89_000 <= redis_client.pttl(tag_key) <= 110_000
    assert redis_client.pttl(tag_key) >= max(
        redis_client.pttl(f"{prefix}:ref:work_center:{i}") for i in (1, 2, 3))

    assert cache.invalidate_tag("site:TLS") is True

    assert cache.get_many("work_center", [1, 2, 3, 4, 5]) == {4: WC, 5: WC}
    assert redis_client.exists(tag_key) == 0
    assert _keys(redis_client, prefix) == sorted([
        f"{prefix}:ref:work_center:4", f"{prefix}:ref:work_center:5",
        f"{prefix}:tag:area:5", f"{prefix}:tag:site:HAM"])


def test_get_or_load_caches_and_counts(cache):
    calls = []

    def loader():
        calls.append(1)
        return {"pn": "P-1"}

    assert cache.get_or_load("part", 1, loader) == {"pn": "P-1"}
    assert cache.get_or_load("part", 1, loader) == {"pn": "P-1"}
    assert len(calls) == 1
    assert cache.stats() == {"hits": 1, "misses": 1, "hit_rate": 0.5, "errors": 0}


def test_get_or_load_calls_loader_once_for_20_concurrent_misses(cache, redis_client, prefix):
    calls = []

    def loader():
        calls.append(1)
        eventlet.sleep(0.2)  # a slow RPC: every greenthread misses meanwhile
        return {"pn": "P-9"}

    pool = eventlet.GreenPool(20)
    threads = [pool.spawn(cache.get_or_load, "part", 9, loader) for _ in range(20)]
    results = [t.wait() for t in threads]

    assert len(calls) == 1
    assert results == [{"pn": "P-9"}] * 20
    assert cache.stats()["misses"] == 20  # all missed; only one loaded
    assert redis_client.exists(f"{prefix}:lock:part:9") == 0  # lock released


def test_get_or_load_takes_over_after_lock_holder_died(redis_client, prefix):
    cache = CacheClient(redis_client, prefix, lock_timeout=0.3, poll_interval=0.02)
    # a holder that took the lock and crashed without releasing it
    redis_client.set(f"{prefix}:lock:part:5", "dead-holder", px=300)
    calls = []

    def loader():
        calls.append(1)
        return {"pn": "P-5"}

    assert cache.get_or_load("part", 5, loader) == {"pn": "P-5"}
    assert len(calls) == 1
    assert cache.get("part", 5) == {"pn": "P-5"}


def test_get_or_load_does_not_release_someone_elses_lock(redis_client, prefix):
    cache = CacheClient(redis_client, prefix, lock_timeout=0.1, poll_interval=0.02)
    lock_key = f"{prefix}:lock:part:6"

    def slow_loader():
        eventlet.sleep(0.2)  # outlives our lock; another caller takes it
        redis_client.set(lock_key, "other-holder", px=5000)
        return {"pn": "P-6"}

    assert cache.get_or_load("part", 6, slow_loader) == {"pn": "P-6"}
    assert redis_client.get(lock_key) == b"other-holder"


def test_not_found_is_cached_briefly_as_negative_entry(cache, redis_client, prefix):
    calls = []

    def loader():
        calls.append(1)
        return None

    assert cache.get_or_load("part", "ghost", loader) is None
    assert cache.get_or_load("part", "ghost", loader) is None
    assert len(calls) == 1
    assert 0 < redis_client.pttl(f"{prefix}:ref:part:ghost") <= 33_000
    assert cache.get_many("part", ["ghost"]) == {}

    no_negative = CacheClient(redis_client, prefix, negative_ttl=0)
    assert no_negative.get_or_load("part", "ghost2", loader) is None
    assert no_negative.get_or_load("part", "ghost2", loader) is None
    assert len(calls) == 3


def test_loader_error_propagates_and_releases_lock(cache, redis_client, prefix):
    def loader():
        raise RuntimeError("owner down")

    with pytest.raises(RuntimeError):
        cache.get_or_load("part", 3, loader)
    assert redis_client.exists(f"{prefix}:lock:part:3") == 0
    assert redis_client.exists(f"{prefix}:ref:part:3") == 0


def test_warm_writes_in_batches_and_returns_count(cache, redis_client, prefix):
    def rows():
        for i in range(1203):
            yield i, {"code": f"WC-{i}"}

    assert cache.warm("work_center", rows, tags=["warm"]) == 1203
    assert cache.warm("part", lambda: {"x": {"pn": "X"}}) == 1

    assert cache.get("work_center", 1202) == {"code": "WC-1202"}
    assert cache.get("part", "x") == {"pn": "X"}
    assert redis_client.scard(f"{prefix}:tag:warm") == 1203


def test_stats_are_shared_by_clients_of_one_stats_object(redis_client, prefix):
    shared = CacheStats()
    a = CacheClient(redis_client, prefix, stats=shared)
    b = CacheClient(redis_client, prefix, stats=shared)
    a.set("part", 1, {"pn": "1"})

    a.get("part", 1)
    b.get("part", 1)
    b.get("part", 2)
    b.get_many("part", [1, 2, 3])

    assert b.stats() == {"hits": 3, "misses": 3, "hit_rate": 0.5, "errors": 0}
    assert a.stats() == b.stats()
    assert CacheClient(redis_client, prefix).stats()["hit_rate"] == 0.0


def test_health_ok(cache):
    health = cache.health()
    assert health["ok"] is True and health["error"] is None
    assert health["latency_ms"] >= 0


def test_clear_prefix_removes_only_own_keys(cache, redis_client, prefix):
    other = CacheClient(redis_client, prefix + "x")
    try:
        cache.set("part", 1, {"pn": "1"}, tags=["t"])
        other.set("part", 1, {"pn": "other"})

        assert cache.clear_prefix() == 2

        assert _keys(redis_client, prefix) == []
        assert other.get("part", 1) == {"pn": "other"}
    finally:
        other.clear_prefix()


def test_redis_down_degrades_to_misses_and_direct_loads(dead_cache, caplog):
    caplog.set_level(logging.WARNING, logger="mes_common.cache")

    health = dead_cache.health()
    assert health["ok"] is False and "Connection" in health["error"]
    assert dead_cache.get("part", 1) is None
    assert dead_cache.get_many("part", [1, 2]) == {}
    assert dead_cache.set("part", 1, {"pn": "1"}) is False
    assert dead_cache.set_many("part", {1: {"pn": "1"}}) is False
    assert dead_cache.invalidate("part", 1) is False
    assert dead_cache.invalidate_tag("t") is False
    assert dead_cache.warm("part", lambda: {1: {"pn": "1"}}) == 0

    calls = []
    assert dead_cache.get_or_load("part", 1, lambda: calls.append(1) or {"pn": "1"}) == {"pn": "1"}
    assert len(calls) == 1

    stats = dead_cache.stats()
    assert stats["hits"] == 0 and stats["misses"] == 4 and stats["errors"] == 8
    # one warning, not one per failed call
    warnings = [r for r in caplog.records if r.name == "mes_common.cache"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


class ContainerStub:
    service_name = "cache_test"

    def __init__(self, config):
        self.config = config
        self.shared_extensions = {}


def test_provider_wiring(redis_client, prefix):
    container = ContainerStub({"REDIS_URL": REDIS_URL, "CACHE_PREFIX": prefix})
    provider = ReferenceDataCache(default_ttl=50).bind(container, "cache")
    provider.setup()
    try:
        worker_a = provider.get_dependency(worker_ctx=None)
        worker_b = provider.get_dependency(worker_ctx=None)
        assert isinstance(worker_a, CacheClient) and worker_a.prefix == prefix
        # one pool per container, one stats object across workers
        assert worker_a.redis.connection_pool is provider.pool
        assert worker_b.redis.connection_pool is provider.pool

        worker_a.set("work_center", 1, WC)
        assert worker_b.get("work_center", 1) == WC
        worker_b.get("work_center", 2)
        assert worker_a.stats()["hits"] == 1 and worker_a.stats()["misses"] == 1
        assert 44_000 <= redis_client.pttl(f"{prefix}:ref:work_center:1") <= 55_000
        assert worker_a.health()["ok"] is True
        pooled = list(provider.pool._available_connections)
        assert pooled and all(c._sock is not None for c in pooled)
    finally:
        provider.stop()
    assert all(c._sock is None for c in pooled)  # sockets closed on stop


def test_provider_defaults_prefix_and_requires_url():
    container = ContainerStub({"REDIS_URL": REDIS_URL})  # bind keeps only a weakref
    provider = ReferenceDataCache().bind(container, "cache")
    provider.setup()
    try:
        assert provider.get_dependency(None).prefix == "mes"
    finally:
        provider.kill()

    container = ContainerStub({})
    provider = ReferenceDataCache().bind(container, "cache")
    with pytest.raises(KeyError, match="REDIS_URL"):
        provider.setup()
