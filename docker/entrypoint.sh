#!/usr/bin/env bash
# Container entrypoint of the MES image (ARCHITECTURE.md §8).
#
#   entrypoint.sh gateway            wait for the broker, then run the gateway
#   entrypoint.sh <name>_service     wait for the broker and the service's own
#                                    database, `mes migrate <name>_service`, then
#                                    run the service
#   entrypoint.sh migrate            wait for every database server, then `mes db create`,
#                                    `mes infra logins` and `mes migrate` as the superusers
#                                    (compose's one-shot job)
#   entrypoint.sh migrate SERVICE... the same for these services' databases only, no broker
#                                    (Kubernetes: one migration Job per service)
#   entrypoint.sh broker-logins      `mes infra logins` alone (Kubernetes: the broker's Job)
#   entrypoint.sh await-schema SERVICE
#                                    wait until the service's database is at this image's
#                                    newest migration (Kubernetes: the pods' init container)
#   entrypoint.sh health             container healthcheck of whatever PID 1 runs
#                                    (gateway: GET /health; a service: `mes health`)
#   entrypoint.sh <command> [args]   anything else is exec'd as is
#                                    (e.g. `docker compose run --rm resource_service mes dlq list`)
#
# Extra arguments after a service name go to `nameko run` (e.g. --backdoor-port 3000).
#
# Environment (besides what config.yml reads):
#   MES_CONFIG        config file (default /app/config.yml)
#   MES_WAIT_TIMEOUT  seconds to wait for the broker / database (default 60)
#   MES_MIGRATE       0 skips `mes migrate` (when migrations are run as a separate job)
set -euo pipefail

CONFIG="${MES_CONFIG:-/app/config.yml}"
export MES_CONFIG="$CONFIG"

log() { printf 'entrypoint: %s\n' "$*" >&2; }

# Wait until the broker (and, for a service, its database) accepts a real login.
# Arguments: <service name>. Exits 1 with a clear message after MES_WAIT_TIMEOUT.
wait_for_dependencies() {
    python -W ignore - "$1" <<'PY'
import importlib.util
import os
import sys
import time

service = sys.argv[1]
timeout = float(os.environ.get("MES_WAIT_TIMEOUT", "60"))


def say(msg):
    print(f"entrypoint: {msg}", file=sys.stderr, flush=True)


if service != "migrate" and (importlib.util.find_spec(service) is None
                             or importlib.util.find_spec(f"{service}.service") is None):
    say(f"this image has no module {service}.service: is {service!r} spelt right, "
        "and is the image built from the current source (docker compose build)?")
    sys.exit(2)

from mes_common.config import database_url, load_config  # noqa: E402

config = load_config(os.environ["MES_CONFIG"])


def amqp_target():
    from kombu import Connection

    uri = config["AMQP_URI"]

    def check():
        with Connection(uri, connect_timeout=3) as conn:
            # one attempt, no kombu-side backoff: this loop does the retrying
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=5)

    return Connection(uri).as_uri(), check  # as_uri() masks the password


def db_target(url):
    from sqlalchemy import create_engine, make_url
    from sqlalchemy.pool import NullPool

    def check():
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        finally:
            engine.dispose()

    return make_url(url).render_as_string(hide_password=True), check


def admin_on_server_of(url):
    from sqlalchemy import make_url
    from mes_common import infra
    server = make_url(url)
    return make_url(infra.pg_admin_url()).set(host=server.host, port=server.port).render_as_string(
        hide_password=False)


if service == "migrate":   # the superuser's login on each service database's server (or the named ones')
    from mes_common import registry
    only = os.environ.get("MES_MIGRATE_ONLY", "").split()
    targets = [(f"PostgreSQL of {spec.name}", *db_target(admin_on_server_of(database_url(config, spec.name))))
               for spec in registry.SERVICES if spec.database and (not only or spec.name in only)]
else:
    targets = [("broker", *amqp_target())]
if service not in ("gateway", "migrate"):
    targets.append((f"database of {service}", *db_target(database_url(config, service))))

deadline = time.monotonic() + timeout
for what, where, check in targets:
    announced = False
    while True:
        try:
            check()
            break
        except Exception as exc:  # any failure: not up yet, or misconfigured
            cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
            last = f"{type(cause).__name__}: {' '.join(str(cause).split()) or repr(cause)}"
        if time.monotonic() >= deadline:
            say(f"gave up after {timeout:g}s waiting for the {what} at {where}: {last}")
            say("check that its container is up and healthy and that the credentials in .env "
                "(see .env.example) match the ones it was created with; MES_WAIT_TIMEOUT sets the wait")
            sys.exit(1)
        if not announced:
            say(f"waiting for the {what} at {where} ({last})")
            announced = True
        time.sleep(1)
    say(f"{what} is reachable at {where}")
