"""The container deployment (ARCHITECTURE.md §8): docker-compose.yml, Dockerfile, entrypoint.

`docker-compose config` resolves the file with the variables of .env.example and
prints the result, which the tests check. No Docker engine is needed.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from mes_common import broker, registry

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"

# ARCHITECTURE.md §5 seed: service -> (host port, database = the service's role)
SEED = {
    "auth_service": (5432, "mes_auth"),
    "work_order_service": (5433, "mes_work_order"),
    "quality_service": (5434, "mes_quality"),
    "material_service": (5435, "mes_material"),
    "traceability_service": (5436, "mes_traceability"),
    "resource_service": (5437, "mes_resource"),
    "reporting_service": (5438, "mes_reporting"),
    "integration_service": (5439, "mes_integration"),
}
# every process of the registry has a container (a service added with `mes new-service` gets one)
APP_SERVICES = tuple(spec.name for spec in registry.processes())
DATABASE_SERVICES = [spec.name for spec in registry.SERVICES if spec.database]
EXTRA_DATABASES = len([name for name in DATABASE_SERVICES if name not in SEED])


def _compose_command():
    exe = shutil.which("docker-compose")
    if exe:
        return [exe]
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("docker-compose is not installed: install it (apt-get install docker-compose); "
                    "`make test` does")
    pytest.skip("docker-compose is not installed (apt-get install docker-compose)")


def _run_compose(env_file, *args):
    # A clean environment: only the env file decides (shell variables would override it),
    # and a developer's own .env is never read because --env-file names the file.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [*_compose_command(), "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE),
         "--env-file", str(env_file), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def env_example():
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@pytest.fixture(scope="module")
def compose():
    result = _run_compose(ENV_EXAMPLE, "config")
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def _published_ports(service):
    """{container port: host port} from short ("ip:host:container/proto") or long syntax."""
    ports = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports[int(entry["target"])] = int(entry["published"])
        else:
            spec = str(entry).split("/")[0]
            *_, host, container = spec.split(":")
            ports[int(container)] = int(host)
    return ports


def _environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return env


def _healthcheck_text(service):
    test = service.get("healthcheck", {}).get("test")
    return " ".join(test) if isinstance(test, list) else str(test or "")


def _postgres_services(services):
    return {name: svc for name, svc in services.items() if svc.get("image", "").startswith("postgres:")}


def _depends_on(service):
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # short syntax has no condition
        return {name: None for name in deps}
    return {name: (spec or {}).get("condition") for name, spec in deps.items()}


# ---- backing services ---------------------------------------------------------------------

def test_one_postgres_15_per_service_on_the_seed_ports(services):
    postgres = _postgres_services(services)
    assert len(postgres) == 8 + EXTRA_DATABASES, sorted(postgres)
    by_port = {}
    for name, svc in postgres.items():
        assert svc["image"] == "postgres:15", name
        assert _published_ports(svc).keys() == {5432}, name
        by_port[_published_ports(svc)[5432]] = (name, svc)

    assert sorted(by_port) == list(range(5432, 5440 + EXTRA_DATABASES))
    migrate = _environment(services["migrate"])
    for service_name, (port, db) in SEED.items():
        name, svc = by_port[port]
        env = _environment(svc)
        # the server's superuser is the migrate job's; the service's role and database are made by it
        assert env["POSTGRES_USER"] == "postgres" and "POSTGRES_DB" not in env, (service_name, name)
        assert env["POSTGRES_PASSWORD"], (service_name, name)
        variable = service_name[: -len("_service")].upper() + "_DATABASE_URL"
        if variable in migrate:
            url = urlsplit(migrate[variable])
            assert (url.hostname, url.path, url.username) == (name, f"/{db}", db), (service_name, url)
        assert "pg_isready" in _healthcheck_text(svc), name
        assert svc["restart"] == "unless-stopped", name
        volumes = [str(v).split(":") for v in svc.get("volumes", [])]
        data = [v for v in volumes if v[1] == "/var/lib/postgresql/data"]
        assert data and not data[0][0].startswith(("/", ".")), f"{name}: data must be a named volume"


def test_each_database_has_its_own_volume_and_its_service_role_its_own_password(services):
    postgres = _postgres_services(services)
    volumes = {str(v).split(":")[0] for svc in postgres.values() for v in svc["volumes"]}
    assert len(volumes) == 8 + EXTRA_DATABASES
    urls = [url for key, url in _environment(services["migrate"]).items() if key.endswith("_DATABASE_URL")]
    assert len(urls) == len(DATABASE_SERVICES)
    passwords = {urlsplit(url).password for url in urls} | {_environment(postgres["auth-db"])["POSTGRES_PASSWORD"]}
    assert len(passwords) == len(DATABASE_SERVICES) + 1, "every database role gets its own password"


def test_the_migrate_job_holds_the_superuser_and_the_services_do_not(services):
    """Attack 9: a service connects as a role that owns nothing (it cannot drop the audit
    trail's triggers); only the one-shot migrate job knows the servers' superuser."""
    job = services["migrate"]
    assert job["command"] in ("migrate", ["migrate"]) and job["restart"] == "no"
    admin = urlsplit(_environment(job)["MES_PG_ADMIN_URL"])
    superuser_password = _environment(_postgres_services(services)["auth-db"])["POSTGRES_PASSWORD"]
    assert (admin.username, admin.password) == ("postgres", superuser_password)
    assert {db for db, condition in _depends_on(job).items() if condition == "service_healthy"} >= {
        f"{registry.service(name).database[len('mes_'):].replace('_', '-')}-db" for name in DATABASE_SERVICES}
    for name in APP_SERVICES:
        env = _environment(services[name])
        assert superuser_password not in " ".join(map(str, env.values())), f"{name} knows the superuser's password"
        for key, url in env.items():
            if key.endswith("_DATABASE_URL"):
                assert urlsplit(url).username == registry.service(name).database, (name, url)
                assert env["MES_MIGRATE"] == "0" and _depends_on(services[name])["migrate"] == \
                    "service_completed_successfully", name


def test_rabbitmq_with_management_ui_and_a_remote_user(services):
    rabbit = services["rabbitmq"]
    assert rabbit["image"] == "rabbitmq:3.13-management"
    ports = _published_ports(rabbit)
    assert ports.get(15672) == 15672 and ports.get(5672) == 5672
    assert "rabbitmq-diagnostics" in _healthcheck_text(rabbit) and "ping" in _healthcheck_text(rabbit)
    env = _environment(rabbit)
    # guest can only log in from localhost: the containers need another user.
    assert env["RABBITMQ_DEFAULT_USER"] and env["RABBITMQ_DEFAULT_USER"] != "guest"
    assert env["RABBITMQ_DEFAULT_PASS"]
    assert any(str(v).split(":")[1] == "/var/lib/rabbitmq" for v in rabbit["volumes"])
    assert rabbit.get("hostname"), "a stable node name keeps the data volume usable"


def _redis_password(services):
    command = services["redis"].get("command") or []
    command = command.split() if isinstance(command, str) else command
    return command[command.index("--requirepass") + 1] if "--requirepass" in command else None


def test_redis(services):
    redis = services["redis"]
    assert redis["image"] == "redis:7"
    assert _published_ports(redis).get(6379) == 6379
    assert "redis-cli ping" in _healthcheck_text(redis)
    # the cache and the gateways' revoked-session list are not open to anyone on the network
    assert _redis_password(services), "Redis runs with --requirepass"
    assert _environment(redis)["REDISCLI_AUTH"] == _redis_password(services)  # the health check signs in


# ---- MES processes --------------------------------------------------------------------------

@pytest.mark.parametrize("name", APP_SERVICES)
def test_mes_process_definition(services, name):
    svc = services[name]
    assert svc["build"]["context"] == str(ROOT)
    command = svc["command"]
    assert (command if isinstance(command, str) else " ".join(command)) == name
    assert svc["restart"] == "unless-stopped"
    assert svc["healthcheck"]["test"] and not svc["healthcheck"].get("disable")
    limits = svc["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0 and limits["memory"]
    assert "profiles" not in svc, "a running MES process must start without a profile"
    deps = _depends_on(svc)
    assert {"rabbitmq", "redis"} <= deps.keys()
    assert {condition for dep, condition in deps.items() if dep != "migrate"} == {"service_healthy"}, deps
    env = _environment(svc)
    redis_url = urlsplit(env["REDIS_URL"])
    assert (redis_url.hostname, redis_url.port, redis_url.path) == ("redis", 6379, "/0")
    assert redis_url.password and redis_url.password == _redis_password(services), "Redis needs its password"
    assert env["GATEWAY_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("name", DATABASE_SERVICES)
def test_a_service_uses_only_its_own_database(services, name):
    svc = services[name]
    deps = _depends_on(svc)
    postgres = _postgres_services(services)
    own = [db for db in deps if db in postgres]
    assert len(own) == 1 and deps[own[0]] == "service_healthy"
    env = _environment(svc)
    variable = name[: -len("_service")].upper() + "_DATABASE_URL"
    assert [k for k in env if k.endswith("_DATABASE_URL")] == [variable]
    url = urlsplit(env[variable])
    assert (url.hostname, url.path) == (own[0], "/" + registry.service(name).database)


def test_the_gateway_reads_the_public_key_only(services):
    """A compromised gateway container must not be able to sign tokens: it
    mounts the volume of the public key, never the one of the private key."""
    auth, gateway = services["auth_service"], services["gateway"]
    # docker-compose 1.x prints short syntax: volume:target:mode
    assert "auth-keys:/var/lib/mes/auth:rw" in auth["volumes"]
    assert "auth-public:/var/lib/mes/auth-public:rw" in auth["volumes"]
    assert gateway["volumes"] == ["auth-public:/var/lib/mes/auth-public:ro"]
    public = "/var/lib/mes/auth-public/signing_key.pub.pem"
    assert _environment(auth)["AUTH_PUBLIC_KEY_FILE"] == _environment(gateway)["AUTH_PUBLIC_KEY_FILE"] == public
    assert _environment(gateway)["AUTH_GENERATE_KEYS"] == "false"
    assert _depends_on(gateway).get("auth_service") == "service_healthy"


def test_gateway_publishes_8000_after_the_services_are_healthy(services):
    gateway = services["gateway"]
    assert _published_ports(gateway) == {8000: 8000}
    assert all(_depends_on(gateway).get(name) == "service_healthy" for name in APP_SERVICES if name != "gateway")
    assert not [k for k in _environment(gateway) if k.endswith("_DATABASE_URL")]


def test_every_mes_process_has_a_module_in_the_source(services):
    """No container is defined for a service that does not exist yet."""
    for name, svc in services.items():
        if "build" not in svc or "profiles" in svc or name == "migrate":
            continue
        command = svc["command"] if isinstance(svc["command"], str) else svc["command"][0]
        assert (ROOT / command / "__init__.py").is_file(), f"{name}: no package {command}"


def test_database_urls_use_psycopg2_and_match_their_database(services):
    postgres = _postgres_services(services)
    migrate = _environment(services["migrate"])
    seen = 0
    for name, svc in services.items():
        for key, url in _environment(svc).items():
            if not key.endswith("_DATABASE_URL"):
                continue
            seen += 1
            assert url.startswith("postgresql+psycopg2://"), f"{name}.{key}: {url}"
            parts = urlsplit(url)
            assert parts.hostname in postgres and parts.port == 5432
            service = key[: -len("_DATABASE_URL")].lower() + "_service"
            database = registry.service(service).database
            assert (parts.path, parts.username) == ("/" + database, database), f"{key} points at {parts.path}"
            assert url == migrate[key], f"{name}.{key}: the migrate job made that role with another password"
    assert seen >= 1


def test_each_process_logs_in_to_the_broker_as_its_own_login(services):
    """Not as the broker's administrator: mes_<service>, mes_gateway (issue 10, item 3),
    with the password the migrate job created the login with."""
    rabbit, migrate = _environment(services["rabbitmq"]), _environment(services["migrate"])
    config = {"BROKER": {}}
    for name in APP_SERVICES:
        uri = urlsplit(_environment(services[name])["AMQP_URI"])
        assert uri.scheme == "amqp" and uri.hostname == "rabbitmq" and uri.port == 5672
        assert uri.username == broker.login(config, name) != rabbit["RABBITMQ_DEFAULT_USER"]
        assert uri.password == migrate[broker.password_env(name)], f"{name}: another password than its login's"
    admin = urlsplit(migrate["AMQP_URI"])
    assert (admin.username, admin.password) == (rabbit["RABBITMQ_DEFAULT_USER"], rabbit["RABBITMQ_DEFAULT_PASS"])
    assert urlsplit(migrate["MES_RABBITMQ_API"]).port == 15672
    assert migrate[broker.password_env(broker.CLI)]


def test_tools_profile(services):
    pgadmin = services["pgadmin"]
    assert pgadmin["image"].startswith("dpage/pgadmin4")
    assert pgadmin["profiles"] == ["tools"]
    assert 5050 in _published_ports(pgadmin).values()
    env = _environment(pgadmin)
    assert env["PGADMIN_DEFAULT_EMAIL"] and env["PGADMIN_DEFAULT_PASSWORD"]

    commander = services["redis-commander"]
    assert commander["image"].startswith("rediscommander/redis-commander")
    assert commander["profiles"] == ["tools"]
    assert 8081 in _published_ports(commander).values()


def test_no_secret_is_written_in_the_compose_file():
    text = COMPOSE_FILE.read_text()
    for key in ("POSTGRES_PASSWORD", "RABBITMQ_DEFAULT_PASS", "PGADMIN_DEFAULT_PASSWORD"):
        for value in re.findall(rf"^\s*{key}:\s*(\S+)", text, re.M):
            assert value.startswith("${") and ":?" in value, f"{key} must come from the environment"


def test_missing_variables_fail_with_a_pointer_to_env_example(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = _run_compose(empty, "config")
    assert result.returncode != 0
    assert ".env.example" in result.stderr


def test_env_example_defines_no_real_looking_secret(env_example):
    for key, value in env_example.items():
        if key.endswith(("_PASS", "_PASSWORD")):
            assert value.startswith("change-me"), f"{key}: .env.example holds placeholders only"


# ---- image ----------------------------------------------------------------------------------

def test_dockerfile_basics():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim|^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage"
    assert re.search(r"^USER mes$", text, re.M)
    assert re.search(r"^WORKDIR /app$", text, re.M)
    assert "config.yml" in text
    assert re.search(r"^HEALTHCHECK ", text, re.M)
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in text
    assert 'CMD ["gateway"]' in text


def test_dockerignore_keeps_local_state_out():
    entries = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".git", ".env", "bench/results", ".pytest_cache"} <= entries


# ---- entrypoint -----------------------------------------------------------------------------

def _entrypoint(*args, env=None):
    bin_dir = str(Path(sys.executable).parent)
    full_env = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "HOME": os.environ.get("HOME", "/tmp"), **(env or {})}
    return subprocess.run(["bash", str(ENTRYPOINT), *args], env=full_env,
                          capture_output=True, text=True, timeout=60)


def test_entrypoint_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert os.access(ENTRYPOINT, os.X_OK), "entrypoint.sh must be executable"


def test_entrypoint_runs_other_commands_as_given():
    result = _entrypoint("echo", "hello")
    assert result.returncode == 0 and result.stdout == "hello\n"


def test_entrypoint_rejects_an_unknown_service():
    result = _entrypoint("nosuch_service", env={"MES_CONFIG": str(ROOT / "config.yml")})
    assert result.returncode == 2
    assert "no module nosuch_service.service" in result.stderr


def test_entrypoint_gives_up_waiting_with_a_clear_message(tmp_path):
    package = tmp_path / "probe_service"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "service.py").write_text("")
    config = tmp_path / "config.yml"
    # port 1: nothing listens there
    config.write_text("AMQP_URI: amqp://mes:s3cret-pw@127.0.0.1:1/\n"
                      "DATABASE_URLS:\n"
                      "  probe_service: postgresql+psycopg2://mes_probe:s3cret-pw@127.0.0.1:1/mes_probe\n")
    result = _entrypoint("probe_service", env={
        "MES_CONFIG": str(config), "MES_WAIT_TIMEOUT": "1", "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 1, result.stderr
    assert "gave up after 1s waiting for the broker" in result.stderr
    assert "s3cret-pw" not in result.stderr, "passwords must not be logged"
    assert "nameko" not in result.stderr


def test_healthcheck_fails_when_nothing_answers():
    result = _entrypoint("health", env={"MES_SERVICE": "gateway", "GATEWAY_PORT": "1"})
    assert result.returncode == 1
    assert "/health" in result.stderr
