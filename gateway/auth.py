"""Authentication and authorization of gateway requests: the one place.

Every /api/v1 route declares the permission it needs (`resource:read`) or
AUTHENTICATED (any signed-in caller: self-service routes such as /me); only
/health, /ready and the docs are public. `Authenticator.authenticate` runs
before the handler:

- `Authorization: Bearer <JWT>`: an access token of the auth service, verified
  here with its public key (EdDSA only, see auth_service.contract.tokens) and refused
  when its session has been revoked (an in-memory copy of the revocation list,
  kept in sync from Redis; while it is not, the auth service's
  `session_active`, and 503 when that fails too).
- `Authorization: Bearer mes_…`: an API token, resolved by the auth service
  over RPC and remembered for API_TOKEN_CACHE_TTL seconds: a revocation takes
  effect within that time.

401 means "who are you?" (missing, malformed, invalid, expired or revoked
credentials); 403 means "you may not" (signed in, without the permission).
"""
import datetime as dt
import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from nameko.extensions import SharedExtension

from auth_service.contract import keys, tokens
from auth_service.contract.revocations import RevocationWatcher
from mes_common import errors
from mes_common.cache import DEFAULT_PREFIX
from mes_common.consumers import ResilientReplyListener
from mes_common.rpc import DEFAULT_TIMEOUT, ConsumerProbe, DeadlineServiceProxy, RequestPublisher

log = logging.getLogger(__name__)

