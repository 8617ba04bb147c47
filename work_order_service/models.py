"""The work order service's own tables (database mes_work_order)."""
from sqlalchemy.orm import DeclarativeBase

from mes_common.audit import audit_model
from mes_common.db import platform_models


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
