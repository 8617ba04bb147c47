from mes_common.migrations import run_env
from integration_service.models import Base

run_env(Base.metadata)
