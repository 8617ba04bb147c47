"""Finding, starting and preparing the backing servers (ARCHITECTURE.md §8).

PostgreSQL, RabbitMQ and Redis are either local servers (SERVICES.md: started
with the distribution's own tools, as root) or the backing services of
docker-compose.yml. `mes infra check` (mes_common/commands/infra.py) reports
each one, starts what it can and otherwise says exactly what is missing.

Also the building blocks tests use to isolate themselves:
`create_database` / `drop_database` (throwaway PostgreSQL databases) and
`create_vhost` / `delete_vhost` (throwaway RabbitMQ vhosts, via rabbitmqctl —
the management plugin is not assumed).

Heavy client libraries are imported lazily so that `mes --help` stays fast.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mes_common.config import ROOT

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "", None}
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"

# SERVICES.md: how the local servers are started (as root).
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "{port}",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
               "--logfile", "/var/log/redis/ci.log"]
APT_PACKAGES = {"postgresql": "postgresql", "rabbitmq": "rabbitmq-server", "redis": "redis-server"}
TITLES = {"postgresql": "PostgreSQL", "rabbitmq": "RabbitMQ", "redis": "Redis"}


class InfraError(RuntimeError):
    """A backing server is missing or refused an operation (message says what to do)."""


# --------------------------------------------------------------------------- helpers

def pg_admin_url():
    return os.environ.get("MES_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)


def is_local(host):
    return host in LOCAL_HOSTS


def is_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def which(cmd):
    """shutil.which that also looks in the sbin directories (rabbitmq-server lives there)."""
    return shutil.which(cmd, path=os.environ.get("PATH", "") + ":" + SBIN_PATH)


def port_open(host, port, timeout=0.5):
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _sa_url(url):
    from sqlalchemy.engine import make_url
    return make_url(url)


def pg_connect_kwargs(url, database=None):
    """psycopg2.connect() keyword arguments for a SQLAlchemy URL (optionally another database)."""
    u = _sa_url(url)
    kwargs = {"dbname": database or u.database or "postgres", "connect_timeout": 5}
    if u.host:
        kwargs["host"] = u.host
    if u.port:
        kwargs["port"] = u.port
    if u.username:
        kwargs["user"] = u.username
    if u.password is not None:
        kwargs["password"] = u.password
    for key, value in u.query.items():
        kwargs[key] = value if isinstance(value, str) else value[-1]
    return kwargs


def with_database(url, database):
    """The same server and credentials, another database (str, password kept)."""
    return _sa_url(url).set(database=database).render_as_string(hide_password=False)


def _pg_admin_connection(admin_url):
    import psycopg2
    conn = psycopg2.connect(**pg_connect_kwargs(admin_url))
    conn.autocommit = True
    return conn


@contextlib.contextmanager
def _admin_cursor(admin_url):
    """An autocommit cursor as the admin (CREATE/DROP DATABASE need one)."""
    conn = _pg_admin_connection(admin_url)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


# --------------------------------------------------------------------------- PostgreSQL

def role_exists(cur, name):
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    return cur.fetchone() is not None


def create_role(admin_url, name, password=None):
    """Create a LOGIN role if missing. Returns True when it was created."""
    from psycopg2 import sql
    with _admin_cursor(admin_url) as cur:
        if role_exists(cur, name):
            return False
        stmt = sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name))
        if password:
            stmt = stmt + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
        cur.execute(stmt)
        return True


def drop_role(admin_url, name):
    """Drop a role if it exists (it must own nothing any more). Returns True when dropped."""
    from psycopg2 import sql
    with _admin_cursor(admin_url) as cur:
        if not role_exists(cur, name):
            return False
        cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
        return True


def database_owner(admin_url, name):
    """Owner of database `name`, or None when there is no such database."""
    with _admin_cursor(admin_url) as cur:
        cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (name,))
        row = cur.fetchone()
        return row[0] if row else None


def create_database(admin_url, name, owner=None, password=None):
    """Create database `name` owned by `owner` if missing.

    The owner role is created (LOGIN, with `password` if given) when it does not
    exist; `owner=None` leaves the database to the admin user. Returns True when
    the database was created, False when it already existed.
    """
    from psycopg2 import sql
    if owner:
        create_role(admin_url, owner, password)
    with _admin_cursor(admin_url) as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone():
            return False
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner:
            stmt = stmt + sql.SQL(" OWNER {}").format(sql.Identifier(owner))
        cur.execute(stmt)
        return True


def drop_database(admin_url, name):
    """Terminate the connections to database `name`, then drop it. True when it existed."""
    import psycopg2
    from psycopg2 import sql
    with _admin_cursor(admin_url) as cur:
        for attempt in range(10):
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if not cur.fetchone():
                return attempt > 0
            # No new connections, then end the existing ones.
            cur.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            try:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
                return True
            except psycopg2.errors.ObjectInUse:
                time.sleep(0.2)
        raise InfraError(f"database {name} is still in use; could not drop it")


@dataclass
class DbResult:
    service: str
    role: str
    database: str
    actions: list = field(default_factory=list)
    error: str | None = None


def admin_url_for(service_url):
    """$MES_PG_ADMIN_URL moved to the service database's server and database, when
    it logs in there and the service role has its owner role; else None."""
    import psycopg2
    su = _sa_url(service_url)
    url = _sa_url(pg_admin_url()).set(host=su.host, port=su.port, database=su.database) \
        .render_as_string(hide_password=False)
    try:
        with contextlib.closing(_pg_admin_connection(url)) as conn, conn.cursor() as cur:
            return url if role_exists(cur, owner_role(su.username)) else None
    except psycopg2.Error:
        return None


def owner_role(service_role):
    """The role that owns a service's database and its tables and runs its
    migrations (NOLOGIN: the admin takes it with SET ROLE). The service runs as
    `service_role`, which owns nothing and cannot change the schema or drop the
    audit trail's triggers."""
    return f"{service_role}_owner"


