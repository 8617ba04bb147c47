from mes_common.migrations import run_env
from mes_common.tests.probe.models import Base

run_env(Base.metadata)
