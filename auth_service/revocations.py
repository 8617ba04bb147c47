"""Revoked sessions, as the gateway sees them.

Access tokens are verified locally, so ending a session before its access
tokens expire needs a list the gateway can read: one Redis key per revoked
session, kept for as long as any access token of it can be valid. The auth
service writes it after each revocation commits and re-asserts the recent
ones periodically (a Redis restart or a failed write heals within seconds);
the database stays the source of truth (`auth_service.session_active`).
"""

KIND = "auth_revoked_session"


def key(prefix, session_id):
    return f"{prefix}:{KIND}:{session_id}"


def ttl_seconds(access_ttl_seconds, leeway_seconds=60):
    return int(access_ttl_seconds + leeway_seconds)


class RevocationList:
    """Writes revoked session ids where the gateway looks (Redis)."""

    def __init__(self, redis_client, prefix, access_ttl_seconds):
        self.redis, self.prefix = redis_client, prefix
        self.ttl = ttl_seconds(access_ttl_seconds)

    def publish(self, session_ids):
        if not session_ids:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.set(key(self.prefix, session_id), 1, ex=self.ttl)
            pipe.execute()
