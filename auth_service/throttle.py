"""Failed-attempt throttling on Redis (the `limits` library, moving windows).

Every place a secret is checked counts its failures here: sign-in, the
current password of a change, the codes of MFA changes, step-up and
e-signature credentials.

- Per account *and client address* (the name typed, so unknown names are
  throttled exactly like real ones): a ladder of windows, each rung refusing
  further attempts until the oldest failure of its window ages out (about a
  minute, then ten, then half an hour). Passing the last rung is the lock:
  it holds at that address only, so one attacker cannot lock a person out
  from everywhere (ASVS 6.1), and it ends no session. Locked and unknown
  accounts answer alike, since both are this same counter.
- Per client address: password spraying over many names. A shop floor signs
  in through one NAT, so these limits sit far above the account ones.

A success clears the account's counters at that address; an administrator's
unlock clears them at every address (the addresses seen are remembered for
the longest window). When Redis cannot be reached the counting continues in
this process's memory (logged): sign-ins keep working and guessing stays
throttled.
"""
import ipaddress
import logging
import time

from limits import parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from mes_common import errors

ACCOUNT_LADDER = "3/minute;6/10 minutes;10/30 minutes"
ADDRESS_LADDER = "100/minute;1000/hour"
NO_ADDRESS = "-"   # the CLI and the shell (no client address)

log = logging.getLogger(__name__)


def client_key(address):
    """What the limits count an address as: an IPv6 client by its /64 (one host
    easily holds a whole /64, so single addresses would be free to change)."""
    if not address:
        return NO_ADDRESS
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


class Throttle:
    def __init__(self, redis_url, prefix, account=ACCOUNT_LADDER, address=ADDRESS_LADDER):
        self.storage = RedisStorage(redis_url, key_prefix=f"{prefix}:auth_throttle",
                                    socket_timeout=1, socket_connect_timeout=1)
        self.redis = self.storage.storage          # redis-py client: the addresses an account failed from
        self.addresses_key = f"{prefix}:auth_throttle:addresses:"
        self.refused_key = f"{prefix}:auth_throttle:refused:"
        self.redis_limiter = MovingWindowRateLimiter(self.storage)
        self.memory_limiter = MovingWindowRateLimiter(MemoryStorage())
        self.memory_addresses = {}
        self.ladders = {"account": parse_many(account), "address": parse_many(address)}
        self.remember = max(limit.get_expiry() for limit in self.ladders["account"])

    @staticmethod
    def _account(account, address):
        return f"{account.casefold()}|{client_key(address)}"

    def _keys(self, account=None, address=None):
        keys = []
        if account is not None:
            keys.append(("account", self._account(account, address)))
        if address:
            keys.append(("address", client_key(address)))
        return keys

    def _run(self, operation, fallback=None):
        try:
            return operation(self.redis_limiter, self.redis)
        except Exception as exc:  # redis-py's errors: connection refused, timeout, ...
            log.warning("throttling falls back to process memory: Redis unavailable (%s)", exc)
            return operation(self.memory_limiter, None)

    def check(self, **who):
        """Raise Throttled while any window of any of `who` is full; its `scope`
        says which: "account" (at this address) or "address"."""
        keys = self._keys(**who)

        def longest_wait(limiter, _redis):
            wait, scope = 0.0, None
            for ladder, key in keys:
                for limit in self.ladders[ladder]:
                    if not limiter.test(limit, ladder, key):
                        reset = limiter.get_window_stats(limit, ladder, key).reset_time - time.time()
                        if reset > wait:
                            wait, scope = reset, ladder
            return wait, scope

        wait, scope = self._run(longest_wait)
        if wait > 0:
            exc = errors.Throttled("too many failed attempts; try again later",
                                   {"retry_after": max(1, int(wait + 0.999))})
            exc.scope = scope
            raise exc

    def failed(self, account=None, address=None):
        """Count a failure; True if the account's last rung at this address is now full (the lock)."""
        keys = self._keys(account, address)

        def hit(limiter, client):
            locked = False
            for ladder, key in keys:
                for limit in self.ladders[ladder]:
                    limiter.hit(limit, ladder, key)
                if ladder == "account":
                    locked = not limiter.test(self.ladders[ladder][-1], ladder, key)
            if account is not None:
                self._remember_address(client, account, address)
            return locked

        return self._run(hit)

    def _remember_address(self, client, account, address):
        name, address = account.casefold(), client_key(address)
        if client is None:
            self.memory_addresses.setdefault(name, set()).add(address)
            return
        pipe = client.pipeline()
        pipe.sadd(self.addresses_key + name, address)
        pipe.expire(self.addresses_key + name, self.remember)
        pipe.execute()

    def refusals(self, account, address, window, scope="account"):
        """Count a refused (throttled) attempt. The first of a window of `window`
        seconds returns how many were refused in the windows since the last
        first one (that attempt is audited with the count); the others return None.
        Refused by the address limit (spraying over many names), the count is the
        address's: one row a window however many names are tried."""
        who = f"@{client_key(address)}" if scope == "address" else self._account(account, address)
        key = self.refused_key + who

        def count(_limiter, client):
            if client is None:   # no Redis: one row per refusal rather than none
                return 0
            if client.set(key + ":window", 1, nx=True, ex=max(1, int(window))):
                pipe = client.pipeline()
                pipe.getset(key + ":count", 0)
                pipe.expire(key + ":count", self.remember)
                return int(pipe.execute()[0] or 0)
            client.incr(key + ":count")
            return None

        return self._run(count)

    def clear(self, account, address=None, everywhere=False):
        """Forget the account's failures at `address`, or at every address it failed from."""
        def clear(limiter, client):
            name = account.casefold()
            if not everywhere:
                addresses = {client_key(address)}
            elif client is None:
                addresses = self.memory_addresses.pop(name, set())
            else:
                addresses = {a.decode() for a in client.smembers(self.addresses_key + name)}
                client.delete(self.addresses_key + name)
            for where in addresses:
                for limit in self.ladders["account"]:
                    limiter.clear(limit, "account", self._account(name, where))

        self._run(clear)
