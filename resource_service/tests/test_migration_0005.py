"""Migration 0005 turns the routings' free-text skill into requirements of the
new catalogue (or keeps it as a note, listed), and a routing released (signed)
before keeps a valid signature."""
import secrets
import uuid

import pytest
from sqlalchemy import text

from mes_common import infra, migrations
from mes_common.db import make_engine
from resource_service import routings
from resource_service.models import Routing
from sqlalchemy.orm import Session


@pytest.fixture
def scratch(pg_admin_url):
    name = f"mes_resource_0005_{secrets.token_hex(4)}"
    infra.create_database(pg_admin_url, name)
    url = infra.with_database(pg_admin_url, name)
    engine = make_engine(url, pool_size=1)
    yield url, engine
    engine.dispose()
    infra.drop_database(pg_admin_url, name)


def test_free_text_becomes_requirements_or_notes_and_signed_content_is_unchanged(scratch, capsys):
    url, engine = scratch
    migrations.upgrade("resource_service", url, "0004")
    node, routing = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO equipment_node (id, level, code, name, path, depth, version) "
                          "VALUES (:id, 'work_center', 'WC-1', 'Bench', :path, 0, 1)"), {"id": node, "path": f"/{node}/"})
        conn.execute(text("INSERT INTO routing (id, part_id, part_revision, version, status, row_version) "
                          "VALUES (:id, :part, 'A', 1, 'released', 1)"), {"id": routing, "part": uuid.uuid4()})
        for seq, skill in ((10, "torque"), (20, "bench fitter, 2 years"), (30, None)):
            conn.execute(text("INSERT INTO routing_operation (id, routing_id, sequence, name, work_center_id, "
                              "setup_time, run_time, required_skill) VALUES (:id, :r, :s, 'op', :wc, 1, 1, :skill)"),
                         {"id": uuid.uuid4(), "r": routing, "s": seq, "wc": node, "skill": skill})
    with engine.connect() as conn:   # what a release signed before 0005: the operations' columns of then
        before = [dict(zip(routings.SIGNED_BEFORE_SKILLS, row)) for row in conn.execute(text(
            f"SELECT {', '.join(routings.SIGNED_BEFORE_SKILLS)} FROM routing_operation ORDER BY sequence"))]
    capsys.readouterr()
    migrations.upgrade("resource_service", url, "0005")
    out = capsys.readouterr().out
    assert "skills made from routing text (now required at level 1): torque" in out
    assert "kept as skill_note (no skill code; review and name skills): 'bench fitter, 2 years'" in out
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sequence, required_skills, skill_note FROM routing_operation "
                                 "ORDER BY sequence")).all()
        skills = conn.execute(text("SELECT code, levels FROM skill")).all()
    assert rows == [(10, [{"skill": "torque", "min_level": 1}], None), (20, [], "bench fitter, 2 years"),
                    (30, [], None)]
    assert skills == [("torque", ["qualified"])]
    migrations.upgrade("resource_service", url, "head")   # the model is head's; later columns sign only when set
    with Session(engine) as session:
        assert routings.signed_content(session.get(Routing, routing))["operations"] == before
