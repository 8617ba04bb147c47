"""Work instructions: the pure rules (step definitions, buy-off values) and
the RPCs in the package's work order service container (PostgreSQL,
RabbitMQ, Redis): each test's codes start with a tag of its own."""
import uuid

import pytest
from mes_common.rpc import ClusterRpcProxy
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mes_common import errors
from work_order_service.instructions import rules, use_cases as instructions
from work_order_service.testing import new_tag
from mes_common.testing.records import records, unsigned

USER_ID = str(uuid.uuid4())

STEPS = [
    {"title": "Torque the fasteners", "text": "Cross pattern, two passes.", "fields": [
        {"name": "torque", "type": "number", "required": True, "unit": "N·m", "min": 20, "max": 25},
        {"name": "wrench_id", "type": "text", "required": True},
        {"name": "witness_mark", "type": "boolean"},
        {"name": "finish", "type": "choice", "choices": ["primer", "paint"]},
    ]},
    {"title": "Clean up", "fields": []},
]


# ------------------------------------------------------------------ pure rules

def test_normalized_steps_have_every_key():
    assert rules.normalize_steps(STEPS[1:]) == [{"title": "Clean up", "text": "", "fields": []}]
    torque = rules.normalize_steps(STEPS)[0]["fields"][0]
    assert torque == {"name": "torque", "type": "number", "required": True, "unit": "N·m", "min": 20, "max": 25,
                      "choices": None}


def test_step_field_definitions_are_checked():
    rules.check_steps(STEPS)
    with pytest.raises(errors.ValidationFailed) as exc:
        rules.check_steps([])
    assert "steps" in exc.value.details
    bad = [{"title": "ok", "fields": [{"name": "a", "type": "number"}]},
           {"title": "bad", "fields": [
               {"name": "a", "type": "number", "min": 5, "max": 1},
               {"name": "a", "type": "text", "unit": "mm"},
               {"name": "c", "type": "choice"},
               {"name": "d", "type": "choice", "choices": ["x", "x"]},
               {"name": "e", "type": "boolean", "choices": ["y"], "min": 0},
               {"name": "f", "type": "date"}]}]
    with pytest.raises(errors.ValidationFailed) as exc:
        rules.check_steps(bad)
    assert exc.value.details == {
        "steps.1.fields.0.max": ["must not be less than min (5)"],
        "steps.1.fields.1.name": ["'a' is already field 0 of this step"],
        "steps.1.fields.1.unit": ["only a number field has unit"],
        "steps.1.fields.2.choices": ["a choice field needs at least one choice"],
        "steps.1.fields.3.choices": ["choices must be unique"],
        "steps.1.fields.4.choices": ["only a choice field has choices"],
        "steps.1.fields.4.min": ["only a number field has min"],
        "steps.1.fields.5.type": ["must be one of number, text, boolean, choice"],
    }


def test_relations_the_document_cannot_state_are_broken_rules():
    """Duplicate names and min above max pass the OpenAPI schema: 422, not 400."""
    with pytest.raises(errors.RuleViolated) as exc:
        rules.check_steps([{"title": "s", "fields": [{"name": "a", "type": "number", "min": 5, "max": 1},
                                                     {"name": "a", "type": "text"}]}])
    assert exc.value.details == {"steps.0.fields.0.max": ["must not be less than min (5)"],
                                 "steps.0.fields.1.name": ["'a' is already field 0 of this step"]}


def test_transitions():
    rules.check_transition("WI", 1, "draft", "released")
    rules.check_transition("WI", 1, "draft", "obsolete")
    rules.check_transition("WI", 1, "released", "obsolete")
    for current, target in [("released", "released"), ("obsolete", "released"), ("released", "draft")]:
        with pytest.raises(errors.RuleViolated) as exc:
            rules.check_transition("WI", 2, current, target)
        assert exc.value.details == {"status": [f"is {current}; cannot become {target}"]}
        assert "WI version 2" in exc.value.message


