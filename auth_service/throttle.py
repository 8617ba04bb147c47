"""Failed-attempt throttling on Redis (the `limits` library, moving windows).

Failures are counted per account (by the name typed, so unknown names are
throttled exactly like real ones) and per client address. Each key has a
ladder of windows: passing a rung refuses further attempts until the oldest
failure of that window ages out, so the wait grows with each rung (about a
minute, then ten, then half an hour). The last account rung also locks a
real account in the database (`LOCK_DURATION`), which an administrator can
lift. A success clears the account's counters.

When Redis cannot be reached the counting continues in this process's
memory (logged): logins keep working and guessing stays throttled.
"""
import logging
import time

from limits import parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from mes_common import errors

ACCOUNT_LADDER = "3/minute;6/10 minutes;10/30 minutes"
ADDRESS_LADDER = "20/minute;100/hour"
SIGNATURE_LADDER = "3/minute;5/15 minutes"

log = logging.getLogger(__name__)


class Throttle:
    def __init__(self, redis_url, prefix, account=ACCOUNT_LADDER, address=ADDRESS_LADDER,
                 signature=SIGNATURE_LADDER):
        self.storage = RedisStorage(redis_url, key_prefix=f"{prefix}:auth_throttle",
                                    socket_timeout=1, socket_connect_timeout=1)
        self.redis_limiter = MovingWindowRateLimiter(self.storage)
        self.memory_limiter = MovingWindowRateLimiter(MemoryStorage())
        self.ladders = {"account": parse_many(account), "address": parse_many(address),
                        "signature": parse_many(signature)}

    def _keys(self, account=None, address=None, signer=None):
        keys = []
        if account is not None:
            keys.append(("account", account.casefold()))
        if address:
            keys.append(("address", address))
        if signer is not None:
            keys.append(("signature", str(signer)))
        return keys

    def _run(self, operation):
        try:
            return operation(self.redis_limiter)
        except Exception as exc:  # redis-py's errors: connection refused, timeout, ...
            log.warning("login throttling falls back to process memory: Redis unavailable (%s)", exc)
            return operation(self.memory_limiter)

    def check(self, **who):
        """Raise Throttled while any window of any of `who` is full."""
        keys = self._keys(**who)

        def longest_wait(limiter):
            wait = 0.0
            for ladder, key in keys:
                for limit in self.ladders[ladder]:
                    if not limiter.test(limit, ladder, key):
                        reset = limiter.get_window_stats(limit, ladder, key).reset_time
                        wait = max(wait, reset - time.time())
            return wait

        wait = self._run(longest_wait)
        if wait > 0:
            raise errors.Throttled("too many failed attempts; try again later",
                                   {"retry_after": max(1, int(wait + 0.999))})

    def failed(self, **who):
        """Count a failure; True if the account's last rung is now full (lock it)."""
        keys = self._keys(**who)

        def hit(limiter):
            locked = False
            for ladder, key in keys:
                for limit in self.ladders[ladder]:
                    limiter.hit(limit, ladder, key)
                if ladder == "account":
                    locked = not limiter.test(self.ladders[ladder][-1], ladder, key)
            return locked

        return self._run(hit)

    def clear(self, **who):
        keys = self._keys(**who)

        def clear(limiter):
            for ladder, key in keys:
                for limit in self.ladders[ladder]:
                    limiter.clear(limit, ladder, key)

        self._run(clear)
