"""What every MES service class has: logging context per worker, the caller,
`ping` and the audit-trail RPCs."""
import gc
import uuid
from dataclasses import dataclass, field

from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from mes_common import audit, broker, errors, logs, signatures
from mes_common.metrics import Metrics
from mes_common.consumers import BROKER_ORIGIN, BROKER_USER, TRUSTED, ResilientRpc
from mes_common.rpc import rpc
from mes_common.events.outbox import event_log
from mes_common.schemas import AuditQuery, EventLogQuery, load


_heap_frozen = False


class WorkerContext(DependencyProvider):
    """Binds service, entrypoint and correlation id to the worker's log
    records, makes sure calls it makes carry a correlation id, and says
    whether the worker runs for the platform itself (`trusted`): an RPC whose
    chain of calls started at a service or at `mes_cli` (by the broker's
    word, mes_common.broker), or the service's own event handler or timer."""

    def setup(self):
        self.trusted_logins = broker.trusted_logins(self.container.config)

    def start(self):
        # what is loaded by the first start (code, config, pools) lives as long as the process: out of
        # the collector's sight, a full collection during a large answer costs a few ms, not 100 (measured).
        # Once: a process starting containers again (the tests) must not freeze the garbage of earlier ones.
        global _heap_frozen
        if not _heap_frozen:
            _heap_frozen = True
            gc.collect()   # start-up's garbage goes first, not into the frozen heap
            gc.freeze()

    def worker_setup(self, worker_ctx):
        data = worker_ctx.data
        if not data.get("correlation_id"):
            data["correlation_id"] = str(uuid.uuid4())
        if isinstance(worker_ctx.entrypoint, ResilientRpc):
            data[TRUSTED] = data.get(BROKER_ORIGIN) in self.trusted_logins
        else:   # what a message said of callers is moot: an event or a timer is the service's own work,
            data.pop(BROKER_ORIGIN, None)   # any other entrypoint (HTTP) is nobody's word
            data[TRUSTED] = isinstance(worker_ctx.entrypoint, (EventHandler, Timer))
        logs.bind(service=self.container.service_name,
                  entrypoint=worker_ctx.entrypoint.method_name,
                  correlation_id=data["correlation_id"])

    def get_dependency(self, worker_ctx):
        return worker_ctx.data


@dataclass
class Caller:
    """Who is calling: the actor the audit trail and histories record, the
    user id (None for system, CLI and machine calls), whether a call without a
    user is the platform's own (`trusted`: it started at a service or at the
    operators' CLI, by the broker's word), for an API token its id
    and the permissions it carries (its scope within its owner's rights: a
    service checking "within your own permissions" uses these, not the
    owner's), the client address, and, looked up once when first needed with
    `lookup_name(user_id)`, the user's display name."""
    actor: str
    user_id: uuid.UUID | None = None
    lookup_name: object = field(default=None, repr=False)
    token_id: str | None = None
    permissions: frozenset | None = None   # None: not said (CLI, system)
    address: str | None = None
    trusted: bool = False
    _name: str | None = field(default=None, repr=False)

    @classmethod
    def from_context(cls, context, lookup_name=None):
        try:
            user_id = uuid.UUID(str(context.get("user_id")))
        except ValueError:  # system, CLI and machine calls carry no user
            user_id = None
        permissions = context.get("permissions")
        return cls(context.get("actor") or "system", user_id, lookup_name, token_id=context.get("token_id"),
                   permissions=None if permissions is None else frozenset(permissions),
                   address=context.get("client_address"), trusted=user_id is None and context.get(TRUSTED) is True)

    @property
    def name(self):
        if self._name is None:
            found = self.lookup_name(self.user_id) if self.lookup_name and self.user_id else None
            self._name = found or self.actor
        return self._name


class ServiceBase:
    """Base of every MES nameko service class (not of the gateway)."""

    name = None
    context = WorkerContext()
    worker_metrics = Metrics()

    def _caller(self):
        """The Caller of this worker (a service that shows display names
        overrides it to look them up)."""
        return Caller.from_context(self.context)

    def _load_signed(self, schema, data, signer_gives=()):
        """Load the body of an action that signs a record. A person in a session
        (the gateway's users, `mes shell`) must give `signature` (and the fields
        `signer_gives`, such as the version they reviewed); a machine (an API
        token) cannot sign (403); the platform's own calls (no session: events,
        sagas, `nameko shell`) sign nothing and the record shows no signature."""
        if self.context.get("token_id"):
            raise errors.Forbidden("an e-signature needs a person signed in, not an API token",
                                   {"authorization": ["API token"]})
        if self.context.get("session_id"):
            return load(schema, data)
        self._require_trusted("an e-signature needs a person signed in")
        return load(schema, data, partial=("signature", *signer_gives))

    def _require_signer(self, what):
        """For a signature no platform call may stand in for (an MRB approval, a
        CAPA's effectiveness): a person in a session, or 403."""
        if not self.context.get("session_id"):
            raise errors.Forbidden(f"{what} is a person's signature: sign in", {"signature": ["no signed-in person"]})

    def _require_trusted(self, what):
        """Outside a person's session only a call that started at a service or at
        the operators' CLI (by the broker's word) may go unsigned: from the
        gateway's login, naming a user or not, a signed action needs a session."""
        if self.context.get(TRUSTED) is not True:
            raise errors.Forbidden(what, {"authorization": ["no session, and not a platform call"]})

    def _signature(self, record_type, record_id, meaning, credentials):
        """The auth service's answer to the calling person signing this record with
        the credentials they typed (mes_common.signatures), to store with
        `tx.sign(...)`; None for the platform's own calls. The service declares
        `auth = RpcClient("auth_service")`."""
        if not self.context.get("session_id"):
            self._require_trusted("an e-signature needs a person signed in")
            return None
        return signatures.check(self.auth, self.name, self.context, record_type, record_id, meaning, credentials)

    @rpc
    def ping(self):
        """Liveness over RPC: used by the gateway's /ready and `mes health`; says
        which broker login the caller has as far as this service knows (None: it
        published without a validated user-id)."""
        return {"service": self.name, "ok": True, "caller": self.context.get(BROKER_USER)}

    @rpc
    def replay_events(self, query=None):
        """A page of this service's event log (its outbox), for rebuilding a read
        model (`mes traceability rebuild`): the platform's own calls only."""
        self._require_trusted("the event log is read by the platform only")
        uow = getattr(type(self), "uow", None)
        if uow is None:
            raise errors.NotFound(f"{self.name} keeps no event log", {"service": self.name})
        return event_log(self.uow.session, uow.Outbox, load(EventLogQuery(), query))

    # the audit trail (mes_common.audit) of a service whose UnitOfWork has one

    def _audit_model(self):
        model = getattr(getattr(type(self), "uow", None), "Audit", None)
        if model is None:
            raise errors.NotFound(f"{self.name} keeps no audit trail", {"service": self.name})
        return model

    @rpc
    def verify_audit(self):
        """Walk the audit trail's hash chain: {ok, entries, first_broken}."""
        return audit.verify(self.uow.session, self._audit_model())

    @rpc
    def query_audit(self, filters=None):
        """A page of audit entries, newest first, filtered by entity, actor, action, time."""
        model = self._audit_model()
        return audit.query(self.uow.session, model, load(AuditQuery(), filters))
