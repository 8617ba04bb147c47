"""Redis cache of reference data: display fields of other services' entities.

A service keeps ids of foreign entities plus copies of a few display fields
(ARCHITECTURE.md §3). When it needs those fields fresh (a new reference, a
report), it asks the owner over RPC; this cache saves that round trip and
shields the owner from bursts. The cache is an optimisation only: every read
path degrades to "miss" when Redis is unavailable, so callers fall back to
the owner instead of failing.

Key layout (every key starts with ``f"{prefix}:"`` so one deployment, or one
test run, can be listed and cleared with SCAN without touching another):

    {prefix}:ref:{kind}:{id}    JSON value (a dict), or JSON ``null`` for a
                                short-lived "not found" entry
    {prefix}:tag:{tag}          set of value keys carrying that tag
    {prefix}:lock:{kind}:{id}   stampede guard of get_or_load

Listing keys by pattern (Redis's KEYS) is never done: it blocks the server for the whole
keyspace. Bulk deletion goes through tag sets or SCAN.
"""
import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Mapping

import redis
from nameko.extensions import DependencyProvider
from redis.backoff import NoBackoff
from redis.retry import Retry

from mes_common import metrics

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "mes"
DEFAULT_TTL = 3600.0
# "Not found" answers are cached briefly so a burst of lookups for a missing id
# does not reach the owner each time, yet a newly created entity shows up soon.
DEFAULT_NEGATIVE_TTL = 30.0
# Longer than a typical loader (one RPC), short enough that waiters recover
# quickly when the lock holder dies.
DEFAULT_LOCK_TIMEOUT = 5.0
JITTER = 0.10
WRITE_BATCH = 500
# One warning per this many seconds per container: a Redis outage must not
# flood the logs with one line per request.
WARN_INTERVAL = 10.0

_MISSING = object()
_ERROR = object()

