"""`mes new-service` on a copy of the shared files (no servers): the package
and route table are written, each shared file gets its marked block, and
--remove gives every file back as it was. (CI's run with a generated service:
see the README: `make test` runs its tests once it is generated.)"""
import ast
import shutil

import pytest
import yaml

from mes_common.commands.new_service import NewService, create, remove
from mes_common.config import ROOT

pytestmark = pytest.mark.fast

SHARED = ["mes_common/registry.py", "config.yml", ".env.example", "auth_service/contract/permissions.py",
          "docker-compose.yml"]


@pytest.fixture
def tree(tmp_path):
    for name in SHARED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "gateway" / "routes").mkdir(parents=True)
    return tmp_path


def test_a_new_service_is_written_and_wired_in_then_removed_without_a_trace(tree):
    before = {name: (tree / name).read_text() for name in SHARED}
    create(NewService("demo_service"), root=tree)

    package = tree / "demo_service"
    written = {str(p.relative_to(package)) for p in package.rglob("*") if p.is_file()}
    assert {"contract/__init__.py", "contract/schemas.py", "contract/events.py", "domain.py", "models.py",
            "items.py", "service.py", "migrations/env.py", "migrations/versions/0001_initial.py",
            "tests/conftest.py", "tests/test_items.py"} <= written
    for path in [*package.rglob("*.py"), tree / "gateway" / "routes" / "demo.py"]:
        source = path.read_text()
        ast.parse(source)  # valid Python
        assert "{{" not in source, path
    assert 'class DemoService(ServiceBase)' in (package / "service.py").read_text()

    registry = (tree / "mes_common/registry.py").read_text()
    assert 'ServiceSpec("demo_service", "demo_service.service:DemoService", "mes_demo", "DEMO_DATABASE_URL")' in registry
    assert ("  demo_service: !raw_env_var ${DEMO_DATABASE_URL:postgresql+psycopg2://mes_demo@127.0.0.1:5432/"
            "mes_demo}") in (tree / "config.yml").read_text()
    assert "DEMO_DB_PASSWORD=" in (tree / ".env.example").read_text()
    assert '"demo:read"' in (tree / "auth_service/contract/permissions.py").read_text()
    compose = yaml.safe_load((tree / "docker-compose.yml").read_text())
    assert compose["services"]["demo_service"]["command"] == "demo_service"
    assert compose["services"]["demo-db"]["ports"] and "demo-db" in compose["services"]["migrate"]["depends_on"]
    assert compose["services"]["migrate"]["environment"]["DEMO_DATABASE_URL"].endswith("@demo-db:5432/mes_demo")
    assert compose["services"]["demo_service"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"}
    assert "demo_service" in compose["services"]["gateway"]["depends_on"]
    assert "demo-db-data" in compose["volumes"]

    remove(NewService("demo_service"), root=tree)
    assert not package.exists() and not (tree / "gateway" / "routes" / "demo.py").exists()
    assert {name: (tree / name).read_text() for name in SHARED} == before


def test_a_service_of_the_design_keeps_its_seeded_database_and_settings(tree):
    create(NewService("quality_service"), root=tree)
    compose = (tree / "docker-compose.yml").read_text()
    assert compose.count("\n  quality-db:\n") == 1          # seeded already: not added again
    config = (tree / "config.yml").read_text()
    assert config.count("  quality_service: ") == 1
    assert "quality_service (mes new-service)" in (tree / "mes_common/registry.py").read_text()
    assert "quality_service" not in (tree / "auth_service/contract/permissions.py").read_text()  # its own exist


@pytest.mark.parametrize("name", ["Demo_service", "demo", "demo-service", "1_service", "demo__service"])
def test_a_name_that_is_not_a_service_name_is_refused_before_anything_is_written(name):
    from click.testing import CliRunner
    from mes_common.cli import main
    result = CliRunner().invoke(main, ["new-service", name])
    assert result.exit_code == 2 and "ending in _service" in result.output
    assert not (ROOT / name).exists()
