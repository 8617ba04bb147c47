from mes_common.migrations import run_env
from work_order_service.models import Base

run_env(Base.metadata)
