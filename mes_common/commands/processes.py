"""`mes run` and `mes health`: the processes of the MES (ARCHITECTURE.md §7–§8)."""
import json
import sys

import click

from mes_common.commands import main
from mes_common import broker, infra, registry
from mes_common.config import DEFAULT_CONFIG, ROOT, load_config


def _config_path(ctx):
    return ctx.obj.get("config_path") or str(DEFAULT_CONFIG)


def _gateway_address(config):
    return str(config.get("WEB_SERVER_ADDRESS") or "127.0.0.1:8000")


@main.command("run")
@click.argument("names", nargs=-1)
@click.option("--stop-timeout", type=float, default=10.0, show_default=True,
              help="seconds to wait after SIGTERM before SIGKILLing a process")
@click.option("--log-dir", type=click.Path(file_okay=False),
              help="also write each process's output to <log-dir>/<name>.log")
@click.option("--replicas", "replica_args", multiple=True, metavar="NAME=N",
              help="run N instances of a process (`all=N`: of every one); repeatable; "
                   "overrides config.yml's REPLICAS")
@click.pass_context
def run(ctx, names, stop_timeout, log_dir, replica_args):
    """Run every service and the gateway (or only NAMES) under a supervisor.

    A process that dies is restarted; Ctrl-C / SIGTERM stops them all.
    """
    from mes_common.supervisor import Supervisor, instances

    specs = registry.processes()
    if names:
        known = {s.name: s for s in specs}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise click.BadParameter(f"unknown process {', '.join(unknown)}; known: {', '.join(known)}",
                                     param_hint="NAME")
        specs = [known[n] for n in dict.fromkeys(names)]

    config_path = _config_path(ctx)
    base = ctx.obj["installation_config"]
    _check_logins(base, specs)
    config = ctx.obj["config"]
    replicas = replica_counts(config.get("REPLICAS"), replica_args, [s.name for s in registry.processes()])
    metrics_port = int((config.get("METRICS") or {}).get("BASE_PORT") or 0)
    processes = instances(specs, replicas, metrics_port)
    supervisor = Supervisor(processes, config_path, log_dir=log_dir, stop_timeout=stop_timeout, cwd=str(ROOT))
    supervisor.start()
    without = [spec.name for spec in specs if broker.password(base, spec.name) is None]
    if without:
        supervisor.log(f"WARNING: no broker login for {', '.join(without)}: they connect as "
                       f"{infra.amqp_parts(base['AMQP_URI'])[2]}, and no call of theirs is trusted; "
                       "`mes infra logins` creates the logins")

    address = _gateway_address(ctx.obj["config"])
    lines = [f"supervising {', '.join(p.name for p in processes)} (config {config_path})"]
    if metrics_port:
        lines.append(f"  metrics:   http://127.0.0.1:{metrics_port}/metrics … :{metrics_port + len(processes) - 1}"
                     f" (one port a process, in the order above)")
    if any(s.name == registry.GATEWAY.name for s in specs):
        lines += [
            f"  API docs:  http://{address}/docs",
            f"  OpenAPI:   http://{address}/openapi.json",
            f"  health:    http://{address}/health",
            f"  ready:     http://{address}/ready",
        ]
    lines += ["  operator shell: .venv/bin/mes shell --as <user>  (changes audited as that user)",
              "  a populated plant: make demo",
              "  Ctrl-C stops everything"]
    for line in lines:
        supervisor.log(line)
    sys.exit(supervisor.run_forever())


