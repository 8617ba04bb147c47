"""Work order service (skeleton: being built for issue 4)."""
from mes_common.db import UnitOfWork
from mes_common.service import ServiceBase
from work_order_service.instruction_entrypoints import WorkInstructionEntrypoints
from work_order_service.models import AuditEntry, Base, InboxEvent, OutboxEvent


class WorkOrderService(WorkInstructionEntrypoints, ServiceBase):
    name = "work_order_service"

    uow = UnitOfWork(Base, OutboxEvent, InboxEvent, AuditEntry)