AUTHENTICATED = "authenticated"   # a route's permission when any signed-in caller may use it
API_TOKEN_PREFIX = "mes_"
AUTH_SERVICE = "auth_service"
# what the gateway itself asks the auth service (its broker login may publish these and its routes' RPCs)
SESSION_ACTIVE, AUTHENTICATE_API_TOKEN = AUTH_CALLS = ("session_active", "authenticate_api_token")
# the auth service's and the gateway's clocks may differ a little (nbf of a fresh token)
LEEWAY = 5
REFUSED_API_TOKEN_TTL = 2.0       # blunts a flood of one bad token without delaying a fix for long
MAX_AUTHORIZATION = 4096          # a real access token is about 1 KB
# the flag on the word only: case-folding the token's character class made parsing 4x slower
_BEARER = re.compile(r"(?i:bearer) +([A-Za-z0-9\-._~+/]+=*) *")  # RFC 6750 b64token


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. `actor` (the username) is what audit trails record."""
    actor: str
    user_id: str | None = None
    session_id: str | None = None      # None for API tokens
    roles: tuple = ()
    permissions: frozenset = frozenset()
    kind: str = "anonymous"            # "user" (access token) | "api_token" | "anonymous"
    token_id: str | None = None        # API tokens

    def allows(self, permission):
        return permission == AUTHENTICATED or permission in self.permissions

    def context(self, correlation_id, client_address):
        """The RPC context (message headers) of a call made for this principal:
        who, what they may do and from where, never the credentials. Services
        check "within your own permissions" against `permissions` (an API
        token's scope, not its owner's rights) and audit `token_id`."""
        data = {"correlation_id": correlation_id, "actor": self.actor, "client_address": client_address}
        if self.user_id:
            data["user_id"] = self.user_id
            data["permissions"] = sorted(self.permissions)
        if self.session_id:   # a person's session: what signs records (mes_common.signatures)
            data["session_id"] = self.session_id
        if self.token_id:
            data["token_id"] = self.token_id
        return data


ANONYMOUS = Principal(actor="anonymous")


def bearer_token(header):
    """The token of an `Authorization: Bearer <token>` header, or Unauthenticated."""
    if not header:
        raise errors.Unauthenticated("this route needs `Authorization: Bearer <token>`",
                                     {"authorization": ["missing"]})
    match = _BEARER.fullmatch(header) if len(header) <= MAX_AUTHORIZATION else None
    if match is None:
        raise errors.Unauthenticated("the Authorization header is not `Bearer <token>`",
                                     {"authorization": ["expected `Bearer <token>`"]})
    return match.group(1)


def _digest(token):
    # the caches are keyed by a hash: a memory dump does not list usable tokens
    return hashlib.sha256(token.encode()).digest()


class TtlCache:
    """A bounded in-process map whose entries expire (monotonic clock). The
    gateway runs on eventlet: no lock is needed around these few dict steps."""

    def __init__(self, max_entries=10_000, clock=time.monotonic):
        self._entries = {}
        self.max_entries, self.clock = max_entries, clock

    def get(self, key):
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key, value, ttl):
        if ttl <= 0:
            return
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # the oldest (dicts keep insertion order)
        self._entries[key] = (self.clock() + ttl, value)


def _seconds_until(iso):
    if iso is None:
        return math.inf
    at = dt.datetime.fromisoformat(iso)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return (at - dt.datetime.now(dt.timezone.utc)).total_seconds()


class ApiTokens:
    """API tokens as the auth service resolves them (`lookup(token,
    correlation_id)` returns its answer or raises Unauthenticated), with the
    answers remembered: accepted ones for `ttl` seconds but never past the
    token's expiry, refused ones for `refused_ttl` (a flood of one bad token
    costs one RPC per interval). Errors such as Unavailable are not remembered.
    Two maps, so a flood of refused tokens cannot evict the accepted ones."""

    def __init__(self, lookup, ttl, refused_ttl=REFUSED_API_TOKEN_TTL, clock=time.monotonic):
        self.lookup, self.ttl, self.refused_ttl = lookup, ttl, refused_ttl
        self._accepted = TtlCache(clock=clock)
        self._refused = TtlCache(clock=clock)

    def principal(self, token, correlation_id=None):
        digest = _digest(token)
        principal = self._accepted.get(digest)
        if principal is not None:
            return principal
        refused = self._refused.get(digest)
        if refused is not None:
            raise errors.Unauthenticated(*refused)
        try:
            answer = self.lookup(token, correlation_id)
        except (errors.Unauthenticated, errors.ValidationFailed) as exc:
            # a malformed token (ValidationFailed) is refused like an unknown one: 401, not 400
            refused = (exc.message, exc.details)
            self._refused.put(digest, refused, self.refused_ttl)
            raise errors.Unauthenticated(*refused) from None
        principal = Principal(actor=answer["username"], user_id=answer["user_id"], kind="api_token",
                              token_id=answer["token_id"], permissions=frozenset(answer["permissions"]))
        self._accepted.put(digest, principal, min(self.ttl, _seconds_until(answer.get("expires_at"))))
        return principal


class _CallContext:
    """What nameko's RPC proxy reads from a worker context (the message
    headers): authentication runs before any worker exists."""
    __slots__ = ("context_data",)

    def __init__(self, correlation_id):
        self.context_data = {"correlation_id": correlation_id} if correlation_id else {}


class Authenticator(SharedExtension):
    """One per gateway process (ApiRoute.auth): the verification key, the
    revocation list's watcher, the verified-token and API-token caches, and
    RPC to the auth service (with deadlines, as in workers)."""

    rpc_reply_listener = ResilientReplyListener()
    consumer_probe = ConsumerProbe()
    request_publisher = RequestPublisher()

    def setup(self):
        config = self.container.config
        auth = keys.settings(config)
        self.issuer, self.audience = auth["ISSUER"], auth["AUDIENCE"]
        # a key object, not PEM text: PyJWT would parse the PEM on every verification
        self.public_key = load_pem_public_key(keys.public_key(config).encode())
        self.rpc_timeout = float(config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
        self.cache_ttl = float(auth.get("API_TOKEN_CACHE_TTL", 15))
        # no Redis round trip per request: a copy kept in sync by a greenthread
        self.revocations = RevocationWatcher(config["REDIS_URL"], config.get("CACHE_PREFIX") or DEFAULT_PREFIX)
        # Ed25519 and PyJWT's parsing cost ~250 µs a token; a client sends the
        # same one for its whole life (minutes), so its verified principal is kept
        self._verified = TtlCache()
        self._sessions = TtlCache()   # session_active answers, used while the copy is not in sync
        self.api_tokens = ApiTokens(self._lookup_api_token, self.cache_ttl)

    def start(self):
        self.container.spawn_managed_thread(self.revocations.run, identifier="revocation_watcher")

    def stop(self):
        self.revocations.stop()

    kill = stop

    def authenticate(self, request, spec, correlation_id=None):
        """The request's Principal; Unauthenticated (401), Forbidden (403) or Unavailable (503)."""
        if spec.public:
            return ANONYMOUS
        token = bearer_token(request.headers.get("Authorization"))
        if token.startswith(API_TOKEN_PREFIX):
            principal = self.api_tokens.principal(token, correlation_id)
        else:
            principal = self._access_token(token, correlation_id)
        if not principal.allows(spec.permission):
            raise errors.Forbidden(f"this needs the permission {spec.permission}",
                                   {"permission": spec.permission})
        return principal

    def _access_token(self, token, correlation_id):
        digest = _digest(token)
        principal = self._verified.get(digest)
        if principal is None:
            claims = tokens.verify_access_token(token, self.public_key, issuer=self.issuer,
                                                audience=self.audience, leeway=LEEWAY)
            principal = Principal(actor=claims.get("name") or claims["sub"], user_id=claims["sub"],
                                  session_id=claims["sid"], roles=tuple(claims.get("roles") or ()),
                                  permissions=frozenset(claims.get("permissions") or ()), kind="user")
            self._verified.put(digest, principal, claims["exp"] + LEEWAY - time.time())
        if self._session_revoked(principal.session_id, correlation_id):
            raise errors.Unauthenticated("the session has ended; sign in again", {"token": ["revoked"]})
        return principal

    def _session_revoked(self, session_id, correlation_id):
        revoked = self.revocations.revoked(session_id)
        if revoked is not None:
            return revoked
        # the copy is not in sync (no Redis): ask the source of truth, fail closed when it cannot answer
        active = self._sessions.get(session_id)
        if active is None:
            active = bool(self._call_auth(SESSION_ACTIVE, session_id, correlation_id=correlation_id))
            self._sessions.put(session_id, active, self.cache_ttl)
        return not active

    def _lookup_api_token(self, token, correlation_id):
        return self._call_auth(AUTHENTICATE_API_TOKEN, token, correlation_id=correlation_id)

    def _call_auth(self, method, *args, correlation_id):
        proxy = DeadlineServiceProxy(_CallContext(correlation_id), AUTH_SERVICE, self.rpc_reply_listener,
                                     self.rpc_timeout, self.consumer_probe, self.request_publisher)
        try:
            return getattr(proxy, method)(*args)
        except errors.MesError:
            raise
        except Exception as exc:  # e.g. an auth service without the method: no answer, not a 500
            log.error("%s.%s failed", AUTH_SERVICE, method, exc_info=exc)
            raise errors.Unavailable("credentials cannot be checked right now", {"service": AUTH_SERVICE}) \
                from None
