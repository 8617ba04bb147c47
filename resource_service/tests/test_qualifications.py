"""Skills and qualifications in a real resource service (with the auth service
that knows the people): PostgreSQL, RabbitMQ, Redis.

One stack serves the module; each test makes skills and people of its own."""
import datetime as dt
import secrets
import uuid

import eventlet
import pytest
from kombu import Connection, Exchange
from nameko.containers import get_container_cls
from nameko.testing.services import entrypoint_hook
from sqlalchemy import text

from mes_common import broker, errors
from mes_common.events.dead_letters import dead_letter_count, list_dead_letters
from mes_common.events.envelope import CloudEvent
from mes_common.events.topology import handler_queue_name
from mes_common.rpc import ClusterRpcProxy
from mes_common.testing.fixtures import registered_classes, service_stack, wait_until
from resource_service.service import ResourceService

TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture(scope="module")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("qualifications", (*registered_classes("auth_service"), ResourceService),
                       base_config=base_config, service_databases=service_databases, engines=_engines,
                       cache_prefix=cache_prefix) as running, \
            ClusterRpcProxy(running.config, timeout=10, context_data={"actor": "quentin"}) as proxy:
        yield {"rpc": proxy.resource_service, "auth": proxy.auth_service, "engine": _engines["resource_service"],
               "container": running.containers[-1], "config": running.config}


@pytest.fixture(scope="module")
def rpc(stack):
    return stack["rpc"]


def new_person(stack, name="Olga Operator"):
    username = f"p{secrets.token_hex(4)}"
    return stack["auth"].create_user({"username": username, "display_name": name,
                                      "password": "correct horse battery staple 42", "roles": ["operator"]})


def new_skill(rpc, **extra):
    body = {"code": f"SK-{secrets.token_hex(3)}", "name": "Torque tightening",
            "levels": ["trainee", "qualified", "trainer"], "recertification_days": 365, **extra}
    return rpc.create_skill(body)


def events(engine, kind, subject):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT type, envelope->'data' FROM outbox WHERE type LIKE :kind AND subject = :s ORDER BY id"),
            {"kind": f"mes.resource.{kind}.%", "s": str(subject)})]


def work_center(rpc):
    ent = rpc.create_node({"level": "enterprise", "code": f"E-{secrets.token_hex(3)}", "name": "Acme Aero"})
    site = rpc.create_node({"level": "site", "code": "TLS", "name": "Toulouse", "parent_id": ent["id"]})
    area = rpc.create_node({"level": "area", "code": "ASSY", "name": "Assembly", "parent_id": site["id"]})
    return rpc.create_node({"level": "work_center", "code": "WC-20", "name": "Bench", "parent_id": area["id"]})


def days(n):
    return (TODAY + dt.timedelta(days=n)).isoformat()


# ------------------------------------------------------------------ the catalogue

def test_a_skill_is_created_changed_and_announced(rpc, stack):
    skill = new_skill(rpc)
    assert (skill["levels"], skill["recertification_days"], skill["active"], skill["version"]) == (
        ["trainee", "qualified", "trainer"], 365, True, 1)
    with pytest.raises(errors.Conflict):
        rpc.create_skill({"code": skill["code"], "name": "again"})
    changed = rpc.update_skill(skill["code"], {"levels": ["trainee", "qualified", "trainer", "master"],
                                              "version": 1})
    assert changed["levels"][-1] == "master" and changed["version"] == 2
    with pytest.raises(errors.RuleViolated) as fewer:
        rpc.update_skill(skill["code"], {"levels": ["only one"]})
    assert "levels" in fewer.value.details
    with pytest.raises(errors.Conflict):
        rpc.update_skill(skill["code"], {"name": "stale", "version": 1})
    assert [t for t, _ in events(stack["engine"], "skill", skill["id"])] == [
        "mes.resource.skill.created", "mes.resource.skill.updated"]


@pytest.mark.parametrize("body, field", [
    ({"recertification_days": -5}, "recertification_days"),
    ({"recertification_days": 0}, "recertification_days"),
    ({"levels": []}, "levels"),
    ({"levels": ["a", "a"]}, "levels"),
    ({"code": "has space"}, "code"),
])
def test_a_bad_skill_is_refused_naming_the_field(rpc, body, field):
    with pytest.raises(errors.ValidationFailed) as refused:
        new_skill(rpc, **body)
    assert field in refused.value.details


# ------------------------------------------------------------------ qualifications

