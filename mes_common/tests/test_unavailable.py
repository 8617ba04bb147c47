"""A dependency away answers 503 (retry), never 500 (the drill's finding: a trace read while the
traceability database restarted answered 500)."""
import pytest

from mes_common import errors
from mes_common.rpc import ClusterRpcProxy
from mes_common.tests.probe.services import ProbeEmitter


def test_a_read_that_lost_its_database_answers_unavailable(probe_config, container_factory):
    container_factory(ProbeEmitter, probe_config).start()
    with ClusterRpcProxy(probe_config, timeout=10) as proxy:
        with pytest.raises(errors.Unavailable, match="database is unavailable"):
            proxy.probe_emitter.read_while_the_database_is_away()


def test_what_counts_as_a_dependency_away():
    from sqlalchemy.exc import OperationalError
    assert errors.unavailable(OperationalError("SELECT 1", {}, Exception("closed"))).http_status == 503
    assert errors.unavailable(ConnectionRefusedError()) is not None
    assert errors.unavailable(ValueError("a bug")) is None
    assert errors.unavailable(errors.RuleViolated("a rule", {})) is None
