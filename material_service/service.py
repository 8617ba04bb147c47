"""Material service (skeleton: being built for issue 4)."""
from mes_common.db import UnitOfWork
from mes_common.service import ServiceBase
from material_service.models import AuditEntry, Base, InboxEvent, OutboxEvent


class MaterialService(ServiceBase):
    name = "material_service"

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry)