def test_grant_supersede_revoke_keep_the_history_and_are_announced(rpc, stack):
    skill, person = new_skill(rpc), new_person(stack)
    grant = {"user_id": person["id"], "skill": skill["code"], "certificate_ref": "CERT-1", "assessor": "J. Okafor"}
    first = rpc.grant_qualification({**grant, "level": 1, "certified_on": days(-100)})
    assert (first["user_name"], first["level_name"], first["expires_on"], first["status"], first["granted_by"]) == (
        "Olga Operator", "trainee", days(265), "active", "quentin")
    second = rpc.grant_qualification({**grant, "level": 2, "certified_on": days(-1), "expires_on": days(100)})
    assert rpc.get_qualification(first["id"])["status"] == "superseded"
    revoked = rpc.revoke_qualification(second["id"], {"reason": "failed the annual torque audit"})
    assert (revoked["status"], revoked["end_reason"], revoked["ended_by"]) == (
        "revoked", "failed the annual torque audit", "quentin")
    with pytest.raises(errors.RuleViolated):
        rpc.revoke_qualification(second["id"], {"reason": "again"})
    history = rpc.list_qualifications({"user_id": person["id"]})["items"]
    assert [(q["level"], q["status"]) for q in history] == [(2, "revoked"), (1, "superseded")]
    assert [t for t, _ in events(stack["engine"], "qualification", first["id"])] == [
        "mes.resource.qualification.granted", "mes.resource.qualification.superseded"]
    (granted, data), (revoked_type, _) = events(stack["engine"], "qualification", second["id"])
    assert (granted, data["superseded_id"], revoked_type) == (
        "mes.resource.qualification.granted", first["id"], "mes.resource.qualification.revoked")


@pytest.mark.parametrize("change, field", [
    ({"skill": "NO-SUCH-SKILL"}, "skill"),
    ({"user_id": str(uuid.uuid4())}, "user_id"),
    ({"level": 4}, "level"),
    ({"certified_on": days(1)}, "certified_on"),
    ({"expires_on": days(-10)}, "expires_on"),        # before the certification
    ({"expires_on": days(400)}, "expires_on"),        # beyond the skill's 365 days
])
def test_a_bad_grant_is_refused_naming_the_field(rpc, stack, change, field):
    skill, person = new_skill(rpc), new_person(stack)
    body = {"user_id": person["id"], "skill": skill["code"], "level": 1, "certified_on": days(-5), **change}
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.grant_qualification(body)
    assert list(refused.value.details) == [field]
    assert rpc.list_qualifications({"user_id": person["id"]})["items"] == []


def test_the_check_names_the_skill_the_level_and_the_expiry(rpc, stack):
    torque, crimp, weld = new_skill(rpc), new_skill(rpc), new_skill(rpc, recertification_days=None)
    person = new_person(stack)
    need = [{"skill": torque["code"], "min_level": 2}, {"skill": crimp["code"], "min_level": 1},
            {"skill": weld["code"], "min_level": 1}]

    def shortfalls():
        answer = rpc.check_qualification({"user_id": person["id"], "requirements": need})
        assert answer["qualified"] is (answer["shortfalls"] == [])
        return [(s["skill"], s["problem"], s.get("expired_on")) for s in answer["shortfalls"]]

    assert shortfalls() == [(torque["code"], "not_qualified", None), (crimp["code"], "not_qualified", None),
                            (weld["code"], "not_qualified", None)]
    grant = {"user_id": person["id"]}
    rpc.grant_qualification({**grant, "skill": torque["code"], "level": 1, "certified_on": days(-10)})
    rpc.grant_qualification({**grant, "skill": crimp["code"], "certified_on": days(-400)})   # 365 days: expired
    rpc.grant_qualification({**grant, "skill": weld["code"], "certified_on": days(-4000)})   # lasts until revoked
    assert shortfalls() == [(torque["code"], "below_level", None), (crimp["code"], "expired", days(-35))]
    rpc.grant_qualification({**grant, "skill": torque["code"], "level": 3, "certified_on": days(0)})
    rpc.grant_qualification({**grant, "skill": crimp["code"], "certified_on": days(0)})
    assert shortfalls() == []


def test_the_expiry_timer_records_each_expiry_once_even_run_twice_at_once(rpc, stack):
    skill = new_skill(rpc, recertification_days=30)
    people = [new_person(stack, f"Person {i}") for i in range(3)]
    lapsed = [rpc.grant_qualification({"user_id": p["id"], "skill": skill["code"], "certified_on": days(-31 - i)})
              for i, p in enumerate(people[:2])]
    valid = rpc.grant_qualification({"user_id": people[2]["id"], "skill": skill["code"], "certified_on": days(-29)})

    def run_timer(container):
        with entrypoint_hook(container, "expire_qualifications") as expire:
            expire()
    # a second instance of the service: both timers run at once, as on two replicas
    second = get_container_cls(stack["config"])(ResourceService, broker.as_process(stack["config"], "resource_service"))
    second.start()
    try:
        for run in [eventlet.spawn(run_timer, c) for c in (stack["container"], second)]:
            run.wait()
    finally:
        second.kill()
    assert [rpc.get_qualification(q["id"])["status"] for q in lapsed] == ["expired", "expired"]
    assert rpc.get_qualification(valid["id"])["status"] == "active"
    for q in lapsed:
        expired = [t for t, _ in events(stack["engine"], "qualification", q["id"])
                   if t == "mes.resource.qualification.expired"]
        assert expired == ["mes.resource.qualification.expired"]   # once, whichever instance took it