def ensure_service_database(admin_url, service_url, service_name=""):
    """The service's role (LOGIN, name/password from the service URL), its owner
    role (NOLOGIN) and its database (owned by the owner role), if missing; a
    database its service role owned (before owner roles existed) is handed over.

    When the service URL points at another server than the admin URL, the admin
    user and database of the admin URL are used on that server. When no admin
    login is possible there but the service URL itself connects, everything is
    already in place.
    """
    import psycopg2
    from psycopg2 import sql
    su = _sa_url(service_url)
    au = _sa_url(admin_url)
    result = DbResult(service_name, su.username, su.database)
    if not su.username or not su.database:
        result.error = f"DATABASE_URL of {service_name} names no user or no database: {su!r}"
        return result
    if (su.host, su.port or 5432) != (au.host, au.port or 5432):
        admin_url = au.set(host=su.host, port=su.port).render_as_string(hide_password=False)
        result.actions.append(f"admin login on {su.host}:{su.port or 5432} as {au.username}")
    try:
        conn = _pg_admin_connection(admin_url)
    except psycopg2.Error as exc:
        try:  # the service's own login may already work (e.g. a per-service container)
            psycopg2.connect(**pg_connect_kwargs(service_url)).close()
            result.actions.append("role and database already usable (no admin login: "
                                  f"{_first_line(exc)})")
        except psycopg2.Error:
            result.error = (f"cannot log in as admin ({_first_line(exc)}); set MES_PG_ADMIN_URL "
                            "to a superuser URL, e.g. " + DEFAULT_PG_ADMIN_URL)
        return result
    owner = owner_role(su.username)
    handed_over = False
    try:
        with conn.cursor() as cur:
            for role, login in ((su.username, True), (owner, False)):
                if role_exists(cur, role):
                    result.actions.append(f"role {role} exists")
                    continue
                stmt = sql.SQL("CREATE ROLE {} " + ("LOGIN" if login else "NOLOGIN")).format(sql.Identifier(role))
                if login and su.password:
                    stmt = stmt + sql.SQL(" PASSWORD {}").format(sql.Literal(su.password))
                cur.execute(stmt)
                result.actions.append(f"created role {role}")
            cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (su.database,))
            row = cur.fetchone()
            if row is None:
                cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(su.database), sql.Identifier(owner)))
                result.actions.append(f"created database {su.database} (owner {owner})")
            elif row[0] == su.username:
                cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(su.database), sql.Identifier(owner)))
                handed_over = True
            elif row[0] != owner:
                result.actions.append(f"database {su.database} exists, owned by {row[0]} "
                                      f"(not {owner}: left as it is)")
            else:
                result.actions.append(f"database {su.database} exists")
            cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(su.database), sql.Identifier(su.username)))
    except psycopg2.Error as exc:
        result.error = _first_line(exc)
    finally:
        conn.close()
    if handed_over and result.error is None:
        # the tables the service role made are the owner's from now on (run in that database)
        with _admin_cursor(with_database(admin_url, su.database)) as cur:
            cur.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(sql.Identifier(su.username),
                                                                     sql.Identifier(owner)))
        result.actions.append(f"database {su.database} and its tables handed from {su.username} to {owner}")
    return result


