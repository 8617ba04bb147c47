"""Idempotent requests: the same request under the same key applies once."""
import hashlib
import json

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from material_service.models import IdempotentRequest
from mes_common import errors


def _fingerprint(request):
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def once(tx, scope, key, request, apply):
    """`apply()` (returning a JSON-able answer) once per (scope, key): a repeat
    of the same request gets the first answer back and changes nothing.

    The key is claimed first in this transaction, so a concurrent duplicate
    waits on the claim and then reads the committed answer; a failure rolls
    the claim back with everything else, so a retry can apply it."""
    session = tx.session
    fingerprint = _fingerprint({k: v for k, v in request.items() if k != "idempotency_key"})
    claimed = session.execute(
        pg_insert(IdempotentRequest).values(scope=scope, key=key, request_hash=fingerprint)
        .on_conflict_do_nothing()).rowcount
    if not claimed:
        first = session.execute(select(IdempotentRequest).where(
            IdempotentRequest.scope == scope, IdempotentRequest.key == key)).scalar_one()
        if first.request_hash != fingerprint:
            raise errors.Conflict(f"idempotency key {key!r} was already used for a different request",
                                  {"idempotency_key": ["already used for a different request"]})
        return first.result
    result = apply()
    session.execute(update(IdempotentRequest).where(
        IdempotentRequest.scope == scope, IdempotentRequest.key == key).values(result=result))
    return result