def test_buy_off_values_are_checked_against_the_frozen_step():
    step = rules.normalize_steps(STEPS)[0]
    assert rules.validate_buy_off(step, {"torque": 22.5, "wrench_id": "TW-7", "witness_mark": False}) == {
        "torque": 22.5, "wrench_id": "TW-7", "witness_mark": False}
    assert rules.validate_buy_off(step, {"torque": 20, "wrench_id": "TW-7", "finish": "paint", "witness_mark": None}) \
        == {"torque": 20, "wrench_id": "TW-7", "finish": "paint"}
    cases = [
        ({"wrench_id": "TW-7"}, {"values.torque": ["a value is required"]}),
        ({"torque": 19.9, "wrench_id": "TW-7"}, {"values.torque": ["must be at least 20 N·m"]}),
        ({"torque": 26, "wrench_id": "TW-7"}, {"values.torque": ["must be at most 25 N·m"]}),
        ({"torque": "22", "wrench_id": "TW-7"}, {"values.torque": ["must be a number"]}),
        ({"torque": True, "wrench_id": "TW-7"}, {"values.torque": ["must be a number"]}),
        ({"torque": float("nan"), "wrench_id": "TW-7"}, {"values.torque": ["must be a number"]}),
        ({"torque": 22, "wrench_id": "  "}, {"values.wrench_id": ["a value is required"]}),
        ({"torque": 22, "wrench_id": 7}, {"values.wrench_id": ["must be text"]}),
        ({"torque": 22, "wrench_id": "a\x00b"},
         {"values.wrench_id": ["must not contain NUL characters or lone surrogates"]}),
        ({"torque": 22, "wrench_id": "x", "witness_mark": "yes"}, {"values.witness_mark": ["must be true or false"]}),
        ({"torque": 22, "wrench_id": "x", "finish": "chrome"}, {"values.finish": ["must be one of primer, paint"]}),
        ({"torque": 22, "wrench_id": "x", "colour": "red"},
         {"values.colour": ["not a field of this step (fields: torque, wrench_id, witness_mark, finish)"]}),
    ]
    for values, details in cases:
        with pytest.raises(errors.ValidationFailed) as exc:
            rules.validate_buy_off(step, values)
        assert exc.value.details == details, values
    with pytest.raises(errors.ValidationFailed) as exc:  # every problem at once
        rules.validate_buy_off(step, {"torque": 30, "finish": "chrome"})
    assert set(exc.value.details) == {"values.torque", "values.wrench_id", "values.finish"}
    with pytest.raises(errors.ValidationFailed) as exc:
        rules.validate_buy_off(step, ["torque"])
    assert "values" in exc.value.details
    assert rules.validate_buy_off(rules.normalize_steps(STEPS)[1], None) == {}  # a step without fields


# ------------------------------------------------------------------ the service

@pytest.fixture(scope="module")
def rpc(stack):
    """Calls as eve, a user of this module's own."""
    with ClusterRpcProxy(stack.config, timeout=10, context_data={"actor": "eve", "user_id": USER_ID}) as proxy:
        yield proxy.work_order_service


@pytest.fixture
def engine(db):
    return db


@pytest.fixture
def wi():
    """The codes of one test: wi("TORQUE") is WI-<tag>-TORQUE, wi() the prefix WI-<tag>."""
    tag = new_tag()
    return lambda *name: "-".join(("WI", tag, *name))


def frozen(engine, *codes):
    with Session(engine) as session:
        return instructions.freeze(session, codes)


def test_versions_release_and_freeze(rpc, engine, wi):
    torque, other_code = wi("TORQUE"), wi("OTHER")
    v1 = rpc.create_work_instruction({"code": torque, "title": "Torque", "steps": STEPS})
    assert (v1["version"], v1["status"], v1["created_by"], v1["released_at"]) == (1, "draft", "eve", None)
    assert v1["steps"] == rules.normalize_steps(STEPS)
    v2 = rpc.revise_work_instruction(torque, {"title": "Torque (rev)", "steps": STEPS[:1]})
    assert (v2["version"], v2["status"]) == (2, "draft")
    other = rpc.create_work_instruction({"code": other_code, "title": "Other", "steps": STEPS[1:]})
    assert frozen(engine, torque, other_code) == {}  # drafts are never frozen

    released = rpc.release_work_instruction(torque, 1)
    assert (released["status"], released["released_by"]) == ("released", "eve") and released["released_at"]
    assert frozen(engine, torque, other_code, None) == {
        torque: {"code": torque, "version": 1, "title": "Torque", "steps": v1["steps"]}}
    rpc.release_work_instruction(torque, 2)
    rpc.release_work_instruction(other_code, 1)
    assert rpc.get_work_instruction(torque, {"version": 1})["status"] == "obsolete"
    v3 = rpc.revise_work_instruction(torque, {"title": "Torque v3", "steps": STEPS})
    assert {code: f["version"] for code, f in frozen(engine, torque, other_code).items()} == {
        torque: 2, other_code: 1}  # the latest RELEASED, not the newest draft
    assert rpc.get_work_instruction(torque)["version"] == 3  # newest, whatever its status
    assert rpc.get_work_instruction(torque, {"version": 2})["title"] == "Torque (rev)"

    page = rpc.list_work_instructions({"code": wi("T"), "limit": 2})
    rest = rpc.list_work_instructions({"code": wi("T"), "limit": 2, "cursor": page["next_cursor"]})
    assert [i["version"] for i in page["items"] + rest["items"]] == [1, 2, 3] and rest["next_cursor"] is None
    listed = rpc.list_work_instructions({"status": "released", "code": wi()})["items"]
    assert [(i["code"], i["version"]) for i in listed] == [(other_code, 1), (torque, 2)]

    ids = [v1["id"], v2["id"], other["id"], v3["id"]]
    events = records(engine, "SELECT type, subject, envelope->'data' AS data, envelope->>'actor' AS actor "
                          "FROM outbox WHERE subject = ANY(:ids) ORDER BY id", ids=ids)
    assert [(e["type"].rsplit(".", 1)[1], e["subject"]) for e in events] == [
        ("created", v1["id"]), ("revised", v2["id"]), ("created", other["id"]), ("released", v1["id"]),
        ("released", v2["id"]), ("released", other["id"]), ("revised", v3["id"])]
    assert {e["type"] for e in events} == set(instructions.EVENT_TYPES) and {e["actor"] for e in events} == {"eve"}
    assert events[0]["data"] == unsigned(v1)   # the version, unsigned
    assert [e["data"]["obsoleted_versions"] for e in events[3:6]] == [[], [1], []]

    log = records(engine, "SELECT actor, action, entity_type, entity_id, reason FROM audit_log "
                       "WHERE entity_id = ANY(:ids) ORDER BY id", ids=ids)
    assert [(e["action"], e["entity_id"]) for e in log] == [
        ("create", v1["id"]), ("revise", v2["id"]), ("create", other["id"]), ("release", v1["id"]),
        ("obsolete", v1["id"]), ("release", v2["id"]), ("release", other["id"]), ("revise", v3["id"])]
    assert {(e["actor"], e["entity_type"]) for e in log} == {("eve", "work_instruction")}
    assert log[4]["reason"] == "version 2 released"
    assert rpc.verify_audit()["ok"] is True
    stored = records(engine, "SELECT created_by_id, released_by_id FROM work_instruction WHERE id = :id", id=v2["id"])
    assert [str(v) for v in stored[0].values()] == [USER_ID, USER_ID]