def _first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# --------------------------------------------------------------------------- RabbitMQ

def rabbitmqctl(*args, node=None, timeout=60, check=True):
    """Run rabbitmqctl (as root it switches to the rabbitmq user itself)."""
    exe = which("rabbitmqctl")
    if not exe:
        raise InfraError("rabbitmqctl is not installed (apt-get install rabbitmq-server)")
    cmd = [exe] + (["-n", node] if node else []) + [str(a) for a in args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise InfraError(f"{' '.join(cmd)} failed ({proc.returncode}): "
                         f"{(proc.stderr or proc.stdout).strip()}")
    return proc


def create_vhost(name, user="guest", node=None):
    """Create vhost `name` (if missing) and give `user` full permissions on it."""
    rabbitmqctl("add_vhost", name, node=node)  # succeeds when it already exists
    rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*", node=node)


def import_definitions(docs, node=None):
    """Import a RabbitMQ definitions document (users, vhosts, permissions) with
    rabbitmqctl: one call, however many logins. The file holds password hashes
    only and lives just for the call."""
    import json
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="mes-broker-") as fh:
        json.dump(docs, fh)
        fh.flush()
        os.chmod(fh.name, 0o644)  # rabbitmqctl may read it as the rabbitmq user; hashes only
        rabbitmqctl("import_definitions", fh.name, node=node)


