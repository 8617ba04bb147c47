"""Revoked sessions, as the gateways see them.

Access tokens are verified locally, so ending a session before its access
tokens expire needs a list the gateways can consult on every request without
a round trip. The auth service writes each revocation, after its commit, to
a Redis sorted set (session id -> time until which its access tokens could
still be valid) and publishes it on a channel. Each gateway keeps the set in
memory: loaded when it subscribes, updated by the messages, reloaded every
few seconds as a safety net. The auth service re-asserts recent revocations
periodically, so a Redis restart or a failed write heals within seconds; the
database stays the source of truth (`auth_service.session_active`), which a
gateway asks while its copy is not in sync.
"""
import logging
import time

import eventlet
import redis

log = logging.getLogger(__name__)

LEEWAY = 60  # seconds beyond the access-token lifetime (clock skew, verification leeway)


def set_key(prefix):
    return f"{prefix}:auth_revoked_sessions"


def channel(prefix):
    return f"{prefix}:auth_revocations"


class RevocationList:
    """The writer (auth service)."""

    def __init__(self, redis_client, prefix, access_ttl_seconds):
        self.redis, self.prefix = redis_client, prefix
        self.ttl = access_ttl_seconds + LEEWAY

    def publish(self, session_ids):
        if not session_ids:
            return
        now = time.time()
        ids = [str(s) for s in session_ids]
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(set_key(self.prefix), {s: now + self.ttl for s in ids})
            pipe.zremrangebyscore(set_key(self.prefix), "-inf", now)  # their tokens have expired
            pipe.publish(channel(self.prefix), ",".join(ids))
            pipe.execute()


class RevocationWatcher:
    """The reader (gateway): an in-memory copy of the revoked sessions.

    `revoked(session_id)` is True/False while in sync, None while not (no
    Redis): the caller then asks the auth service."""

    def __init__(self, redis_url, prefix, resync_interval=5.0, retry_interval=1.0):
        self.redis_url, self.prefix = redis_url, prefix
        self.resync_interval, self.retry_interval = resync_interval, retry_interval
        self._revoked = {}       # session id -> until (epoch seconds)
        self._synced = False
        self._running = False
        self._warned_at = 0.0

    def revoked(self, session_id):
        if not self._synced:
            return None
        until = self._revoked.get(session_id)
        return until is not None and until > time.time()

    def run(self):
        """The watcher's loop (a managed greenthread of the gateway)."""
        self._running = True
        while self._running:
            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, health_check_interval=10)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(channel(self.prefix))
                self._load(client)  # after subscribing: nothing published meanwhile is missed
                self._synced = True
                next_load = time.monotonic() + self.resync_interval
                while self._running:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        until = time.time() + LEEWAY + 3600  # the next load sets the exact time
                        for session_id in message["data"].decode().split(","):
                            self._revoked[session_id] = until
                    if time.monotonic() >= next_load:
                        self._load(client)
                        next_load = time.monotonic() + self.resync_interval
            except (redis.RedisError, OSError) as exc:
                self._synced = False
                self._warn(exc)
                eventlet.sleep(self.retry_interval)
            finally:
                try:
                    pubsub.close()
                    client.close()
                except Exception:  # closing a broken connection
                    pass

    def stop(self):
        self._running = False
        self._synced = False

    def _load(self, client):
        now = time.time()
        entries = client.zrangebyscore(set_key(self.prefix), now, "+inf", withscores=True)
        self._revoked = {member.decode(): until for member, until in entries}

    def _warn(self, exc):
        now = time.monotonic()
        if now - self._warned_at >= 10:
            self._warned_at = now
            log.warning("revoked sessions not in sync (Redis: %s); asking auth_service instead", exc)
