"""(issue 3) What authentication costs: sign-in time, token checks, gateway throughput.

Processes (each a real `nameko run`, throwaway databases built by the
migrations, AUTH key pair generated in the benchmark's temp dir): the auth
service, the resource service, the real Gateway, and a stand-in "open"
gateway on another port: `class OpenGateway(Gateway)` with one extra public
route, GET /bench/open/nodes/<id>, whose handler is the real get_node's
(`self.services["resource_service"].get_node(path_id(...))`), so the only difference between its
path and the real one is authentication. An administrator is created with
`mes create-admin`; the admin role requires MFA (one code per 30 s), so the
sign-ins are timed for a plant engineer without it (a custom role with
resource:read/write and api_token:write, made over RPC), who creates an
enterprise > site > area > work center chain and an API token (resource:read).

1. Sign-in time (argon2id), rounds interleaving a and b (same machine state):
   a. in-process `auth_service.passwords.hash_password` / `verify` (the
      argon2 parameters in use are printed);
   b. POST /api/v1/auth/login through the gateway and the auth service,
      sequential: successful sign-ins (keep-alive), and failures with an
      unknown user vs a wrong password (they should cost the same: an
      unknown user is verified against a dummy hash). Failures are
      throttled per client address (20/minute) and per account (3/minute):
      each failed attempt comes from its own loopback source address
      (127.0.0.x: Linux routes all of 127/8 to lo) and a successful sign-in
      of the account between two wrong passwords clears its counter. Where
      127.0.0.2 cannot be bound, at most 9 failures of each kind are made.
   c. a burst: 4 clients sign in at once, repeatedly (the auth service
      hashes in eventlet's tpool, at most 2 at once); meanwhile, and before
      for comparison, `auth_service.session_active` is called over RPC every
      20 ms: whether the service stays responsive while it hashes.
2. Token checks at the gateway, in-process microbenchmarks (us per call),
   in a plain process and in an eventlet-patched one (as the gateway runs):
   `tokens.verify_access_token` with PEM text vs a loaded key object
   (alternating blocks) and the Ed25519 check alone, the pieces of the
   gateway's fast path for an already verified token (Bearer parse, sha256,
   TtlCache hit, `RevocationWatcher.revoked`: a dict lookup in the gateway's
   in-memory copy of the revocation list, its `run()` going as in the gateway:
   a greenthread, or a thread in the plain process) and
   `gateway.auth.Authenticator.authenticate` itself (set up with the
   benchmark's config; API-token lookups stubbed, only their cached path is
   timed). One Redis round trip (EXISTS) is timed for comparison only: no
   longer on the request path.
   2b. A revocation's way to a gateway (eventlet process): ~50 times,
   `RevocationList.publish` (ZADD + PUBLISH, what the auth service does after
   its commit) of a new session id, then the time until the running watcher
   reports it revoked.
3. Gateway throughput, same run, rounds interleaved (order rotated), same
   10 keep-alive connections:

       jwt        GET /api/v1/resource/nodes/<wc>   real gateway, Bearer <access token>
       api_token  GET /api/v1/resource/nodes/<wc>   real gateway, Bearer mes_... (resource:read)
       open       GET /bench/open/nodes/<wc>        open gateway, no credentials
       open_hdr   GET /bench/open/nodes/<wc>        open gateway, the jwt path's Authorization
                                                    header sent and ignored (what carrying the
                                                    ~1 KB header costs, without checking it)

   Load generator (_common.http_load): wrk (1 thread, 10 connections) when
   installed, else a Python client (threads + http.client keep-alive) in its
   own process.

   The gateway process's CPU per request is printed per path too: when
   the machine is shared, it is the steadier figure (rps follows whatever
   else runs), and open/authed CPU per request is what the rps ratio would
   be were the gateway process the bottleneck.

Goal (issue 3): authentication costs at most 10% of throughput:
jwt rps / open rps >= 0.90 (and the same for api_token).
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

import argon2
import jwt

from _common import (REPO, BackingCpu, BenchEnv, MachineCpu, backing_line, combine_loads, cpu_line, cpu_seconds,
                     free_port, goal, http_load, interleaved_rounds, load_generator, log, machine_line, parse_args,
                     percentile, ratio, summary_ms, table, wait_quiet)

from auth_service import passwords  # noqa: E402  (after _common: it puts the repository on sys.path)
from auth_service.contract import keys

ADMIN = "bench-admin"
ADMIN_PASSWORD = "harbour lantern quartz 1969"
USER, USER_ROLE = "bench-engineer", "bench_engineer"   # signs in with a password alone (no privileged permission)
FIRST_PASSWORD = "temporary pumpkin violin 7"
CONNECTIONS = 10
LOGIN_PATH = "/api/v1/auth/login"
BURST = 4             # parallel sign-ins (auth_service hashes at most 2 at once, in native threads)
PROBE_GAP = 0.02      # seconds between two session_active probes
PATHS = ("jwt", "api_token", "open", "open_hdr")
LABELS = {
    "jwt": "jwt: access token           GET /api/v1/resource/nodes/<wc>",
    "api_token": "api_token: mes_... token    GET /api/v1/resource/nodes/<wc>",
    "open": "open: no auth, open gateway GET /bench/open/nodes/<wc>",
    "open_hdr": "open_hdr: open + JWT header GET /bench/open/nodes/<wc>",
}

OPEN_GATEWAY = '''
from gateway.http import path_id, route
from gateway.service import Gateway
from resource_service.contract import schemas


class OpenGateway(Gateway):
    """The real gateway plus one public copy of the get_node route."""

    @route("GET", "/bench/open/nodes/<node_id>", summary="get_node without authentication (bench only)",
           tags=["bench"], response=schemas.NodeOut, public=True, error_codes=(400, 404, 503))
    def bench_open_get_node(self, request, node_id):
        return self.services["resource_service"].get_node(path_id("node_id", node_id))
'''

# In-process microbenchmarks, run as their own process: `plain` or `eventlet`
# (monkey-patched first, as `nameko run` does for the gateway).
MICRO = r'''
import sys
MODE, CONFIG, TOKEN, QUICK = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
if MODE == "eventlet":
    import eventlet
    eventlet.monkey_patch()

import hashlib, json, threading, time, types, uuid
import redis
import yaml

perf = time.perf_counter


def measure(fn, n):
    """(per-call latencies in s, mean wall s and CPU s per call of a tight loop)."""
    for _ in range(max(5, min(n // 10, 200))):
        fn()
    lat = []
    for _ in range(n):
        t0 = perf(); fn(); lat.append(perf() - t0)
    t0, c0 = perf(), time.process_time()
    for _ in range(n):
        fn()
    return lat, (perf() - t0) / n, (time.process_time() - c0) / n


out = {"mode": MODE, "rows": {}, "errors": {}}


def rows(named, n, blocks=1):
    """Each (name, fn) n times; with blocks > 1 they alternate in n/blocks-call blocks (a fair comparison
    on a machine whose load drifts)."""
    acc = {name: ([], 0.0, 0.0) for name, _ in named}
    try:
        for _ in range(blocks):
            for name, fn in named:
                lat, mean, cpu = measure(fn, n // blocks)
                a = acc[name]
                acc[name] = (a[0] + lat, a[1] + mean / blocks, a[2] + cpu / blocks)
    except Exception as exc:  # report and keep going (e.g. a gateway.auth being edited)
        out["errors"][" / ".join(name for name, _ in named)] = f"{type(exc).__name__}: {exc}"
        return
    for name, (lat, mean, cpu) in acc.items():
        lat.sort()
        pick = lambda q: lat[min(len(lat) - 1, max(0, int(-(-q * len(lat) // 100)) - 1))]
        out["rows"][name] = {"n": len(lat), "p50_us": pick(50) * 1e6, "p99_us": pick(99) * 1e6,
                              "mean_us": mean * 1e6, "cpu_us": cpu * 1e6}


def row(name, fn, n):
    rows([(name, fn)], n)


with open(CONFIG) as fh:
    config = yaml.safe_load(fh)

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.utils import base64url_decode
from auth_service.contract import keys, revocations, tokens

auth_settings = keys.settings(config)
pem = keys.public_key(config)
key = load_pem_public_key(pem.encode())
iss, aud = auth_settings["ISSUER"], auth_settings["AUDIENCE"]
n_verify, n_fast = (500, 3000) if QUICK else (3000, 20000)
N_PROPAGATION = 50

rows([("verify_access_token, PEM text", lambda: tokens.verify_access_token(TOKEN, pem, issuer=iss, audience=aud)),
      ("verify_access_token, loaded key", lambda: tokens.verify_access_token(TOKEN, key, issuer=iss, audience=aud))],
     n_verify, blocks=10)
row("load_pem_public_key (what PEM adds)", lambda: load_pem_public_key(pem.encode()), n_verify)
signing_input, _, signature = TOKEN.encode().rpartition(b".")
signature = base64url_decode(signature)
row("Ed25519 signature check alone (cryptography)", lambda: key.verify(signature, signing_input), n_verify)

try:
    from gateway import auth as gw_auth
except Exception as exc:
    gw_auth = None
    out["errors"]["import gateway.auth"] = f"{type(exc).__name__}: {exc}"

if gw_auth is not None:
    header = "Bearer " + TOKEN
    row("Bearer header parse (regex)", lambda: gw_auth.bearer_token(header), n_fast)
    row("sha256 of the token", lambda: hashlib.sha256(TOKEN.encode()).digest(), n_fast)
    cache = gw_auth.TtlCache()
    digest = hashlib.sha256(TOKEN.encode()).digest()
    cache.put(digest, object(), 3600)
    row("TtlCache.get (hit)", lambda: cache.get(digest), n_fast)
    try:
        auth = gw_auth.Authenticator()
        auth.container = types.SimpleNamespace(config=config, service_name="gateway")
        auth.setup()
    except Exception as exc:
        auth = None
        out["errors"]["Authenticator.setup"] = f"{type(exc).__name__}: {exc}"
    watcher = getattr(auth, "revocations", None)
    if watcher is not None:
        # the gateway's watcher, running as there: a greenthread (eventlet), else a thread
        if MODE == "eventlet":
            eventlet.spawn(watcher.run)
            pause = eventlet.sleep
        else:
            threading.Thread(target=watcher.run, daemon=True).start()
            pause = time.sleep
        deadline = time.monotonic() + 10
        while watcher.revoked("bench") is None and time.monotonic() < deadline:
            pause(0.01)
        if watcher.revoked("bench") is None:
            out["errors"]["RevocationWatcher"] = "not in sync with Redis after 10 s"
            auth = None
    if auth is not None:
        claims = tokens.verify_access_token(TOKEN, key, issuer=iss, audience=aud)
        sid = claims["sid"]
        row("RevocationWatcher.revoked (in sync, session not revoked)", lambda: watcher.revoked(sid), n_fast)
        spec = types.SimpleNamespace(public=False, permission="resource:read")
        req = types.SimpleNamespace(headers={"Authorization": header})
        row("Authenticator.authenticate, JWT verified before (all above)",
            lambda: auth.authenticate(req, spec, "bench"), n_fast)
        api_token = "mes_" + "b" * 40
        auth.api_tokens = gw_auth.ApiTokens(
            lambda token, cid: {"username": "bench", "user_id": claims["sub"], "token_id": claims["jti"],
                                "permissions": ["resource:read"], "expires_at": None}, 3600)
        api_req = types.SimpleNamespace(headers={"Authorization": "Bearer " + api_token})
        row("Authenticator.authenticate, API token cached",
            lambda: auth.authenticate(api_req, spec, "bench"), n_fast)
        client = redis.Redis.from_url(config["REDIS_URL"])
        rset = revocations.set_key(config["CACHE_PREFIX"])
        row("(not on the request path) Redis round trip: EXISTS", lambda: client.exists(rset), n_fast // 4)

        if MODE == "eventlet":
            # a revocation's way to a gateway: RevocationList.publish (ZADD + PUBLISH, as the auth service
            # after its commit) until this process's watcher, idle in its greenthread, says revoked
            writer = revocations.RevocationList(client, config["CACHE_PREFIX"],
                                                float(auth_settings.get("ACCESS_TTL", 900)))
            reach, calls, after, missed = [], [], [], 0
            for i in range(N_PROPAGATION):
                eventlet.sleep(0.02 + 0.01 * (i % 3))  # the watcher back waiting on its socket
                revoked = str(uuid.uuid4())
                t0 = perf()
                writer.publish([revoked])
                t1 = perf()
                while not watcher.revoked(revoked) and perf() - t0 < 5.0:
                    eventlet.sleep(0)
                t2 = perf()
                calls.append(t1 - t0)
                if watcher.revoked(revoked):
                    reach.append(t2 - t0)
                    after.append(max(0.0, t2 - t1))
                else:
                    missed += 1
            out["propagation"] = {"n": N_PROPAGATION, "missed": missed, "reach_s": reach, "publish_s": calls,
                                  "after_s": after}
        watcher.stop()
        client.close()

print("MICROJSON " + json.dumps(out))
'''

# ------------------------------------------------------------------ HTTP helpers

def request(port, method, path, body=None, token=None, source=None, conn=None):
    """(status, decoded body, seconds). A new connection (from `source`, an
    address to bind) unless `conn` (keep-alive) is given."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                          source_address=(source, 0) if source else None)
    headers = {"Content-Type": "application/json", "User-Agent": "bench/auth.py"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        t0 = time.perf_counter()
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        elapsed = time.perf_counter() - t0
    finally:
        if own:
            conn.close()
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode(errors="replace")
    return resp.status, decoded, elapsed


def loopback_sources():
    """Can the client bind 127.0.0.x (x >= 2)? Linux routes all of 127/8 to lo."""
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


def login_burst(port, parallel, per_client, probe):
    """`parallel` clients signing in `per_client` times each, all at once (one keep-alive
    connection each), while `probe()` is timed every PROBE_GAP s until they are done.
    Returns ([(seconds, status)] of the sign-ins, [seconds] of the probes, wall seconds)."""
    logins, lock = [], threading.Lock()
    start = threading.Barrier(parallel + 1)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        try:
            for _ in range(per_client):
                try:
                    status, _, seconds = request(port, "POST", LOGIN_PATH,
                                                 {"username": USER, "password": ADMIN_PASSWORD}, conn=conn)
                except (OSError, http.client.HTTPException) as exc:
                    status, seconds = type(exc).__name__, float("nan")
                    conn.close()
                with lock:
                    logins.append((seconds, status))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(parallel)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    probes = []
    while any(t.is_alive() for t in threads):
        probes.append(timed(probe))
        time.sleep(PROBE_GAP)
    for t in threads:
        t.join()
    return logins, probes, time.perf_counter() - t0


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ------------------------------------------------------------------ the benchmark

def main():
    args = parse_args(__doc__.splitlines()[0], quick={"duration": 3.0, "rounds": 1, "logins": 6},
                      duration=(float, 4.0, "seconds per path per round (throughput)"),
                      rounds=(int, 6, "interleaved throughput rounds"),
                      logins=(int, 30, "sequential successful sign-ins (and failed ones of each kind)"))
    client = load_generator(CONNECTIONS)
    print(f"bench/auth.py — authentication costs ({machine_line()})")
    print(f"throughput load generator: {client}; {args.rounds} round(s) x {args.duration:g} s per path")

    with BenchEnv("auth", keep=args.keep) as env:
        env.create_database("auth_service", "auth_service")
        env.create_database("resource_service", "resource_service")
        env.write_module("open_gateway", OPEN_GATEWAY)
        env.write_module("_authmicro", MICRO)
        key_dir = env.tmp / "keys"
        auth_block = {**(env.base_config.get("AUTH") or {}),
                      "PRIVATE_KEY_FILE": str(key_dir / "signing_key.pem"),
                      "PUBLIC_KEY_FILE": str(key_dir / "signing_key.pub.pem"),
                      "GENERATE_KEYS": True}
        gw_port, open_port = free_port(), free_port()
        svc_cfg = env.write_config("services", AUTH=auth_block)
        gw_cfg = env.write_config("gateway", AUTH=auth_block, WEB_SERVER_ADDRESS=f"127.0.0.1:{gw_port}")
        open_cfg = env.write_config("open_gateway", AUTH=auth_block, WEB_SERVER_ADDRESS=f"127.0.0.1:{open_port}")
        # the key pair now, not raced for by three starting processes
        keys.public_key(env.config(AUTH=auth_block))
        procs = {
            "auth_service": env.start("auth_service", "auth_service.service:AuthService", svc_cfg),
            "resource_service": env.start("resource_service", "resource_service.service:ResourceService", svc_cfg),
            "gateway": env.start("gateway", "gateway.service:Gateway", gw_cfg),
            "open_gateway": env.start("open_gateway", "open_gateway:OpenGateway", open_cfg),
        }
        env.wait_rpc("auth_service")
        env.wait_rpc("resource_service")
        env.wait_http(f"http://127.0.0.1:{gw_port}/health")
        env.wait_http(f"http://127.0.0.1:{open_port}/health")
        log("auth service, resource service, gateway and open gateway up")

        done = subprocess.run(
            [sys.executable, "-c", "from mes_common.cli import main; main()", "--config", str(svc_cfg),
             "create-admin", "--username", ADMIN, "--display-name", "Bench Admin"],
            cwd=str(REPO), env={**os.environ, "MES_ADMIN_PASSWORD": ADMIN_PASSWORD},
            capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"mes create-admin failed:\n{done.stdout}\n{done.stderr}")
        log(f"administrator {ADMIN} created (mes create-admin)")
        from mes_common.rpc import ClusterRpcProxy
        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=30) as cluster:   # the operators' trusted path
            cluster.auth_service.create_role({"name": USER_ROLE, "description": "bench",
                                              "permissions": ["resource:read", "resource:write", "api_token:write"],
                                              "requires_mfa": False})
            cluster.auth_service.create_user({"username": USER, "display_name": "Bench Engineer",
                                              "password": FIRST_PASSWORD, "roles": [USER_ROLE]})
        first = request(gw_port, "POST", LOGIN_PATH, {"username": USER, "password": FIRST_PASSWORD,
                                                       "new_password": ADMIN_PASSWORD})
        assert first[0] == 200, first

        # ---------------------------------------------------------- 1: sign-in (a in-process, b over HTTP)
        hashed = passwords.hash_password(ADMIN_PASSWORD)
        params = argon2.extract_parameters(hashed)
        distinct = loopback_sources()
        n_ok = args.logins
        n_fail = min(args.logins, 9) if not distinct else args.logins
        wait_quiet(max_wait=5 if args.quick else 30)
        log(f"sign-in: {n_ok} successful, {n_fail} unknown-user and {n_fail} wrong-password attempts "
            f"({'each failure from its own 127.0.0.x' if distinct else 'all from 127.0.0.1'}), "
            f"interleaved with {n_ok} in-process hashes and verifications")
        keepalive = http.client.HTTPConnection("127.0.0.1", gw_port, timeout=30)
        status, body, _ = request(gw_port, "POST", LOGIN_PATH,
                                  {"username": USER, "password": ADMIN_PASSWORD}, conn=keepalive)  # warm-up
        assert status == 200, (status, body)
        # the relative order of ok, unknown and wrong stays a rotation of this one: at most two wrong
        # passwords of the account come without a success (which clears its counter) between them
        kinds = ("ok", "unknown", "wrong", "hash", "verify", "verify_wrong")
        timings = {k: [] for k in kinds}
        statuses = {"ok": {}, "unknown": {}, "wrong": {}}
        in_process = {"hash": lambda: passwords.hash_password(ADMIN_PASSWORD),
                      "verify": lambda: passwords.verify(hashed, ADMIN_PASSWORD),
                      "verify_wrong": lambda: passwords.verify(hashed, ADMIN_PASSWORD + " typo")}
        source_no = 1
        token = None
        for i in range(max(n_ok, n_fail)):
            for kind in kinds[i % len(kinds):] + kinds[:i % len(kinds)]:
                if len(timings[kind]) >= (n_fail if kind in ("unknown", "wrong") else n_ok):
                    continue
                if kind in in_process:
                    t0 = time.perf_counter()
                    in_process[kind]()
                    timings[kind].append(time.perf_counter() - t0)
                    continue
                if kind == "ok":
                    status, body, seconds = request(gw_port, "POST", LOGIN_PATH,
                                                    {"username": USER, "password": ADMIN_PASSWORD},
                                                    conn=keepalive)
                    if status == 200:
                        token = body["access_token"]
                else:
                    source = None
                    if distinct:
                        source_no = source_no % 250 + 1
                        source = f"127.0.0.{source_no + 1}"  # 127.0.0.2 .. 127.0.0.251
                    creds = {"username": f"nobody-{i}", "password": ADMIN_PASSWORD} if kind == "unknown" else \
                        {"username": USER, "password": ADMIN_PASSWORD + " typo"}
                    status, body, seconds = request(gw_port, "POST", LOGIN_PATH, creds, source=source)
                statuses[kind][status] = statuses[kind].get(status, 0) + 1
                timings[kind].append(seconds)
        keepalive.close()
        expected = {"ok": 200, "unknown": 401, "wrong": 401}
        for kind, seen in statuses.items():
            if set(seen) != {expected[kind]}:
                log(f"WARNING sign-in {kind}: statuses {seen} (expected only {expected[kind]}): "
                    "its timings mix in other answers")
        assert token, statuses

        # ---------------------------------------------------------- 1c: a burst of sign-ins
        session_id = jwt.decode(token, options={"verify_signature": False})["sid"]
        per_client = 3 if args.quick else 10
        log(f"sign-in burst: {BURST} clients x {per_client} sign-ins at once, auth_service.session_active "
            f"timed every {PROBE_GAP * 1000:g} ms (and as often before, for comparison)")
        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=30) as cluster:
            probe = lambda: cluster.auth_service.session_active(session_id)  # noqa: E731
            assert probe() is True
            idle_probes = []
            for _ in range(30 if args.quick else 60):
                idle_probes.append(timed(probe))
                time.sleep(PROBE_GAP)
            auth_cpu = cpu_seconds(procs["auth_service"].pid)
            burst_logins, burst_probes, burst_wall = login_burst(gw_port, BURST, per_client, probe)
            auth_cpu = (cpu_seconds(procs["auth_service"].pid) - auth_cpu) / burst_wall * 100

        # ---------------------------------------------------------- 2: in-process
        micro = {}
        for mode in ("plain", "eventlet"):
            if not args.quick:
                wait_quiet(max_wait=20)
            log(f"in-process microbenchmarks ({mode})")
            out = subprocess.run([sys.executable, str(env.tmp / "_authmicro.py"), mode, str(gw_cfg), token,
                                  "1" if args.quick else "0"],
                                 cwd=str(env.tmp), capture_output=True, text=True, timeout=600,
                                 env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(env.tmp)])})
            line = next((l for l in out.stdout.splitlines() if l.startswith("MICROJSON ")), None)
            if line is None:
                raise RuntimeError(f"microbenchmark ({mode}) said:\n{out.stdout}\n{out.stderr}")
            micro[mode] = json.loads(line[len("MICROJSON "):])

        # ---------------------------------------------------------- 3: throughput
        gw, opn = f"http://127.0.0.1:{gw_port}", f"http://127.0.0.1:{open_port}"
        parent = None
        for level, code in (("enterprise", "ACME"), ("site", "TLS"), ("area", "MACH"), ("work_center", "WC-10")):
            status, node, _ = request(gw_port, "POST", "/api/v1/resource/nodes",
                                      {"level": level, "code": code, "name": f"{level} {code}",
                                       "parent_id": parent}, token=token)
            assert status == 201, (status, node)
            parent = node["id"]
        wc = parent
        status, created, _ = request(gw_port, "POST", "/api/v1/auth/me/api-tokens",
                                     {"name": "bench", "permissions": ["resource:read"]}, token=token)
        assert status == 201, (status, created)
        api_token = created["token"]
        urls = {"jwt": f"{gw}/api/v1/resource/nodes/{wc}", "api_token": f"{gw}/api/v1/resource/nodes/{wc}",
                "open": f"{opn}/bench/open/nodes/{wc}", "open_hdr": f"{opn}/bench/open/nodes/{wc}"}
        headers = {"jwt": f"Authorization: Bearer {token}", "api_token": f"Authorization: Bearer {api_token}",
                   "open": "", "open_hdr": f"Authorization: Bearer {token}"}
        # every path answers 200, the authenticated route refuses an anonymous caller, same body both ways
        status, authed_body, _ = request(gw_port, "GET", f"/api/v1/resource/nodes/{wc}", token=token)
        assert status == 200, (status, authed_body)
        assert request(gw_port, "GET", f"/api/v1/resource/nodes/{wc}", token=api_token)[0] == 200
        assert request(gw_port, "GET", f"/api/v1/resource/nodes/{wc}")[0] == 401
        status, open_body, _ = request(open_port, "GET", f"/bench/open/nodes/{wc}")
        assert status == 200 and open_body == authed_body, (status, open_body, authed_body)
        log(f"work center {wc} and an API token created; jwt, api_token and open answer 200 (anonymous: 401)")

        def load(path, duration):
            return http_load(urls[path], duration, CONNECTIONS, [headers[path]] if headers[path] else [])

        gw_of = {"jwt": "gateway", "api_token": "gateway", "open": "open_gateway", "open_hdr": "open_gateway"}
        wait_quiet(max_wait=5 if args.quick else 30)
        log("warm-up")
        for path in PATHS:
            load(path, 1 if args.quick else 2)
        machine = MachineCpu().start().track([p.pid for p in procs.values()])
        backing = BackingCpu().start()
        results, cpu = interleaved_rounds(
            PATHS, args.rounds, lambda path: load(path, args.duration),
            lambda path: {"gw": procs[gw_of[path]].pid, **{n: procs[n].pid for n in ("auth_service", "resource_service")}})
        busy, ours = machine.stop()
        backing_usage = backing.stop()

    # ------------------------------------------------------------------ report
    defaults = argon2.PasswordHasher()
    d = {k: getattr(defaults, k) for k in ("time_cost", "memory_cost", "parallelism", "hash_len", "salt_len")}
    same = all(getattr(params, k) == v for k, v in d.items())
    print(f"\n1a. Password hashing in-process (auth_service.passwords): argon2 {params.type.name.lower()} "
          f"v={params.version}, time_cost={params.time_cost}, memory_cost={params.memory_cost} KiB "
          f"({params.memory_cost / 1024:g} MiB), parallelism={params.parallelism}, hash_len={params.hash_len}, "
          f"salt_len={params.salt_len}")
    print(f"    (argon2.PasswordHasher() defaults: {', '.join(f'{k}={v}' for k, v in d.items())}"
          f"{': the same' if same else ': DIFFERENT from the hashes made'})")
    rows = []
    for kind, label in (("hash", "hash_password"), ("verify", "verify (right password)"),
                        ("verify_wrong", "verify (wrong password)")):
        s = summary_ms(timings[kind])
        rows.append((label, s["n"], s["p50"], s["p99"], s["mean"]))
    table(["operation", "runs", "p50 ms", "p99 ms", "mean ms"], rows)

    rows = []
    for kind, label in (("ok", "success (plant engineer)"), ("unknown", "failure: unknown user"),
                        ("wrong", "failure: wrong password")):
        s = summary_ms(timings[kind])
        rows.append((label, s["n"], s["p50"], s["p99"], s["max"],
                     ", ".join(f"{k}x{v}" for k, v in sorted(statuses[kind].items()))))
    table(["POST /api/v1/auth/login (sequential)", "runs", "p50 ms", "p99 ms", "max ms", "statuses"], rows,
          title="1b. Sign-in through the gateway and the auth service (rounds interleaved with 1a)")
    p50 = {k: percentile([t * 1000 for t in v], 50) for k, v in timings.items()}
    print(f"argon2 verify (in-process p50) is {ratio(p50['verify'], p50['ok']) * 100:.0f}% of a successful "
          f"sign-in (p50); unknown user / wrong password p50 = {ratio(p50['unknown'], p50['wrong']):.3f}")

    burst_ok = [seconds for seconds, status in burst_logins if status == 200]
    burst_statuses = {}
    for _, status in burst_logins:
        burst_statuses[status] = burst_statuses.get(status, 0) + 1
    seq, burst = summary_ms(timings["ok"]), summary_ms(burst_ok)
    idle, busy_probe = summary_ms(idle_probes), summary_ms(burst_probes)
    table(["", "runs", "p50 ms", "p99 ms", "max ms", "per second", "statuses"],
          [(f"sign-in, {BURST} at once", burst["n"], burst["p50"], burst["p99"], burst["max"],
            len(burst_logins) / burst_wall, ", ".join(f"{k}x{v}" for k, v in sorted(burst_statuses.items(), key=str))),
           ("sign-in, sequential (1b)", seq["n"], seq["p50"], seq["p99"], seq["max"], ratio(1000, seq["mean"]), ""),
           ("session_active RPC during the burst", busy_probe["n"], busy_probe["p50"], busy_probe["p99"],
            busy_probe["max"], "", ""),
           ("session_active RPC before it (idle)", idle["n"], idle["p50"], idle["p99"], idle["max"], "", "")],
          title=f"1c. A burst of sign-ins: {BURST} clients signing in at once through the gateway, the auth "
                f"service probed meanwhile (auth_service.session_active over RPC, every {PROBE_GAP * 1000:g} ms)")
    print(f"sign-in p50, {BURST} at once / sequential: {ratio(burst['p50'], seq['p50']):.2f}x; "
          f"session_active p50 during / before the burst: {ratio(busy_probe['p50'], idle['p50']):.2f}x; "
          f"auth service process CPU during the burst: {auth_cpu:.0f}% (of one CPU; 2 hashes at once: up to ~200%)")

    names = list(dict.fromkeys(list(micro["plain"]["rows"]) + list(micro["eventlet"]["rows"])))
    rows = []
    for name in names:
        a, b = micro["plain"]["rows"].get(name, {}), micro["eventlet"]["rows"].get(name, {})
        nan = float("nan")
        rows.append((name, a.get("n", b.get("n", 0)), a.get("p50_us", nan), a.get("p99_us", nan),
                     a.get("mean_us", nan), a.get("cpu_us", nan), b.get("p50_us", nan), b.get("p99_us", nan),
                     b.get("mean_us", nan), b.get("cpu_us", nan)))
    table(["in-process, us per call", "calls", "plain p50", "p99", "mean", "CPU", "eventlet p50", "p99", "mean",
           "CPU"], rows,
          title="2. Token checks at the gateway (the real access token, its session in sync and not revoked; "
                "Redis: the local server)")
    print("p50/p99: single calls; mean: wall time per call of a tight loop; CPU: this process's CPU per call "
          "(Redis's own work and the wait for it excluded); the Redis row is for comparison: the gateway no "
          "longer asks Redis per request")
    for mode in ("plain", "eventlet"):
        for name, err in micro[mode]["errors"].items():
            print(f"NOT MEASURED ({mode}) {name}: {err}")
    vp = micro["plain"]["rows"]
    if "verify_access_token, PEM text" in vp and "verify_access_token, loaded key" in vp:
        print(f"PEM text / loaded key: {ratio(vp['verify_access_token, PEM text']['mean_us'], vp['verify_access_token, loaded key']['mean_us']):.2f}x; "
              "the gateway verifies a token once, then serves it from its cache (+ the in-memory revocation "
              "lookup)")
    prop = micro["eventlet"].get("propagation")
    if prop:
        reach, calls, later = (summary_ms(prop[k]) for k in ("reach_s", "publish_s", "after_s"))
        table(["", "revocations", "p50 ms", "p90 ms", "p99 ms", "max ms"],
              [("publish -> watcher reports revoked", reach["n"], reach["p50"], reach["p90"], reach["p99"],
                reach["max"]),
               ("RevocationList.publish call itself", calls["n"], calls["p50"], calls["p90"], calls["p99"],
                calls["max"]),
               ("of which still to wait once publish returned", later["n"], later["p50"], later["p90"],
                later["p99"], later["max"])],
              title="2b. A revocation's way to a gateway: RevocationList.publish (ZADD + PUBLISH) until a running "
                    "RevocationWatcher (same process, its run() in an eventlet greenthread) reports it revoked")
        if prop["missed"]:
            print(f"WARNING {prop['missed']} of {prop['n']} revocations not seen within 5 s")

    agg = {}
    for path, runs in results.items():
        agg[path] = combined = combine_loads(runs)
        for key, label in (("cpu_gw", "gw"), ("cpu_rs", "resource_service"), ("cpu_auth", "auth_service")):
            combined[key] = cpu[path].get(label, float("nan")) / combined["requests"] * 1e6 \
                if combined["requests"] else float("nan")
    rows = [(LABELS[p], agg[p]["rps"], agg[p]["p50"], agg[p]["p99"], agg[p]["max"], agg[p]["requests"],
             agg[p]["errors"], agg[p]["cpu_gw"], agg[p]["cpu_rs"], agg[p]["cpu_auth"], agg[p]["rounds_rps"])
            for p in PATHS]
    table(["path", "req/s", "p50 ms", "p99 ms", "max ms", "requests", "errors", "gw CPU us/req",
           "resource CPU us/req", "auth CPU us/req", "req/s per round"],
          rows, title=f"3. Gateway GET of one work center, {CONNECTIONS} connections, {client}")
    print("gw CPU: CPU of the gateway process serving the path (real or open) per request; "
          "resource/auth CPU: of those services")
    print(cpu_line(busy, ours, "measured rounds"))
    print(backing_line(backing_usage))
    print(f"INFO gateway CPU per request minus open's: jwt {agg['jwt']['cpu_gw'] - agg['open']['cpu_gw']:+.0f} us, "
          f"api_token {agg['api_token']['cpu_gw'] - agg['open']['cpu_gw']:+.0f} us, "
          f"open_hdr {agg['open_hdr']['cpu_gw'] - agg['open']['cpu_gw']:+.0f} us; "
          f"p50 ratio jwt/open {ratio(agg['jwt']['p50'], agg['open']['p50']):.3f}, "
          f"p99 ratio jwt/open {ratio(agg['jwt']['p99'], agg['open']['p99']):.3f}")
    print(f"INFO were the gateway process the bottleneck, authed/open rps would be about open/authed gateway CPU "
          f"per request: jwt {ratio(agg['open']['cpu_gw'], agg['jwt']['cpu_gw']):.3f}, "
          f"api_token {ratio(agg['open']['cpu_gw'], agg['api_token']['cpu_gw']):.3f}")
    print()
    goal("authed (access token) rps / open rps", ratio(agg["jwt"]["rps"], agg["open"]["rps"]), ">=", 0.9)
    goal("authed (API token) rps / open rps", ratio(agg["api_token"]["rps"], agg["open"]["rps"]), ">=", 0.9)


if __name__ == "__main__":
    main()