PY
}

# Name of the service PID 1 runs, from its command line (".../nameko run ... <name>.service").
running_service() {
    if [[ -n "${MES_SERVICE:-}" ]]; then
        printf '%s\n' "$MES_SERVICE"
        return 0
    fi
    local arg
    while IFS= read -r -d '' arg; do
        if [[ "$arg" =~ ^([a-z][a-z0-9_]*)\.service(:[A-Za-z_][A-Za-z0-9_]*)?$ ]]; then
            printf '%s\n' "${BASH_REMATCH[1]}"
            return 0
        fi
    done </proc/1/cmdline
    return 1
}

# What `nameko run` loads for a process, from mes_common/registry.py.
module_of() {
    python -W ignore -c 'import sys; from mes_common import registry
spec = {p.name: p for p in registry.processes()}.get(sys.argv[1])
sys.exit(f"unknown process {sys.argv[1]!r}") if spec is None else print(spec.module)' "$1"
}

healthcheck() {
    local service
    if ! service="$(running_service)"; then
        log "health: no service is running yet (still waiting or migrating?)"
        return 1
    fi
    if [[ "$service" == gateway ]]; then
        python -W ignore -c '
import os, sys, urllib.request
url = "http://127.0.0.1:%s/health" % os.environ.get("GATEWAY_PORT", "8000")
try:
    with urllib.request.urlopen(url, timeout=3) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception as exc:
    print("health: %s: %s" % (url, exc), file=sys.stderr)
    sys.exit(1)
'
    else
        exec mes health "$service"
    fi
}

if [[ $# -eq 0 ]]; then
    set -- gateway
fi

case "$1" in
    health)
        healthcheck
        ;;
    gateway)
        shift
        wait_for_dependencies gateway
        log "starting gateway"
        exec python -m mes_common.nameko_cli run --config "$CONFIG" "$@" "$(module_of gateway)"
        ;;
    migrate)
        # one-shot job: roles, databases and migrations, as the servers' superuser (MES_PG_ADMIN_URL)
        shift
        if [[ $# -gt 0 ]]; then   # these services' databases only
            MES_MIGRATE_ONLY="$*" wait_for_dependencies migrate
            mes db create "$@"
            exec mes migrate "$@"
        fi
        wait_for_dependencies migrate
        mes db create
        mes infra logins   # each process's own broker login (MES_RABBITMQ_API: the management API)
        exec mes migrate
        ;;
    broker-logins)
        wait_for_dependencies gateway   # (the broker only)
        exec mes infra logins
        ;;
    await-schema)
        [[ $# -eq 2 ]] || { log "usage: await-schema SERVICE"; exit 2; }
        exec python -W ignore - "$2" <<'PY'
import os
import sys
import time

from mes_common import migrations
from mes_common.config import database_url, load_config

service = sys.argv[1]
url = database_url(load_config(os.environ["MES_CONFIG"]), service)
head = migrations.head(service)
deadline = time.monotonic() + float(os.environ.get("MES_SCHEMA_TIMEOUT", "900"))
said = None
while True:
    try:
        current = migrations.current(service, url)
    except Exception as exc:  # the database not up yet: wait like for a migration
        current = f"unreachable ({type(exc).__name__})"
    if current == head:
        print(f"entrypoint: the database of {service} is at {head}", file=sys.stderr)
        sys.exit(0)
    if current != said:
        print(f"entrypoint: waiting for the migration of {service} to {head} (now {current})", file=sys.stderr,
              flush=True)
        said = current
    if time.monotonic() > deadline:
        sys.exit(f"entrypoint: the database of {service} is not at {head} after MES_SCHEMA_TIMEOUT: "
                 "has its migration Job run?")
    time.sleep(2)
PY
        ;;
    *_service)
        service="$1"
        shift
        if [[ ! "$service" =~ ^[a-z][a-z0-9_]*_service$ ]]; then
            log "not a service name: $service"
            exit 2
        fi
        wait_for_dependencies "$service"
        if [[ "${MES_MIGRATE:-1}" != 0 ]]; then
            log "migrating the database of $service"
            mes migrate "$service"
        fi
        log "starting $service"
        exec python -m mes_common.nameko_cli run --config "$CONFIG" "$@" "$(module_of "$service")"
        ;;
    *)
        exec "$@"
        ;;
esac
