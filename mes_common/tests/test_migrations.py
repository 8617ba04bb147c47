"""Every service database is built by its migrations, which match the models
and go down to base and back up."""
import importlib
import secrets

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from mes_common import infra, migrations, registry
from mes_common.db import make_engine

SERVICES = [s for s in registry.SERVICES if s.database] + [
    registry.ServiceSpec("mes_common.tests.probe", "", "probe", None)]


def models_of(spec):
    return importlib.import_module(f"{spec.name}.models")


def expected_metadata(spec):
    """The models as the migrations lay them out, and the compare options: a read
    model's tables (schema MODEL_SCHEMA) stand once in each of its GENERATIONS."""
    models = models_of(spec)
    generations = getattr(models, "GENERATIONS", ())
    if not generations:
        return models.Base.metadata, {}
    metadata = MetaData()
    for table in models.Base.metadata.tables.values():
        for schema in (generations if table.schema == models.MODEL_SCHEMA else (table.schema,)):
            table.to_metadata(metadata, schema=schema)
    return metadata, {"include_schemas": True,
                      "include_name": lambda name, type_, parents: type_ != "schema" or name in (None, *generations)}


@pytest.fixture
def scratch_url(pg_admin_url):
    name = f"mes_migrations_test_{secrets.token_hex(4)}"
    infra.create_database(pg_admin_url, name)
    yield infra.with_database(pg_admin_url, name)
    infra.drop_database(pg_admin_url, name)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_upgrade_downgrade_upgrade_and_models_match(spec, scratch_url):
    engine = make_engine(scratch_url, pool_size=1)
    try:
        migrations.upgrade(spec.name, scratch_url)
        tables = set(inspect(engine).get_table_names())
        assert {"outbox", "inbox", "alembic_version"} <= tables
        metadata, options = expected_metadata(spec)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts=options), metadata)
        assert diff == [], f"models and migrations disagree: {diff}"

        migrations.downgrade(spec.name, scratch_url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert migrations.current(spec.name, scratch_url) is None

        migrations.upgrade(spec.name, scratch_url)
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()
