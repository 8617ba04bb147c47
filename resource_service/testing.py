"""Helpers for tests outside the resource service that must act as it does
(the system tests' second instance committing while the broker is down)."""
import datetime
from types import SimpleNamespace

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from mes_common.db import Transaction
from mes_common.schemas import load
from resource_service import hierarchy
from resource_service.contract import SERVICE, schemas
from resource_service.models import AuditEntry, InboxEvent, OutboxEvent


def outbox_figures(engine):
    O = OutboxEvent
    with engine.connect() as conn:
        pending = conn.execute(select(func.count()).where(O.published_at.is_(None))).scalar()
        ids = conn.execute(select(O.event_id)).scalars().all()
    return pending, {str(i) for i in ids}


def commit_as_another_instance(engine, parent_id, codes):
    """Create nodes with the resource service's own unit of work and domain code
    in this process: a second resource_service instance that commits while the
    broker is down (its relay cannot publish; the running one's sweep must)."""
    provider = SimpleNamespace(sessionmaker=sessionmaker(engine, expire_on_commit=False),
                               service_name=SERVICE, Outbox=OutboxEvent, Inbox=InboxEvent, Audit=AuditEntry,
                               # no relay here: nothing is leased, the running instance's sweep publishes
                               relay=SimpleNamespace(notify=lambda envelopes=(): None,
                                                     lease=datetime.timedelta(0)))
    created = []
    for code in codes:
        tx = Transaction(provider, None)
        try:
            with tx:
                data = load(schemas.NodeCreate(), {"level": "area", "code": code, "name": "while down",
                                                   "parent_id": parent_id})
                created.append(str(hierarchy.create(tx, data).id))
        finally:
            tx.close()
    return created