# Delete the lock only if it still holds our token: after our lock expired,
# another caller may own it, and a plain DEL would release theirs.
_RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def _escape_glob(text):
    """SCAN MATCH takes a glob pattern; a prefix is matched literally."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class CacheStats:
    """Counters shared by all CacheClients of one container (one per worker),
    so stats() reflects the process, not a single request."""

    def __init__(self):
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self._last_warning = 0.0
        self._suppressed = 0

    def record(self, hits=0, misses=0):
        with self._lock:
            self.hits += hits
            self.misses += misses

    def snapshot(self):
        with self._lock:
            total = self.hits + self.misses
            return {
                "hits": self.hits,
                "misses": self.misses,
                "hit_rate": (self.hits / total) if total else 0.0,
                "errors": self.errors,
            }

    def warn(self, operation, exc):
        """Count a Redis error and log it, at most once per WARN_INTERVAL."""
        with self._lock:
            self.errors += 1
            now = time.monotonic()
            if self._last_warning and now - self._last_warning < WARN_INTERVAL:
                self._suppressed += 1
                return
            suppressed, self._suppressed = self._suppressed, 0
            self._last_warning = now
        log.warning(
            "reference cache %s failed, continuing without cache: %s", operation, exc,
            extra={"cache_operation": operation, "cache_errors_suppressed": suppressed},
        )


class CacheClient:
    """Per-worker handle on the reference-data cache.

    Loaders are zero-argument callables (usually a lambda around one RPC), so
    the cache needs no knowledge of how an entity is fetched.
    """

    def __init__(self, redis_client, prefix=DEFAULT_PREFIX, default_ttl=DEFAULT_TTL,
                 negative_ttl=DEFAULT_NEGATIVE_TTL, lock_timeout=DEFAULT_LOCK_TIMEOUT,
                 poll_interval=0.05, stats=None):
        if not prefix or ":" in prefix:
            raise ValueError("cache prefix must be a non-empty string without ':'")
        if default_ttl <= 0 or lock_timeout <= 0:
            raise ValueError("default_ttl and lock_timeout must be positive")
        self.redis = redis_client
        self.prefix = prefix
        self.default_ttl = default_ttl
        self.negative_ttl = negative_ttl
        self.lock_timeout = lock_timeout
        self.poll_interval = poll_interval
        self._stats = stats if stats is not None else CacheStats()
        self._release_lock = redis_client.register_script(_RELEASE_LOCK)

    # keys -----------------------------------------------------------------

    def key(self, kind, id):
        """The Redis key of one entity; ':' in kind would make keys ambiguous."""
        if not kind or ":" in kind:
            raise ValueError(f"invalid cache kind {kind!r}")
        return f"{self.prefix}:ref:{kind}:{id}"

    def tag_key(self, tag):
        return f"{self.prefix}:tag:{tag}"

    def lock_key(self, kind, id):
        return f"{self.prefix}:lock:{kind}:{id}"

    def _ttl_ms(self, ttl):
        """TTL with ±10% jitter so entries warmed together do not all expire
        together and send a burst of loads to the owner."""
        ttl = self.default_ttl if ttl is None else ttl
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        return max(1, int(ttl * 1000 * random.uniform(1 - JITTER, 1 + JITTER)))

    # reads ----------------------------------------------------------------

    def _lookup(self, key):
        """Raw read: the decoded value (None for a negative entry), _MISSING
        or _ERROR. Does not touch the stats."""
        try:
            raw = self.redis.get(key)
        except redis.RedisError as exc:
            self._stats.warn("get", exc)
            return _ERROR
        if raw is None:
            return _MISSING
        try:
            return json.loads(raw)
        except ValueError as exc:
            # A corrupt entry is a miss; the next write replaces it.
            self._stats.warn("decode", exc)
            return _MISSING

    def get(self, kind, id):
        """The cached dict, or None on a miss, a "not found" entry or a Redis
        error. A hit means the key was present (negative entries included)."""
        value = self._lookup(self.key(kind, id))
        if value is _MISSING or value is _ERROR:
            self._stats.record(misses=1)
            return None
        self._stats.record(hits=1)
        return value

    def get_many(self, kind, ids):
        """{id: value} for the ids found, in one MGET. Absent ids are misses;
        "not found" entries count as hits but are left out of the result."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        try:
            raws = self.redis.mget([self.key(kind, id) for id in ids])
        except redis.RedisError as exc:
            self._stats.warn("get_many", exc)
            self._stats.record(misses=len(ids))
            return {}
        found = {}
        hits = 0
        for id, raw in zip(ids, raws):
            if raw is None:
                continue
            try:
                value = json.loads(raw)
            except ValueError as exc:
                self._stats.warn("decode", exc)
                continue
            hits += 1
            if value is not None:
                found[id] = value
        self._stats.record(hits=hits, misses=len(ids) - hits)
        return found

    # writes ---------------------------------------------------------------

    def _queue_writes(self, pipe, kind, items, ttl, tags):
        """Queue SETs plus tag maintenance on a pipeline.

        A tag set lives as long as its longest-lived member (PEXPIRE NX then
        GT): it never outlives its members for long nor forgets a live one.
        """
        keys = []
        longest = 0
        for id, value in items:
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"cache values are dicts, got {type(value).__name__}")
            key = self.key(kind, id)
            ms = self._ttl_ms(ttl)
            pipe.set(key, json.dumps(value, separators=(",", ":")), px=ms)
            keys.append(key)
            longest = max(longest, ms)
        if keys:
            for tag in tags:
                tag_key = self.tag_key(tag)
                pipe.sadd(tag_key, *keys)
                pipe.pexpire(tag_key, longest, nx=True)
                pipe.pexpire(tag_key, longest, gt=True)
        return len(keys)

    def _write(self, operation, kind, items, ttl, tags):
        pipe = self.redis.pipeline(transaction=False)
        count = self._queue_writes(pipe, kind, items, ttl, tags)
        if not count:
            return 0
        try:
            pipe.execute()
        except redis.RedisError as exc:
            self._stats.warn(operation, exc)
            return 0
        return count

    def set(self, kind, id, value, ttl=None, tags=()):
        """Store one dict (JSON). Returns False if Redis did not take it."""
        return self._write("set", kind, [(id, value)], ttl, tags) == 1

    def set_many(self, kind, mapping, ttl=None, tags=()):
        """Store several entries in one pipeline, each with its own jitter."""
        items = list(mapping.items())
        return self._write("set_many", kind, items, ttl, tags) == len(items)

    def warm(self, kind, loader, ttl=None, tags=(), batch_size=WRITE_BATCH):
        """Preload a kind from ``loader()`` (a dict or an iterable of (id, value)
        pairs) in pipelined batches. Returns how many entries were written."""
        data = loader()
        pairs = data.items() if isinstance(data, Mapping) else data
        written = 0
        batch = []
        for id, value in pairs:
            batch.append((id, value))
            if len(batch) >= batch_size:
                written += self._write("warm", kind, batch, ttl, tags)
                batch = []
        if batch:
            written += self._write("warm", kind, batch, ttl, tags)
        return written

    def invalidate(self, kind, id):
        """Drop one entry (an owner's `.updated` event handler calls this).
        Returns False if Redis could not be reached, so the caller may retry."""
        try:
            self.redis.delete(self.key(kind, id))
        except redis.RedisError as exc:
            self._stats.warn("invalidate", exc)
            return False
        return True

    def invalidate_tag(self, tag):
        """Drop every entry carrying ``tag`` and the tag set itself.

        Reading and deleting the tag set happen in one MULTI, so an entry
        tagged concurrently lands in a fresh tag set instead of being lost.
        """
        tag_key = self.tag_key(tag)
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.smembers(tag_key)
            pipe.delete(tag_key)
            members, _ = pipe.execute()
            members = list(members)
            for start in range(0, len(members), WRITE_BATCH):
                self.redis.unlink(*members[start:start + WRITE_BATCH])
        except redis.RedisError as exc:
            self._stats.warn("invalidate_tag", exc)
            return False
        return True

    # cache-aside with stampede guard --------------------------------------

    def summary(self, kind, entity_id, load_many):
        """The display fields of another service's entity (`kind` from its
        contract), loaded on a miss with its batch RPC `load_many(ids) ->
        {id: summary}`; None when that service does not know the id."""
        key = str(entity_id)
        return self.get_or_load(kind, key, lambda: load_many([key]).get(key))

    def get_or_load(self, kind, id, loader, ttl=None, tags=()):
        """Cached value, or ``loader()`` on a miss, stored for the next caller.

        Concurrent misses on one key call the loader once: the first caller
        takes a short lock (SET NX PX) and loads; the others poll the value.
        If the holder dies, its lock expires after ``lock_timeout`` and a
        waiter takes over; waiting is bounded by about ``lock_timeout``, then
        the waiter loads itself. A loader returning None ("not found") is
        cached as a negative entry for ``negative_ttl`` seconds (0 disables
        it). With Redis down the loader is called directly.
        """
        key = self.key(kind, id)
        value = self._lookup(key)
        if value is _ERROR:
            self._stats.record(misses=1)
            return loader()
        if value is not _MISSING:
            self._stats.record(hits=1)
            return value
        self._stats.record(misses=1)

        lock_key = self.lock_key(kind, id)
        token = secrets.token_hex(16)
        deadline = time.monotonic() + self.lock_timeout + self.poll_interval * 2
        delay = min(0.01, self.poll_interval)
        while True:
            try:
                acquired = self.redis.set(lock_key, token,
                                          px=int(self.lock_timeout * 1000), nx=True)
            except redis.RedisError as exc:
                self._stats.warn("lock", exc)
                return self._load_and_store(kind, id, loader, ttl, tags)
            if acquired:
                try:
                    # Another caller may have stored the value between our
                    # miss and our lock.
                    value = self._lookup(key)
                    if value is not _MISSING and value is not _ERROR:
                        return value
                    return self._load_and_store(kind, id, loader, ttl, tags)
                finally:
                    try:
                        self._release_lock(keys=[lock_key], args=[token])
                    except redis.RedisError as exc:
                        self._stats.warn("unlock", exc)
            if time.monotonic() >= deadline:
                return self._load_and_store(kind, id, loader, ttl, tags)
            time.sleep(delay)
            delay = min(delay * 2, self.poll_interval)
            value = self._lookup(key)
            if value is _ERROR:
                return loader()
            if value is not _MISSING:
                return value

    def _load_and_store(self, kind, id, loader, ttl, tags):
        value = loader()
        if value is not None:
            self.set(kind, id, value, ttl=ttl, tags=tags)
        elif self.negative_ttl:
            self._write("set", kind, [(id, None)], self.negative_ttl, tags)
        return value

    # ops ------------------------------------------------------------------

    def stats(self):
        """Hit/miss counters of this container (all workers)."""
        return self._stats.snapshot()

    def health(self):
        """PING with latency, for /ready and probes; never raises."""
        start = time.perf_counter()
        try:
            self.redis.ping()
            error = None
        except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = (time.perf_counter() - start) * 1000
        return {"ok": error is None, "latency_ms": round(latency_ms, 3), "error": error}

    def clear_prefix(self):
        """Delete every key under this prefix (SCAN, batched UNLINK); returns
        the count. For tests and ops, so Redis errors are raised."""
        deleted = 0
        batch = []
        for key in self.redis.scan_iter(match=_escape_glob(self.prefix) + ":*",
                                        count=WRITE_BATCH):
            batch.append(key)
            if len(batch) >= WRITE_BATCH:
                deleted += self.redis.unlink(*batch)
                batch = []
        if batch:
            deleted += self.redis.unlink(*batch)
        return deleted