def test_the_expiring_list_is_soonest_first(rpc, stack):
    skill = new_skill(rpc, recertification_days=100)
    people = [new_person(stack) for _ in range(3)]
    for person, certified in zip(people, (-95, -80, -10)):   # last valid days in 5, 20 and 90 days
        rpc.grant_qualification({"user_id": person["id"], "skill": skill["code"], "certified_on": days(certified)})
    soon = rpc.list_qualifications({"skill": skill["code"], "expiring_within_days": 30})["items"]
    assert [(q["user_id"], q["expires_on"]) for q in soon] == [(people[0]["id"], days(5)),
                                                                (people[1]["id"], days(20))]


def test_the_matrix_of_a_work_center_shows_what_its_routings_require(rpc, stack):
    wc = work_center(rpc)
    torque, crimp, other = new_skill(rpc), new_skill(rpc, recertification_days=60), new_skill(rpc)
    routing = rpc.create_routing({"part_id": str(uuid.uuid4()), "part_revision": "A", "operations": [
        {"sequence": 10, "name": "Assemble", "work_center_id": wc["id"], "setup_time": 5, "run_time": 1,
         "required_skills": [{"skill": torque["code"], "min_level": 2}, {"skill": crimp["code"]}]}]})
    rpc.release_routing(routing["id"], {"version": routing["row_version"]})
    ann, bob = new_person(stack, "Ann"), new_person(stack, "Bob")
    rpc.grant_qualification({"user_id": ann["id"], "skill": torque["code"], "level": 2, "certified_on": days(-1)})
    rpc.grant_qualification({"user_id": ann["id"], "skill": crimp["code"], "certified_on": days(-50)})
    rpc.grant_qualification({"user_id": bob["id"], "skill": torque["code"], "level": 1, "certified_on": days(-1)})
    rpc.grant_qualification({"user_id": bob["id"], "skill": other["code"], "certified_on": days(-1)})
    matrix = rpc.get_qualification_matrix({"work_center_id": wc["id"]})
    assert [(k["code"], k["min_level"], k["qualified"]) for k in matrix["skills"]] == sorted(
        [(torque["code"], 2, 1), (crimp["code"], 1, 1)])
    cells = {row["user_name"]: row["cells"] for row in matrix["people"]}
    assert cells["Ann"][crimp["code"]]["validity"] == "expiring"   # 10 days left of 60
    assert cells["Ann"][torque["code"]]["level_name"] == "qualified"
    assert set(cells["Bob"]) == {torque["code"]}                   # `other` is not required here


def test_a_routing_names_only_skills_of_the_catalogue_at_their_levels(rpc, stack):
    wc = work_center(rpc)
    skill = new_skill(rpc)
    op = {"sequence": 10, "name": "Assemble", "work_center_id": wc["id"], "setup_time": 5, "run_time": 1}
    for requirement, field in (({"skill": "NOPE"}, "operations.0.required_skills.0.skill"),
                               ({"skill": skill["code"], "min_level": 4}, "operations.0.required_skills.0.min_level")):
        with pytest.raises(errors.RuleViolated) as refused:
            rpc.create_routing({"part_id": str(uuid.uuid4()), "part_revision": "A",
                                "operations": [{**op, "required_skills": [requirement]}]})
        assert list(refused.value.details) == [field]


def test_a_renamed_person_shows_under_the_new_name_on_their_records(rpc, stack):
    skill, person = new_skill(rpc), new_person(stack, "Olga Operator")
    record = rpc.grant_qualification({"user_id": person["id"], "skill": skill["code"], "certified_on": days(-1)})
    stack["auth"].update_user(person["id"], {"display_name": "Olga Okafor"})
    wait_until(lambda: rpc.get_qualification(record["id"])["user_name"] == "Olga Okafor", timeout=10,
               message="the new name on the record")


def test_a_user_event_without_a_valid_id_is_dead_lettered_at_once(rpc, stack):
    queue = handler_queue_name("auth_service", "mes.auth.user.updated", "resource_service", "on_user_updated")
    before = dead_letter_count(stack["config"]["AMQP_URI"], queue)
    bad = CloudEvent.new("mes.auth.user.updated", "auth_service", "not-an-id",
                         {"id": "not-an-id", "username": "x", "display_name": "X", "active": True}).to_dict()
    exchange = Exchange("auth_service.events", type="topic", durable=True)
    with Connection(stack["config"]["AMQP_URI"]) as conn:
        conn.Producer().publish(bad, exchange=exchange, routing_key=bad["type"], serializer="json",
                                declare=[exchange])
    wait_until(lambda: dead_letter_count(stack["config"]["AMQP_URI"], queue) == before + 1, timeout=10,
               message="the poison event dead-lettered")
    letter = next(d for d in list_dead_letters(stack["config"]["AMQP_URI"], queue) if "'not-an-id'" in d["error"])
    assert letter["attempts"] == 1 and "no valid id" in letter["error"]   # never retried
