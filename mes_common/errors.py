"""Typed errors that survive the RPC hop and map to one HTTP status each.

Every error carries ``(message, details)`` as its args: nameko serializes
``exc.args`` and, for registered types, rebuilds the exception with them on the
caller's side, so the gateway sees the same type, message and field details.

Details travel as a JSON string: nameko stringifies every non-string value in
exception args, which would turn `{"active_children": 1}` into `"1"`.
"""
import json

from nameko.exceptions import registry, get_module_path


class MesError(Exception):
    code = "error"
    http_status = 500

    def __init__(self, message="", details=None):
        if isinstance(details, str):  # rebuilt on the caller's side of an RPC
            details = json.loads(details)
        self.details = details or {}
        super().__init__(message, json.dumps(self.details, default=str))

    @property
    def message(self):
        return self.args[0]

    def to_dict(self):
        return {"error": self.code, "message": self.message, "details": self.details}

    def __str__(self):
        return self.message


def _register(cls):
    registry[get_module_path(cls)] = cls
    return cls


@_register
class ValidationFailed(MesError):
    """Input is malformed: ``details`` maps each offending field to its messages."""
    code = "validation_failed"
    http_status = 400


@_register
class RuleViolated(MesError):
    """Input is well-formed but breaks a domain rule (e.g. wrong level nesting)."""
    code = "rule_violated"
    http_status = 422


@_register
class NotFound(MesError):
    code = "not_found"
    http_status = 404


@_register
class Conflict(MesError):
    """The change collides with the current state (duplicate, stale version, ...)."""
    code = "conflict"
    http_status = 409


@_register
class Unauthenticated(MesError):
    code = "unauthenticated"
    http_status = 401


@_register
class Forbidden(MesError):
    code = "forbidden"
    http_status = 403


@_register
class Throttled(MesError):
    """Too many attempts: ``details["retry_after"]`` is the wait in whole seconds."""
    code = "too_many_requests"
    http_status = 429

    @property
    def retry_after(self):
        return int(self.details.get("retry_after", 1))


@_register
class TooLarge(MesError):
    """The request's body is larger than the route takes (``details["body"]`` says how large it may be)."""
    code = "too_large"
    http_status = 413


@_register
class Unavailable(MesError):
    """A dependency (service, broker, database) did not answer in time."""
    code = "unavailable"
    http_status = 503


class PermanentEventError(MesError):
    """Raised by an event handler for an event it can never apply: no retries,
    straight to the dead-letter queue."""
    code = "permanent_event_error"


ALL = (ValidationFailed, RuleViolated, NotFound, Conflict, Unauthenticated, Forbidden, Throttled, TooLarge,
       Unavailable)


def unavailable(exc):
    """The Unavailable that `exc` means when a dependency is away (the database's connection lost or refused,
    another service or the broker not answering), else None: what a caller should retry, never a 500."""
    from nameko.exceptions import RpcTimeout
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    if isinstance(exc, Unavailable):
        return exc
    if isinstance(exc, (OperationalError, InterfaceError)) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return Unavailable("the database is unavailable", {"reason": str(getattr(exc, "orig", exc))[:200]})
    if isinstance(exc, (ConnectionError, TimeoutError, RpcTimeout)):
        return Unavailable(f"a dependency did not answer: {type(exc).__name__}", {})
    return None