class ReferenceDataCache(DependencyProvider):
    """Injects a CacheClient into each worker.

    Config: ``REDIS_URL`` and ``CACHE_PREFIX`` (default "mes"). One connection
    pool per container; under eventlet's monkey-patching its sockets are
    cooperative. Timeouts are short and there is a single reconnect retry: a
    cache that is slow to fail is worse than no cache.
    """

    def __init__(self, default_ttl=DEFAULT_TTL, negative_ttl=DEFAULT_NEGATIVE_TTL,
                 lock_timeout=DEFAULT_LOCK_TIMEOUT, socket_timeout=0.5):
        self.default_ttl = default_ttl
        self.negative_ttl = negative_ttl
        self.lock_timeout = lock_timeout
        self.socket_timeout = socket_timeout
        self.pool = None
        self.client = None
        self.stats = None

    def setup(self):
        config = self.container.config
        try:
            url = config["REDIS_URL"]
        except KeyError:
            raise KeyError("config has no REDIS_URL for the reference cache") from None
        self.prefix = config.get("CACHE_PREFIX") or DEFAULT_PREFIX
        self.pool = redis.ConnectionPool.from_url(
            url,
            socket_timeout=self.socket_timeout,
            socket_connect_timeout=self.socket_timeout,
            health_check_interval=30,
            # one retry, only for a dropped pooled connection (Redis restart)
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        )
        self.client = redis.Redis(connection_pool=self.pool)
        self.stats = CacheStats()
        metrics.add_source("cache", self.container.service_name, self.stats)

    def get_dependency(self, worker_ctx):
        return CacheClient(
            self.client, self.prefix, default_ttl=self.default_ttl,
            negative_ttl=self.negative_ttl, lock_timeout=self.lock_timeout,
            stats=self.stats,
        )

    def _close(self):
        if self.pool is not None:
            self.pool.disconnect()

    def stop(self):
        metrics.remove_source("cache", self.container.service_name, self.stats)
        self._close()

    def kill(self):
        metrics.remove_source("cache", self.container.service_name, self.stats)
        self._close()