def replica_counts(configured, args, known):
    """name -> instances, from config.yml's REPLICAS (a mapping, `all` for every
    process) overridden by `--replicas NAME=N` options, in that order."""
    counts = {}
    items = [(str(k), v, "REPLICAS") for k, v in (configured or {}).items()]
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep:
            raise click.BadParameter(f"{arg!r}: expected NAME=N", param_hint="--replicas")
        items.append((name.strip(), value, "--replicas"))
    for name, value, where in items:
        if name != "all" and name not in known:
            raise click.BadParameter(f"unknown process {name!r}; known: all, {', '.join(known)}", param_hint=where)
        try:
            count = int(value)
        except (TypeError, ValueError):
            count = 0
        if not 1 <= count <= 16:
            raise click.BadParameter(f"{name}={value}: a whole number of instances from 1 to 16", param_hint=where)
        if name == "all":
            counts.update(dict.fromkeys(known, count))
        else:
            counts[name] = count
    return counts


def _check_logins(base, specs):
    """Each process's broker login works before anything starts: a login that
    the broker refuses (reset, or its password changed by another checkout's
    `mes infra logins`) would crash-loop its process under the supervisor."""
    from amqp.exceptions import AccessRefused
    refused = []
    for spec in specs:
        if broker.password(base, spec.name) is None:
            continue
        try:
            infra.amqp_login(broker.process_uri(base, spec.name))
        except AccessRefused:
            refused.append(broker.login(base, spec.name))
        except OSError as exc:
            raise click.ClickException(f"the broker cannot be reached ({exc}): `mes infra check --start`") from None
    if refused:
        raise click.ClickException(f"the broker refuses the login of {', '.join(refused)}: `mes infra logins` "
                                   "(re)creates every process's login with the passwords in use here")


@main.command("health")
@click.argument("names", nargs=-1)
@click.option("--timeout", type=float, default=2.0, show_default=True, help="seconds to wait for each answer")
@click.pass_context
def health(ctx, names, timeout):
    """Ping processes: each service over RPC (`<name>.ping()`), the gateway over
    HTTP (/health); every one when no NAME is given. Exits 1 if one does not answer."""
    config = ctx.obj["config"]
    all_ok = True
    for name in names or [spec.name for spec in registry.processes()]:
        if name == registry.GATEWAY.name:
            ok, message = _gateway_health(config, timeout)
        else:
            ok, message = _service_health(config, name, timeout)
        click.echo(message if names else f"{name}: {message}" if ok else message, err=not ok)
        all_ok = all_ok and ok
    sys.exit(0 if all_ok else 1)


def _gateway_health(config, timeout):
    import requests

    url = f"http://{_gateway_address(config)}/health"
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return False, f"gateway: no answer from {url} ({type(exc).__name__})"
    body = response.text.strip()
    if response.status_code != 200:
        return False, f"gateway: {url} answered {response.status_code}: {body[:200]}"
    return True, body


def _service_health(config, name, timeout):
    import logging
    import warnings

    with warnings.catch_warnings():  # eventlet's deprecation notice is noise here
        warnings.simplefilter("ignore")
        from nameko.exceptions import RpcTimeout, UnknownService, RemoteError
        from mes_common.rpc import ClusterRpcProxy
    # keep the answer to one line (py-amqp warns about channel-close races)
    for logger in ("amqp", "kombu", "nameko"):
        logging.getLogger(logger).setLevel(logging.CRITICAL)

    try:
        with ClusterRpcProxy(config, timeout=timeout) as proxy:
            reply = getattr(proxy, name).ping()
    except RpcTimeout:
        return False, f"{name}: no answer within {timeout:g}s"
    except UnknownService:
        return False, f"{name}: unknown service (no RPC queue for it on the broker)"
    except RemoteError as exc:
        return False, f"{name}: ping failed: {exc.exc_type}: {exc.value}"
    except (OSError, ConnectionError) as exc:
        return False, f"{name}: cannot reach the broker at {_safe_uri(config)} ({exc})"
    except Exception as exc:  # kombu/amqp errors and anything else: one line, no traceback
        return False, f"{name}: {type(exc).__name__}: {exc}"
    return True, json.dumps(reply, default=str)


def _safe_uri(config):
    uri = str(config.get("AMQP_URI", ""))
    if "@" in uri:
        scheme, _, rest = uri.partition("://")
        uri = f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
