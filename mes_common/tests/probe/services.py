"""Stand-in services that exercise the platform: an emitter and a consumer."""
from sqlalchemy.exc import OperationalError

from mes_common.db import UnitOfWork
from mes_common.errors import PermanentEventError, Unavailable
from mes_common.events.handlers import event_handler
from mes_common.events.stream import event_stream
from mes_common.rpc import rpc
from mes_common.service import ServiceBase
from mes_common.tests.probe.models import Base, Effect, InboxEvent, OutboxEvent

HAPPENED = "mes.probe.thing.happened"
UNHEARD = "mes.probe.thing.unheard"

# tests flip these to make the consumer fail and then heal
behaviour = {"fail_subjects": set(), "permanent_subjects": set(), "unavailable": {}}


class ProbeEmitter(ServiceBase):
    name = "probe_emitter"
    uow = UnitOfWork(Base, OutboxEvent, InboxEvent)

    @rpc
    def emit(self, subjects, type_=HAPPENED):
        """One transaction emitting one event per subject."""
        with self.uow() as tx:
            ids = [tx.emit(type_, subject, {"subject": subject}).id for subject in subjects]
        return ids


    @rpc
    def read_while_the_database_is_away(self):
        """A read outside a transaction whose connection the database server closed."""
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


class ProbeConsumer(ServiceBase):
    name = "probe_consumer"
    uow = UnitOfWork(Base, OutboxEvent, InboxEvent)

    @event_handler("probe_emitter", HAPPENED)
    def on_happened(self, event):
        subject = event.data["subject"]
        if subject in behaviour["permanent_subjects"]:
            raise PermanentEventError(f"cannot apply {subject}")
        if behaviour["unavailable"].get(subject, 0) > 0:   # its database away this many more tries
            behaviour["unavailable"][subject] -= 1
            raise Unavailable("the database is unavailable")
        if subject in behaviour["fail_subjects"]:
            raise RuntimeError(f"handler bug on {subject}")
        self.uow.session.add(Effect(event_id=event.id, consumer="on_happened", subject=subject))


class ProbeStream(ServiceBase):
    """A read model's stream of the emitter's events (two instances in the replica tests)."""
    name = "probe_stream"
    uow = UnitOfWork(Base, OutboxEvent, InboxEvent)

    @event_stream("probe_emitter", {HAPPENED}, batch_size=50)
    def on_probe(self, events):
        self.uow.session.add_all([Effect(event_id=e.id, consumer="stream", subject=e.data["subject"])
                                  for e in events])