def test_released_versions_are_immutable(rpc, engine, wi):
    code = wi("1")
    rpc.create_work_instruction({"code": code, "title": "One", "steps": STEPS})
    rpc.revise_work_instruction(code, {"title": "Two", "steps": STEPS})
    rpc.release_work_instruction(code, 1)
    with pytest.raises(errors.RuleViolated):
        rpc.release_work_instruction(code, 1)  # already released
    rpc.release_work_instruction(code, 2)
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.release_work_instruction(code, 1)  # obsolete: final
    assert exc.value.details == {"status": ["is obsolete; cannot become released"]}
    # and the database refuses any change of a released or obsolete version, or its deletion
    for sql in ("UPDATE work_instruction SET steps = '[]' WHERE version = 2",
                "UPDATE work_instruction SET title = 'edited' WHERE version = 1",
                "UPDATE work_instruction SET status = 'draft' WHERE version = 2",
                "DELETE FROM work_instruction WHERE version = 2"):
        with pytest.raises(IntegrityError, match=f"work instruction {code} version"), engine.begin() as conn:
            conn.execute(text(sql + " AND code = :code"), {"code": code})
    assert rpc.get_work_instruction(code)["steps"] == rules.normalize_steps(STEPS)
    draft = rpc.revise_work_instruction(code, {"title": "Three", "steps": STEPS})
    with engine.begin() as conn:  # a draft is still work in progress
        conn.execute(text("UPDATE work_instruction SET title = 'Three!' WHERE id = :id"), {"id": draft["id"]})


def test_bad_input_names_the_field(rpc, wi):
    code = wi("1")
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_work_instruction({"code": "WI 1", "title": "", "steps": [{"title": "s", "fields": [
            {"name": "a", "type": "date"}]}]})
    assert set(exc.value.details) == {"code", "title", "steps"}
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_work_instruction({"code": code, "title": "t", "steps": [{"title": "s", "fields": [
            {"name": "a", "type": "number"}, {"name": "a", "type": "choice"}]}]})
    assert exc.value.details == {"steps.0.fields.1.name": ["'a' is already field 0 of this step"],
                                 "steps.0.fields.1.choices": ["a choice field needs at least one choice"]}
    rpc.create_work_instruction({"code": code, "title": "t", "steps": STEPS})
    with pytest.raises(errors.Conflict) as exc:
        rpc.create_work_instruction({"code": code, "title": "t", "steps": STEPS})
    assert exc.value.details == {"code": ["already used"]}
    with pytest.raises(errors.NotFound):
        rpc.revise_work_instruction(wi("2"), {"title": "t", "steps": STEPS})
    with pytest.raises(errors.NotFound) as exc:
        rpc.release_work_instruction(code, 9)
    assert exc.value.message == f"work instruction {code} version 9 does not exist"
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.release_work_instruction(code, "x")
    assert "version" in exc.value.details
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.get_work_instruction("WI\x00")
    assert "code" in exc.value.details


def test_a_person_cannot_release_unsigned_nor_while_the_auth_service_is_down(stack, rpc, wi):
    """A person in a session signs a release; with no auth service to check the
    signature (none runs in this stack), the answer is Unavailable and nothing changes."""
    code = wi("DOWN")
    rpc.create_work_instruction({"code": code, "title": "Torque", "steps": STEPS})
    person = {"actor": "eve", "user_id": USER_ID, "session_id": str(uuid.uuid4())}
    with ClusterRpcProxy(stack.config, timeout=10, context_data=person) as proxy:
        with pytest.raises(errors.ValidationFailed) as exc:
            proxy.work_order_service.release_work_instruction(code, 1, {})
        assert "signature" in exc.value.details
        with pytest.raises(errors.Unavailable) as exc:
            proxy.work_order_service.release_work_instruction(code, 1, {"signature": {"password": "x" * 12}})
        assert exc.value.details == {"service": "auth_service"}
    assert rpc.get_work_instruction(code)["status"] == "draft"

