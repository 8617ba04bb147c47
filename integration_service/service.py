"""Integration service: entrypoints only (ping and the audit trail, from
ServiceBase, so far: the imports come next, issue 16)."""
from mes_common.db import UnitOfWork
from mes_common.service import ServiceBase
from integration_service import contract
from integration_service.models import AuditEntry, Base, InboxEvent, OutboxEvent, Signature


class IntegrationService(ServiceBase):
    name = contract.SERVICE

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry, Signature)