def import_definitions_api(api_url, docs, timeout=60):
    """The same through the management plugin's HTTP API (compose's broker,
    where rabbitmqctl is not at hand): POST {api_url}/api/definitions, with the
    administrator's credentials in `api_url` (http://user:password@host:15672)."""
    import base64
    import json
    import urllib.error
    import urllib.request
    parts = urlsplit(api_url)
    port = f":{parts.port}" if parts.port else ""
    request = urllib.request.Request(f"{parts.scheme}://{parts.hostname}{port}/api/definitions",
                                     data=json.dumps(docs).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    credentials = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()
    request.add_header("authorization", "Basic " + base64.b64encode(credentials).decode())
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                answer.read()
                return
        except urllib.error.HTTPError as exc:   # it answered: no use asking again
            raise InfraError(f"the RabbitMQ management API at {parts.hostname}{port} refused the logins: "
                             f"{exc}") from None
        except OSError as exc:   # not up yet: the plugin starts after the broker answers AMQP
            if time.monotonic() > deadline:
                raise InfraError(f"no RabbitMQ management API at {parts.hostname}{port}: {exc}") from None
            time.sleep(1)


def delete_vhost(name, node=None):
    """Delete vhost `name` with everything in it; a missing vhost is not an error."""
    proc = rabbitmqctl("delete_vhost", name, node=node, check=False)
    if proc.returncode != 0 and "does not exist" not in (proc.stdout + proc.stderr):
        raise InfraError(f"rabbitmqctl delete_vhost {name} failed: {(proc.stderr or proc.stdout).strip()}")
    return proc.returncode == 0


def amqp_parts(amqp_uri):
    """(host, port, user, vhost) of an AMQP URI ('/' when the URI names no vhost)."""
    parts = urlsplit(amqp_uri)
    vhost = unquote(parts.path[1:]) if parts.path and parts.path != "/" else "/"
    return parts.hostname or "127.0.0.1", parts.port or 5672, unquote(parts.username or "guest"), vhost or "/"


def amqp_login(amqp_uri, timeout=3):
    """Open and close a real AMQP connection (raises amqp/socket errors)."""
    import kombu
    conn = kombu.Connection(amqp_uri, connect_timeout=timeout, transport_options={"max_retries": 0})
    try:
        conn.connect()
        return conn.connection.server_properties
    finally:
        conn.release()


# --------------------------------------------------------------------------- Redis

def redis_parts(redis_url):
    parts = urlsplit(redis_url)
    db = parts.path.lstrip("/") or "0"
    return parts.hostname or "127.0.0.1", parts.port or 6379, db


def redis_ping(redis_url, timeout=2):
    import redis
    client = redis.Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return client.ping()
    finally:
        client.close()


# --------------------------------------------------------------------------- check / start

@dataclass
class Endpoint:
    kind: str                  # postgresql | rabbitmq | redis
    host: str
    port: int
    label: str                 # what to show after the address
    ok: bool = False
    detail: str = ""
    started_by: str | None = None
    users: list = field(default_factory=list)

    @property
    def title(self):
        return TITLES[self.kind]

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def local(self):
        return is_local(self.host)


def endpoints(config, admin_url=None):
    """Every distinct server the configuration names, in check order."""
    admin_url = admin_url or pg_admin_url()
    found = {}
    pg_urls = [("admin", admin_url)] + sorted((config.get("DATABASE_URLS") or {}).items())
    for name, url in pg_urls:  # label: "admin + 8 dbs", "work_order_service", ...
        u = _sa_url(url)
        host, port = u.host or "127.0.0.1", int(u.port or 5432)
        ep = found.setdefault(("postgresql", host, port), Endpoint("postgresql", host, port, ""))
        ep.users.append(name)
    for ep in found.values():
        dbs = [u for u in ep.users if u != "admin"]
        ep.label = " + ".join(filter(None, ["admin" if "admin" in ep.users else "",
                                            (f"{len(dbs)} dbs" if len(dbs) > 1 else "".join(dbs))]))
    host, port, _, vhost = amqp_parts(config["AMQP_URI"])
    found[("rabbitmq", host, port)] = Endpoint("rabbitmq", host, port, f"vhost {vhost}")
    host, port, db = redis_parts(config["REDIS_URL"])
    found[("redis", host, port)] = Endpoint("redis", host, port, f"db {db}")
    return list(found.values())


def probe(ep, config, admin_url):
    """Fill ep.ok/ep.detail; never raises."""
    if not port_open(ep.host, ep.port):
        ep.ok, ep.detail = False, "not answering"
        return ep
    try:
        if ep.kind == "postgresql":
            ep.ok, ep.detail = True, "accepting connections"
            au = _sa_url(admin_url)
            if (au.host or "127.0.0.1", int(au.port or 5432)) == (ep.host, ep.port):
                import psycopg2
                try:
                    conn = psycopg2.connect(**pg_connect_kwargs(admin_url))
                    try:
                        ver = conn.server_version
                        ep.detail = f"PostgreSQL {ver // 10000}.{ver % 10000}, admin login {au.username}"
                    finally:
                        conn.close()
                except psycopg2.OperationalError as exc:
                    if "starting up" in str(exc) or "shutting down" in str(exc):
                        ep.ok, ep.detail = False, _first_line(exc)
                    else:  # e.g. per-service containers without a `postgres` superuser
                        ep.detail = (f"accepting connections; admin login failed: {_first_line(exc)} "
                                     "(`mes db create` needs MES_PG_ADMIN_URL for databases that do "
                                     "not exist yet)")
        elif ep.kind == "rabbitmq":
            props = amqp_login(config["AMQP_URI"])
            version = (props or {}).get("version", b"")
            version = version.decode() if isinstance(version, bytes) else version
            ep.ok, ep.detail = True, f"RabbitMQ {version}, AMQP login {amqp_parts(config['AMQP_URI'])[2]}"
        elif ep.kind == "redis":
            redis_ping(config["REDIS_URL"])
            ep.ok, ep.detail = True, "PING ok"
    except Exception as exc:  # report, never a traceback
        ep.ok, ep.detail = False, f"answers, but {type(exc).__name__}: {_first_line(exc)}"
    return ep


def docker_ok():
    exe = shutil.which("docker")
    if not exe:
        return False
    try:
        return subprocess.run([exe, "info"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def compose_command():
    """`docker compose` (plugin) or `docker-compose` (standalone), whichever works."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def compose_services(kinds, compose_file=None):
    """Names of the docker-compose.yml services backing the given kinds of server."""
    import yaml
    compose_file = Path(compose_file or ROOT / "docker-compose.yml")
    if not compose_file.exists():
        raise InfraError(f"{compose_file} does not exist")
    with open(compose_file) as fh:
        services = (yaml.safe_load(fh) or {}).get("services") or {}
    wanted = []
    for name, spec in services.items():
        image = str((spec or {}).get("image") or "")
        repo = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]   # docker.io/library/redis:7 -> redis
        kind = {"postgres": "postgresql", "rabbitmq": "rabbitmq", "redis": "redis"}.get(repo)
        if kind in kinds:
            wanted.append(name)
    return wanted


def local_installed(kind):
    if kind == "postgresql":
        return bool(which("pg_ctlcluster")) and Path("/etc/postgresql").is_dir() and any(
            Path("/etc/postgresql").iterdir())
    if kind == "rabbitmq":
        return bool(which("rabbitmq-server"))
    if kind == "redis":
        return bool(which("redis-server"))
    return False


def start_local(ep, log=print):
    """Start a local server with the commands of SERVICES.md (as root). Raises InfraError."""
    if ep.kind == "postgresql":
        versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
        for version in versions:
            cmd = [which("pg_ctlcluster"), "--skip-systemctl-redirect", version, "main", "start"]
            log("  $ pg_ctlcluster --skip-systemctl-redirect " + version + " main start")
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if proc.returncode != 0 and "already running" not in proc.stderr:
                raise InfraError(f"pg_ctlcluster {version} main start failed: {proc.stderr.strip()}")
    elif ep.kind == "rabbitmq":
        log("  $ rabbitmq-server -detached")
        proc = subprocess.run([which("rabbitmq-server"), "-detached"], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise InfraError(f"rabbitmq-server -detached failed: {(proc.stderr or proc.stdout).strip()}")
        log("  $ rabbitmqctl await_startup")
        deadline = time.monotonic() + 120
        while True:  # the first calls fail until the node has registered with epmd
            proc = rabbitmqctl("await_startup", "--timeout", "60", timeout=90, check=False)
            if proc.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise InfraError(f"RabbitMQ did not start: {(proc.stderr or proc.stdout).strip()}")
            time.sleep(1)
    elif ep.kind == "redis":
        for directory in ("/var/lib/redis", "/var/log/redis"):
            os.makedirs(directory, exist_ok=True)
        cmd = [which("redis-server")] + [a.format(port=ep.port) for a in REDIS_START[1:]]
        log("  $ redis-server " + " ".join(repr(a) if a == "" else a for a in cmd[1:]))
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise InfraError(f"redis-server failed: {(proc.stderr or proc.stdout).strip()}")


def start_compose(kinds, log=print):
    cmd = compose_command()
    if not cmd:
        raise InfraError("Docker works but neither `docker compose` nor `docker-compose` is installed "
                         "(apt-get install docker-compose, or the docker-compose-plugin)")
    names = compose_services(kinds)
    if not names:
        raise InfraError(f"docker-compose.yml has no service for {', '.join(sorted(kinds))}")
    full = cmd + ["-f", str(ROOT / "docker-compose.yml"), "up", "-d", *names]
    log("  $ " + " ".join(["docker compose" if cmd[-1] == "compose" else "docker-compose",
                           "up", "-d", *names]))
    proc = subprocess.run(full, cwd=ROOT, text=True, timeout=900)
    if proc.returncode != 0:
        raise InfraError(f"{' '.join(full)} failed ({proc.returncode})")


def ensure_vhost(config, ep, start, log=print):
    """After a failed AMQP login: create a missing vhost with rabbitmqctl when allowed.

    Returns True when the vhost was created (probe again), else adds advice to ep.detail.
    """
    _, _, user, vhost = amqp_parts(config["AMQP_URI"])
    if ep.ok or vhost == "/" or "not found" not in ep.detail:
        return False
    if not (start and ep.local and which("rabbitmqctl") and is_root()):
        ep.detail += (f" (create it, as root: rabbitmqctl add_vhost {vhost} && "
                      f"rabbitmqctl set_permissions -p {vhost} {user} '.*' '.*' '.*'"
                      f"{'; or run `mes infra check --start`' if start is False and ep.local else ''})")
        return False
    log(f"RabbitMQ vhost {vhost} is missing; creating it")
    log(f"  $ rabbitmqctl add_vhost {vhost}; rabbitmqctl set_permissions -p {vhost} {user} '.*' '.*' '.*'")
    try:
        create_vhost(vhost, user)
        return True
    except (InfraError, OSError, subprocess.TimeoutExpired) as exc:
        ep.detail += f"; creating the vhost failed: {exc}"
        return False


def check(config, start=None, admin_url=None, log=print, wait_timeout=120):
    """Check (and with `start`, start) every backing server. Returns (endpoints, advice lines).

    start=None means: start only servers on this machine (127.0.0.1/localhost).
    """
    admin_url = admin_url or pg_admin_url()
    eps = endpoints(config, admin_url)
    for ep in eps:
        probe(ep, config, admin_url)
        if ep.kind == "rabbitmq":
            if ensure_vhost(config, ep, start is not False and ep.local, log):
                probe(ep, config, admin_url)

    todo = [ep for ep in eps if not ep.ok and ep.detail == "not answering"
            and ep.local and start is not False]
    if todo:
        docker = None
        compose_kinds = set()
        for ep in todo:
            if local_installed(ep.kind) and is_root():
                log(f"{ep.title} on {ep.address} is not answering; starting the local server")
                try:
                    start_local(ep, log)
                    ep.started_by = "local"
                except (InfraError, OSError, subprocess.TimeoutExpired) as exc:
                    ep.detail = f"not answering; starting it failed: {exc}"
                continue
            if local_installed(ep.kind):
                continue  # installed but we may not start it: advice below
            if docker is None:
                docker = docker_ok()
            if docker:
                compose_kinds.add(ep.kind)
        if compose_kinds:
            log(f"starting {', '.join(TITLES[k] for k in sorted(compose_kinds))} from docker-compose.yml")
            try:
                start_compose(compose_kinds, log)
                for ep in todo:
                    if ep.kind in compose_kinds:
                        ep.started_by = "docker"
            except (InfraError, OSError, subprocess.TimeoutExpired) as exc:
                for ep in todo:
                    if ep.kind in compose_kinds:
                        ep.detail = f"not answering; docker compose failed: {exc}"
        for ep in todo:
            if not ep.started_by:
                continue
            log(f"waiting for {ep.title} on {ep.address} ...")
            wait_for(lambda: probe(ep, config, admin_url).ok or (
                ep.kind == "rabbitmq" and "not found" in ep.detail), wait_timeout, 0.5)
            if ep.kind == "rabbitmq" and ensure_vhost(config, ep, True, log):
                probe(ep, config, admin_url)
            if ep.ok:
                ep.detail += f" (started: {ep.started_by})"
            elif ep.detail == "not answering":
                ep.detail = f"still not answering {wait_timeout} s after starting it"
    return eps, advice(eps, start)


def advice(eps, start):
    """What to do about every server that is not ok (empty when all are)."""
    missing = [ep for ep in eps if not ep.ok]
    if not missing:
        return []
    lines = []
    not_answering = [ep for ep in missing if ep.detail.startswith("not answering")
                     or ep.detail.startswith("still not answering")]
    for ep in not_answering:
        if not ep.local:
            lines.append(f"{ep.title} on {ep.address} is not on this machine: start it there, or point "
                         f"the configuration (environment variables of config.yml) at a running one.")
            continue
        if local_installed(ep.kind):
            cmd = {
                "postgresql": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
                "rabbitmq": "rabbitmq-server -detached && rabbitmqctl await_startup",
                "redis": " ".join(a.format(port=ep.port) if a else '""' for a in REDIS_START),
            }[ep.kind]
            if start is False:
                lines.append(f"{ep.title} is installed but not running: run `mes infra check --start` "
                             f"or, as root: {cmd}")
            else:
                lines.append(f"{ep.title} is installed but not running; start it as root: {cmd}")
    absent = sorted({ep.kind for ep in not_answering if ep.local and not local_installed(ep.kind)})
    if absent:
        pkgs = " ".join(APT_PACKAGES[k] for k in absent)
        lines.append(f"Not installed here: {', '.join(TITLES[k] for k in absent)}. Either")
        lines.append(f"  - install them (Debian/Ubuntu, as root): apt-get install -y {pkgs}")
        lines.append("    then re-run `make infra` (it starts them), or")
        lines.append("  - install Docker (https://docs.docker.com/engine/install/) with the compose plugin, "
                     "make sure `docker info` works, and re-run `make infra`: it starts the backing "
                     "services of docker-compose.yml.")
        if start is False:
            lines.append("  (--no-start was given: nothing was started)")
    for ep in missing:
        if ep not in not_answering:
            lines.append(f"{ep.title} on {ep.address}: {ep.detail}")
    return lines
