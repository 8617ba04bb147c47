"""The Integration service's own tables (database mes_integration)."""
from sqlalchemy.orm import DeclarativeBase

from mes_common.audit import audit_model
from mes_common.signatures import signature_model
from mes_common.db import platform_models


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
Signature = signature_model(Base)
