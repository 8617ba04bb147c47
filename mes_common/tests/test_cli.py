"""The operator's `mes` commands against real servers."""
import json
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner
from nameko.testing.services import entrypoint_hook

from mes_common import migrations
from mes_common.cli import main
from mes_common.events.dead_letters import dead_letter_count
from mes_common.events.topology import handler_queue_name
from mes_common.testing.fixtures import wait_until
from mes_common.tests.probe.services import HAPPENED, ProbeConsumer, ProbeEmitter

QUEUE = handler_queue_name("probe_emitter", HAPPENED, "probe_consumer", "on_happened")


def run(config_path, *args):
    result = CliRunner().invoke(main, ["--config", str(config_path), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_dlq_list_and_replay(probe_config, container_factory, probe_behaviour, probe_engines, tmp_path):
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump(probe_config))
    consumer = container_factory(ProbeConsumer, probe_config)
    consumer.start()
    emitter = container_factory(ProbeEmitter, probe_config)
    emitter.start()
    probe_behaviour["fail_subjects"].update({"x1", "x2"})
    with entrypoint_hook(emitter, "emit") as emit:
        first, second = emit(["x1", "x2"])
    wait_until(lambda: dead_letter_count(probe_config["AMQP_URI"], QUEUE) == 2, message="2 dead letters")

    code, out = run(config_path, "dlq", "list", QUEUE)
    assert code == 0 and out.startswith("     2  " + QUEUE + ".dlq"), out
    assert first in out and "handler bug on x1" in out

    code, out = run(config_path, "dlq", "list", QUEUE, "--json")
    assert {m["event_id"] for m in json.loads(out)[0]["messages"]} == {first, second}

    probe_behaviour["fail_subjects"].clear()
    code, out = run(config_path, "dlq", "replay", QUEUE, "--id", second)
    assert code == 0 and "replayed 1 event(s)" in out
    assert dead_letter_count(probe_config["AMQP_URI"], QUEUE) == 1
    code, out = run(config_path, "dlq", "replay", QUEUE)
    assert "replayed 1 event(s)" in out
    wait_until(lambda: dead_letter_count(probe_config["AMQP_URI"], QUEUE) == 0, message="empty DLQ")

    from sqlalchemy import text

    def applied():  # out of the DLQ is not yet handled: the replayed message may still be on its way
        with probe_engines["probe_consumer"].connect() as conn:
            return conn.execute(text("SELECT subject FROM effect ORDER BY id")).scalars().all()
    wait_until(lambda: len(applied()) == 2, message="both replayed events applied")
    assert applied() == ["x2", "x1"]


def test_outbox_status_and_migrate(mes_config, tmp_path, db_engines):
    """An unroutable event some service consumes is FAILING (exit 1); one that
    no service consumes yet is parked (exit 0)."""
    from sqlalchemy import text
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump(mes_config))
    insert = text("INSERT INTO outbox (event_id, type, source, envelope, attempts, last_error) VALUES "
                  "(gen_random_uuid(), :type, 'resource_service', '{}', 3, 'unroutable: x')")
    with db_engines["resource_service"].begin() as conn:
        conn.execute(insert, {"type": "mes.resource.skill.created"})    # nobody consumes it yet
    code, out = run(config_path, "outbox", "status", "resource_service")
    assert code == 0, out
    assert "resource_service: 1 pending" in out
    assert "parked until a consumer binds: 1 x mes.resource.skill.created" in out
    assert "FAILING" not in out
    with db_engines["resource_service"].begin() as conn:
        conn.execute(insert, {"type": "mes.resource.site.updated"})    # the work order service consumes it
    code, out = run(config_path, "outbox", "status", "resource_service")
    assert code == 1, out
    assert "resource_service: 2 pending" in out and "FAILING 1 x mes.resource.site.updated" in out
    code, out = run(config_path, "migrate", "resource_service")
    head = migrations.head("resource_service")
    assert code == 0 and f"resource_service: {head} -> {head} (as mes_resource_test_" in out and "_owner)" in out, out


def test_infra_check_names_what_is_missing(base_config, tmp_path):
    config = {**base_config, "REDIS_URL": "redis://127.0.0.1:1/0"}
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    code, out = run(config_path, "infra", "check", "--no-start")
    assert code == 1, out
    assert "Redis" in out and "MISSING" in out and "Traceback" not in out
    assert "PostgreSQL" in out and "RabbitMQ" in out


def test_infra_check_asks_the_broker_as_the_installation_not_as_a_stale_process_login(base_config, tmp_path):
    """The operators' login password in the local file no longer matches the broker (another checkout ran
    `mes infra logins`): whether RabbitMQ answers is still checked, with AMQP_URI as given."""
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"mes_cli": "not-the-password-any-more"}))
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump({**base_config, "BROKER": {"PASSWORDS_FILE": str(passwords)}}))
    code, out = run(config_path, "infra", "check", "--no-start")
    rabbit = next(line for line in out.splitlines() if line.startswith("RabbitMQ"))
    assert " ok " in rabbit and "ACCESS_REFUSED" not in out, out


def test_run_refuses_to_start_processes_whose_broker_login_is_refused(base_config, tmp_path):
    """A stale password (another checkout re-ran `mes infra logins`) would crash-loop every process:
    `mes run` says so before it starts any, and how to mend it."""
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"mes_resource": "not-the-password-any-more"}))
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump({**base_config, "BROKER": {"PASSWORDS_FILE": str(passwords)}}))
    result = CliRunner().invoke(main, ["--config", str(config_path), "run", "resource_service"])
    assert result.exit_code == 1, result.output
    assert "refuses the login of mes_resource" in result.output and "mes infra logins" in result.output
    assert "supervising" not in result.output


def test_migrate_refuses_a_service_role_that_could_drop_the_audit_triggers(mes_config, tmp_path):
    """Attack 9: a service that connects as a superuser (a container volume made before
    owner roles existed) could drop its audit trail's triggers: `mes migrate` says so, exit 1."""
    from mes_common.testing.fixtures import admin_url

    urls = mes_config["DATABASE_URLS"]
    config = {**mes_config, "DATABASE_URLS": {**urls, "resource_service": admin_url(urls["resource_service"])}}
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    code, out = run(config_path, "migrate", "resource_service")
    assert code == 1 and "resource_service: UNSAFE: the service role " in out and "is a superuser" in out, out
    config_path.write_text(yaml.safe_dump(mes_config))
    code, out = run(config_path, "migrate", "resource_service")
    assert code == 0 and "UNSAFE" not in out, out


@pytest.mark.fast
def test_the_process_runner_patches_before_kombu_binds_a_blocking_sleep():
    """nameko's run patches only when its command starts; a wrapper importing
    nameko.cli.run before that left kombu's retry loop on the blocking
    time.sleep, freezing a service while the broker was down."""
    probe = ("import mes_common.nameko_cli, kombu.utils.functional as f; "
             "from eventlet.green import time; print(f.sleep is time.sleep)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr
