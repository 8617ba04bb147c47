"""(issue 17) The drill: a mixed shop-floor load through the gateway, with faults, on every process ×2.

The whole MES runs under the supervisor with two instances of every service and of the gateway
(`mes run --replicas all=2`), on a RabbitMQ node of its own (restarted by the drill), its own
databases (two behind a TCP proxy the drill cuts), a Redis database of its own (flushed).

Load (open loop, through the gateway, like terminals on the shop floor): work orders are created,
released, started, consumed against three times (an idempotency key each, retried with it until
answered) and completed (serial output, genealogy); lots are moved between locations; dispatch
lists, work orders, lot balances and traces are read. Latency per transaction type: p50, p95, p99.

1. `--find`: steps of `--step` seconds at rising rates, without faults; the highest rate whose p95
   stays under 200 ms with every transaction answered is what the machine sustains.
2. The fault run: `--duration` seconds at `--rate` (or the rate found, if lower) while, in turn:
   SIGKILL of instance 1 of every process; the broker restarted; the material database restarted
   (its connections cut for 5 s); the Redis database flushed; a relay killed between publishing and
   marking published; the traceability database (a stream consumer's) down for 60 s; a poison event.
   Each fault's recovery: how long requests kept failing and how many did, and for a killed process
   how long until it answered again.
3. Verification once the load stops and the events have drained: every consumption answered is in
   material's ledger exactly once (and one never answered at most once); every move answered is in
   it exactly once; every completed order has one serial, produced once; traceability's genealogy
   holds every lot consumed into every order and the serial it produced; no event is in a
   dead-letter queue but the poison one.

    .venv/bin/python bench/drill.py                # find the rate, then 10 minutes with faults
    .venv/bin/python bench/drill.py --quick        # 2 minutes, 30/s: the drill's own smoke test
"""
import collections
import concurrent.futures
import datetime
import itertools
import os
import random
import select
import signal
import socket
import threading
import time
import uuid
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text

from _common import BenchEnv, cpu_seconds, free_port, log, machine_line, parse_args, percentile, table

from auth_service.testing import bearer
from mes_common import broker, registry
from mes_common.rpc import ClusterRpcProxy
from mes_common.supervisor import Supervisor, instances
from mes_common.testing.broker import ThrowawayRabbit
from mes_common.testing.fixtures import create_test_vhost

REPO = Path(__file__).resolve().parents[1]
STANDARDS = (REPO / "../shared/standards").resolve()
WORK_CENTERS, LOTS = 8, 16
CONSUMES = 3                     # per order
REDIS_DB = 7                     # the drill's own: flushed as a fault
# a business transaction of each kind, per 100 (the order steps follow each order's life)
MIX = {"dispatch_list": 18, "work_order": 12, "balance": 6, "trace": 6, "move": 12, "order_step": 46}
P95_GOAL = 0.200


# ----------------------------------------------------------------------------- a cuttable database

class Proxy:
    """TCP proxy to PostgreSQL whose connections the drill cuts (a database restart, an outage)."""

    def __init__(self, target_port=5432):
        self.port, self.target = free_port(), target_port
        self.down_until = 0.0
        self.pairs, self.lock = set(), threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            if time.monotonic() < self.down_until:
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.add((client, server))
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, client, server):
        ends = {client: server, server: client}
        try:
            while True:
                ready, _, _ = select.select(list(ends), [], [], 1.0)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    ends[sock].sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                self.pairs.discard((client, server))
            for sock in (client, server):
                sock.close()

    def cut(self, seconds):
        """Every connection dropped, new ones refused for `seconds`."""
        self.down_until = time.monotonic() + seconds
        with self.lock:
            pairs = list(self.pairs)
        for client, server in pairs:
            for sock in (client, server):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


# ----------------------------------------------------------------------------- the shop floor

class Plant:
    """What the load works on, and what it was told (for the verification)."""

    def __init__(self, base, headers):
        self.base, self.headers = base, headers
        self.work_centers, self.products, self.lots, self.locations = [], [], [], []
        self.stock = []                  # lots consumed from (never moved: one location each)
        self.site = None
        self.lock = threading.Lock()
        self.orders = {}                 # id -> Order
        self.idle = collections.deque()  # orders ready for their next step
        self.numbers = itertools.count()
        self.consumed = {}               # idempotency key -> (order id, quantity, answered)
        self.moves = {}                  # reference -> answered
        self.completed = set()           # order ids whose completion was answered
        self.lot_place = {}              # lot id -> location it is at (moves alternate)


class Order:
    def __init__(self, product):
        self.product, self.id, self.op = product, None, None
        self.step = "create"             # create, release, start, consume-0.., complete, done
        self.consumes = 0


def setup(cluster, plant, user_id):
    r, m = cluster.resource_service, cluster.material_service
    ent = r.create_node({"level": "enterprise", "code": "ACME", "name": "Acme"})
    plant.site = r.create_node({"level": "site", "code": "TLS", "name": "Toulouse", "parent_id": ent["id"]})["id"]
    area = r.create_node({"level": "area", "code": "MACH", "name": "Machining", "parent_id": plant.site})
    for i in range(WORK_CENTERS):
        plant.work_centers.append(r.create_node({"level": "work_center", "code": f"WC-{i:02d}", "name": f"Cell {i}",
                                                 "parent_id": area["id"]})["id"])
    plant.locations = [m.create_location({"code": code, "name": code})["id"] for code in ("RM-A", "RM-B")]
    bar = m.create_part({"part_number": "BAR-7075", "name": "bar", "uom": "kg", "type": "raw", "lot_controlled": True})
    for i, wc in enumerate(plant.work_centers):
        part = m.create_part({"part_number": f"BRK-{i}", "name": f"Bracket {i}", "type": "assembly",
                              "serial_controlled": True})
        m.set_bom(part["id"], {"components": [{"part_id": bar["id"], "quantity": 1, "uom": "kg"}]})
        routing = r.create_routing({"part_id": part["id"], "part_revision": "A", "operations": [
            {"sequence": 10, "name": "Make", "work_center_id": wc, "setup_time": 1, "run_time": 1}]})
        r.release_routing(routing["id"], {"version": 1})
        plant.products.append(part["id"])
    for i in range(LOTS):
        lot = m.receive_lot({"part_id": bar["id"], "quantity": 1_000_000, "location_id": plant.locations[0],
                             "supplier": "Alcoa"})
        m.set_lot_status(lot["id"], {"status": "released", "reason": "drill"})
        if i % 2:    # half are moved about (a lot split over two locations is consumed naming one)
            plant.lots.append(lot["id"])
            plant.lot_place[lot["id"]] = plant.locations[0]
        else:
            plant.stock.append(lot["id"])


class Load:
    """Open-loop load: transactions start on a clock, whatever the answers take."""

    def __init__(self, plant, workers=96):
        self.plant = plant
        self.pool = concurrent.futures.ThreadPoolExecutor(workers)
        self.local = threading.local()
        self.results = []                # (start monotonic, kind, seconds, ok, status)
        self.lock = threading.Lock()
        self.stopped = False
        self.in_flight = 0

    def session(self):
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers.update(self.plant.headers)
        return self.local.session

    def call(self, method, path, body=None):
        return self.session().request(method, self.plant.base + path, json=body, timeout=10)

    def record(self, started, kind, ok, status):
        with self.lock:
            self.results.append((started, kind, time.monotonic() - started, ok, status))
            self.in_flight -= 1

    def run(self, rate, seconds, on_tick=None):
        weights = list(MIX.values())
        kinds = list(MIX)
        start = time.monotonic()
        n = 0
        while not self.stopped:
            due = start + n / rate
            now = time.monotonic()
            if due - start >= seconds:
                break
            if due > now:
                time.sleep(due - now)
            kind = random.choices(kinds, weights)[0]
            with self.lock:
                self.in_flight += 1
            self.pool.submit(self.one, kind)
            n += 1
            if on_tick:
                on_tick(time.monotonic() - start)
        return n

    def one(self, kind):
        started = time.monotonic()
        try:
            if kind == "order_step":
                kind, ok, status = self.order_step()
            else:
                ok, status = getattr(self, kind)()
        except requests.RequestException as exc:
            ok, status = False, type(exc).__name__
        except Exception as exc:  # a bug of the drill: count it, never hide it
            ok, status = False, f"drill {type(exc).__name__}: {exc}"
        self.record(started, kind, ok, status)

    # -- reads
    def dispatch_list(self):
        response = self.call("GET", f"/api/v1/work-centers/{random.choice(self.plant.work_centers)}/dispatch-list")
        return response.status_code == 200, response.status_code

    def work_order(self):
        with self.plant.lock:
            ids = list(self.plant.completed)[-200:] or [o.id for o in self.plant.orders.values() if o.id][-200:]
        if not ids:
            return self.dispatch_list()
        response = self.call("GET", f"/api/v1/work-orders/{random.choice(ids)}")
        return response.status_code == 200, response.status_code

    def balance(self):
        response = self.call("GET", f"/api/v1/material/lots/{random.choice(self.plant.lots + self.plant.stock)}")
        return response.status_code == 200, response.status_code

    def trace(self):
        response = self.call("GET", f"/api/v1/trace/nodes/{random.choice(self.plant.stock)}/forward?depth=2")
        return response.status_code == 200, response.status_code

    # -- writes
    def move(self):
        plant = self.plant
        with plant.lock:
            lot = random.choice(plant.lots)
            here = plant.lot_place[lot]
            plant.lot_place[lot] = None          # nobody else moves it until this answers
        if here is None:
            return self.balance()
        there = plant.locations[1] if here == plant.locations[0] else plant.locations[0]
        reference = f"drill-{uuid.uuid4().hex[:16]}"
        plant.moves[reference] = False
        try:
            response = self.call("POST", f"/api/v1/material/lots/{lot}/move", {
                "quantity": 1, "location_id": here, "to_location_id": there, "reason": "drill", "reference": reference})
        except requests.RequestException:
            response = None
        ok = response is not None and response.status_code == 200
        with plant.lock:   # where it is now: the ledger says (an unanswered move may or may not have happened)
            plant.moves[reference] = ok
            plant.lot_place[lot] = there if ok else self._where(lot, here, there)
        return ok, response.status_code if response is not None else "no answer"

    def _where(self, lot, here, there):
        try:
            balances = self.call("GET", f"/api/v1/material/lots/{lot}").json().get("balances", [])
            at = {b["location_id"]: float(b["quantity"]) for b in balances}
            # the lot is split over both after a move: move from where more of it is
            return max((here, there), key=lambda loc: at.get(loc, 0.0))
        except (requests.RequestException, ValueError, KeyError):
            return here

    def order_step(self):
        plant = self.plant
        with plant.lock:
            order = plant.idle.popleft() if plant.idle and len(plant.idle) > 24 else None
        if order is None:
            order = Order(random.choice(plant.products))
        step = order.step
        try:
            ok, status = getattr(self, "step_" + step.split("-")[0])(order)
        except requests.RequestException as exc:
            ok, status = False, type(exc).__name__
        with plant.lock:
            if order.step != "done":
                plant.idle.append(order)
        return f"order:{step.split('-')[0]}", ok, status

    def step_create(self, order):
        plant = self.plant
        response = self.call("POST", "/api/v1/work-orders", {
            "part_id": order.product, "quantity": 1, "due_date": "2027-12-31", "site_id": plant.site})
        if response.status_code == 201 or response.status_code == 200:
            order.id = response.json()["id"]
            order.step = "release"
            with plant.lock:
                plant.orders[order.id] = order
            return True, response.status_code
        return False, response.status_code     # an unanswered create leaves an order nobody works: harmless

    def _refresh(self, order):
        """What the order really is after an unanswered or refused step (as a terminal would reload)."""
        got = self.call("GET", f"/api/v1/work-orders/{order.id}")
        if got.status_code != 200:
            return
        body = got.json()
        if not body["operations"]:      # not released yet
            return
        op = body["operations"][0]
        order.op = op["id"]
        if body["status"] == "completed":
            order.step = "done"
            with self.plant.lock:
                self.plant.completed.add(order.id)
        elif op["status"] == "running" and order.step in ("release", "start"):
            order.step = "consume-0"
        elif body["status"] == "released" and order.step == "release":
            order.step = "start"

    def step_release(self, order):
        response = self.call("POST", f"/api/v1/work-orders/{order.id}/release", {})
        if response.status_code == 200:
            order.op = response.json()["operations"][0]["id"]
            order.step = "start"
            return True, 200
        self._refresh(order)
        return False, response.status_code

    def step_start(self, order):
        response = self.call("POST", f"/api/v1/work-orders/{order.id}/operations/{order.op}/start", {})
        if response.status_code == 200:
            order.step = "consume-0"
            return True, 200
        self._refresh(order)
        return False, response.status_code

    def step_consume(self, order):
        plant = self.plant
        k = order.consumes
        key = f"drill-{order.id}-{k}"
        quantity = round(0.25 + k / 1000, 3)       # unique within the order: the ledger row tells which
        lot = plant.stock[hash(order.id) % len(plant.stock)]
        plant.consumed.setdefault(key, [order.id, quantity, False])
        response = self.call("POST", f"/api/v1/work-orders/{order.id}/operations/{order.op}/consume", {
            "items": [{"lot_id": lot, "quantity": quantity}], "idempotency_key": key})
        if response.status_code == 200:
            plant.consumed[key][2] = True
            order.consumes += 1
            order.step = "complete" if order.consumes >= CONSUMES else f"consume-{order.consumes}"
            return True, 200
        return False, response.status_code       # retried later with the same key

    def step_complete(self, order):
        response = self.call("POST", f"/api/v1/work-orders/{order.id}/operations/{order.op}/complete", {"good": 1})
        if response.status_code == 200:
            order.step = "done"
            with self.plant.lock:
                self.plant.completed.add(order.id)
            return True, 200
        self._refresh(order)
        return False, response.status_code

    def wait_idle(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.2)

    def finish_orders(self, timeout=300):
        """Every order begun is taken to its end (what the shop floor would do after a shift)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.plant.lock:
                pending = [o for o in self.plant.idle if o.id and o.step != "done"]
                self.plant.idle.clear()
            if not pending:
                return 0
            for order in pending:
                for _ in range(CONSUMES + 3):
                    if order.step == "done":
                        break
                    try:
                        getattr(self, "step_" + order.step.split("-")[0])(order)
                    except requests.RequestException:
                        time.sleep(0.5)
        return len(pending)


# ----------------------------------------------------------------------------- figures

def latency_table(results, title):
    by_kind = collections.defaultdict(list)
    failed = collections.Counter()
    for _, kind, seconds, ok, status in results:
        by_kind[kind].append(seconds)
        if not ok:
            failed[kind] += 1
    rows = []
    for kind in sorted(by_kind):
        values = sorted(by_kind[kind])
        rows.append([kind, len(values), failed[kind], f"{percentile(values, 50) * 1e3:.1f}",
                     f"{percentile(values, 95) * 1e3:.1f}", f"{percentile(values, 99) * 1e3:.1f}"])
    everything = sorted(seconds for _, _, seconds, _, _ in results)
    rows.append(["all", len(everything), sum(failed.values()), f"{percentile(everything, 50) * 1e3:.1f}",
                 f"{percentile(everything, 95) * 1e3:.1f}", f"{percentile(everything, 99) * 1e3:.1f}"])
    table(["transaction", "n", "failed", "p50 ms", "p95 ms", "p99 ms"], rows, title=title)
    reasons = collections.Counter((kind, str(status)) for _, kind, _, ok, status in results if not ok)
    if reasons:
        print("failures: " + "; ".join(f"{kind} {status} ×{n}" for (kind, status), n in reasons.most_common(8)))
    return percentile(everything, 95), sum(failed.values())


class CpuMeter:
    """CPU seconds per service (every instance, restarts included), sampled from /proc."""

    def __init__(self, supervisor):
        self.supervisor, self.seen, self.total = supervisor, {}, collections.Counter()
        self.running = True
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while self.running:
            self.sample()
            time.sleep(1.0)

    def sample(self):
        for name, state in self.supervisor.status().items():
            pid = state["pid"]
            if not pid or not state["alive"]:
                continue
            now = cpu_seconds(pid)
            if now is None:
                continue
            before = self.seen.get(pid, 0.0)
            self.total[name.rsplit(".", 1)[0]] += max(0.0, now - before)
            self.seen[pid] = now

    def reset(self):
        self.sample()
        self.total.clear()


class DatabaseWork:
    """What each service's database did during the run (pg_stat_database): where one database per
    service meets its limit first."""

    COLUMNS = "xact_commit, tup_inserted + tup_updated + tup_deleted, tup_returned + tup_fetched, blks_read"

    def __init__(self, env):
        self.env = env
        self.before = self.read()

    def read(self):
        names = {url.rsplit("/", 1)[1]: service for service, url in self.env.databases.items()}
        engine = create_engine(self.env.pg_admin_url)
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT datname, {self.COLUMNS} FROM pg_stat_database "
                                     "WHERE datname = ANY(:names)"), {"names": list(names)}).all()
        engine.dispose()
        return {names[row[0]]: row[1:] for row in rows}

    def report(self, seconds):
        after = self.read()
        rows = []
        for service in sorted(after, key=lambda s: -(after[s][1] - self.before.get(s, (0, 0, 0, 0))[1])):
            delta = [a - b for a, b in zip(after[service], self.before.get(service, (0, 0, 0, 0)))]
            rows.append([service, f"{delta[0] / seconds:.0f}", f"{delta[1] / seconds:.0f}", f"{delta[2] / seconds:.0f}",
                         delta[3]])
        table(["database", "commits/s", "rows written/s", "rows read/s", "blocks read from disk"], rows,
              title="each service's database during the fault run")


def disruption(results, at, until):
    """After a fault at `at` (until the next one): how long requests kept failing, and how many did."""
    failures = [start for start, _, _, ok, _ in results if not ok and at <= start < until]
    if not failures:
        return 0.0, 0
    return max(failures) - at, len(failures)


# ----------------------------------------------------------------------------- main

def main():
    args = parse_args(__doc__.splitlines()[0], quick={"duration": 120, "rate": 30.0, "find": 0, "step": 30},
                      rate=(float, 150.0, "business transactions per second in the fault run"),
                      duration=(int, 600, "seconds of the fault run"),
                      find=(int, 1, "first find the highest rate with p95 < 200 ms (1) or not (0)"),
                      step=(int, 45, "seconds of each rate step while finding"),
                      replicas=(int, 2, "instances of every process"))
    print(f"bench/drill.py — the whole MES ×{args.replicas} under load and faults ({machine_line()})")
    with BenchEnv("drill", keep=args.keep) as env, ThrowawayRabbit() as rabbit:
        create_test_vhost(env.vhost, node=rabbit)
        for spec in registry.SERVICES:
            env.create_database(spec.name, spec.name)
        proxies = {name: Proxy() for name in ("material_service", "traceability_service")}
        databases = dict(env.databases)
        for name, proxy in proxies.items():
            databases[name] = databases[name].replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        port = free_port()
        keys = env.tmp / "keys"
        base_config = env.config()
        kill_file = env.tmp / "kill-after-publish"
        config_path = env.write_config(
            "drill", AMQP_URI=broker.process_uri(
                {**base_config, "AMQP_URI": f"amqp://guest:guest@127.0.0.1:{rabbit.port}/{env.vhost}"}, broker.CLI),
            DATABASE_URLS={**base_config["DATABASE_URLS"], **databases},
            REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
            STANDARDS_DIR=str(STANDARDS), RPC_TIMEOUT=10, REPORTING_CLOCK_INTERVAL=30,
            AUTH={**base_config["AUTH"], "PRIVATE_KEY_FILE": str(keys / "signing_key.pem"),
                  "PUBLIC_KEY_FILE": str(keys / "signing_key.pub.pem"), "SECRETS_KEY_FILE": str(keys / "secrets.key"),
                  "GENERATE_KEYS": True},
            INTEGRATION={**base_config.get("INTEGRATION", {}), "SECRETS_KEY_FILE": str(keys / "integration.key"),
                         "GENERATE_KEYS": True},
            METRICS={"PORT": 0})
        import yaml
        config = yaml.safe_load(config_path.read_text())
        supervisor = Supervisor(instances(registry.processes(), {p.name: args.replicas for p in registry.processes()}),
                                config_path,
                                env={"MES_DRILL_KILL_AFTER_PUBLISH": str(kill_file),
                                     "PYTHONPATH": str(REPO)},
                                log_dir=env.tmp / "logs", stop_timeout=10, cwd=str(REPO), out=open(os.devnull, "w"))
        supervisor.start()
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180
            while True:
                try:
                    if requests.get(f"{base}/ready", timeout=3).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, "the MES did not become ready"
                time.sleep(1)
            log(f"{len(supervisor.status())} processes ready")
            with ClusterRpcProxy(config, timeout=60) as cluster:
                user = cluster.auth_service.create_user({"username": "olga", "display_name": "Olga Operator",
                                                         "roles": ["operator"], "password": "drill pumpkin violin 7"})
                plant = Plant(base, {"Authorization": bearer(config, subject=user["id"], name="olga",
                                                              roles=("admin",), ttl=datetime.timedelta(hours=3))})
                setup(cluster, plant, user["id"])
            log("plant, parts, routings and 16 lots ready")
            load = Load(plant)
            cpu = CpuMeter(supervisor)

            # -- 1. the rate this machine sustains
            rate = args.rate
            if args.find:
                found = None
                for step_rate in (20, 30, 40, 50, 75, 100, 150):
                    load.results.clear()
                    cpu.reset()
                    sent = load.run(step_rate, args.step)
                    load.wait_idle()
                    p95, failed = latency_table(load.results, f"step: {step_rate}/s for {args.step} s "
                                                              f"({sent} sent)")
                    print("CPU cores per service: " + ", ".join(f"{k} {v / args.step:.2f}"
                                                                for k, v in cpu.total.most_common()))
                    if p95 < P95_GOAL and failed == 0:
                        found = step_rate
                    else:
                        break
                rate = min(args.rate, found or 25)
                print(f"sustained with p95 < {P95_GOAL * 1e3:.0f} ms: {found}/s; the fault run goes at {rate:g}/s")

            # -- 2. the fault run
            load.results.clear()
            cpu.reset()
            database_work = DatabaseWork(env)
            t0 = time.monotonic()
            faults = schedule_faults(args.duration, supervisor, rabbit, proxies, kill_file, config, env)
            done = set()

            def on_tick(elapsed):
                for at, name, action in faults:
                    if elapsed >= at and name not in done:
                        done.add(name)
                        threading.Thread(target=run_fault, args=(name, action, t0, fired), daemon=True).start()

            fired = {}
            sent = load.run(rate, args.duration, on_tick)
            load.wait_idle()
            elapsed = time.monotonic() - t0
            p95, failed = latency_table(load.results, f"fault run: {rate:g}/s for {args.duration} s "
                                                      f"({sent} sent, {len(load.results) / elapsed:.1f}/s answered)")
            print("CPU cores per service: " + ", ".join(f"{k} {v / elapsed:.2f}" for k, v in cpu.total.most_common())
                  + f" (total {sum(cpu.total.values()) / elapsed:.2f} of 2)")
            rows = []
            times = sorted(at for at, _ in fired.values()) + [t0 + elapsed]
            for name, (at, extra) in sorted(fired.items(), key=lambda item: item[1][0]):
                until = min(t for t in times if t > at) if any(t > at for t in times) else at + 60
                window, count = disruption(load.results, at, min(until, at + 60))
                rows.append([name, f"{at - t0:.0f}", f"{window:.1f}", count, extra])
            table(["fault", "at s", "failing for s", "failed requests", "process back after"], rows,
                  title="faults and recovery")
            cpu.running = False
            database_work.report(elapsed)

            # -- 3. nothing lost, nothing applied twice
            left = load.finish_orders()
            log(f"orders taken to their end ({left} left)")
            drain(env, config)
            deadline = time.monotonic() + 180   # events a consumer's outage sent back wait up to their last delay
            while not verify(env, plant, config, rabbit, final=time.monotonic() > deadline):
                time.sleep(10)
        finally:
            supervisor.stop()
            redis.Redis(port=6379, db=REDIS_DB).flushdb()


def schedule_faults(duration, supervisor, rabbit, proxies, kill_file, config, env):
    """(at seconds, name, action returning a note) spread over the run."""
    scale = duration / 600
    faults = []
    for i, spec in enumerate(registry.processes()):
        name = f"{spec.name}.1"
        faults.append((30 * scale + 20 * i * scale, f"SIGKILL {name}",
                       lambda name=name: kill_instance(supervisor, name)))
    faults += [
        (220 * scale, "broker restart", lambda: restart_broker(rabbit)),
        (300 * scale, "material database restart (5 s)", lambda: cut(proxies["material_service"], 5)),
        (340 * scale, "Redis flushed", lambda: redis.Redis(port=6379, db=REDIS_DB).flushdb() and "-"),
        (370 * scale, "relay killed between publish and mark", lambda: arm(kill_file, supervisor)),
        (400 * scale, "traceability database down 60 s", lambda: cut(proxies["traceability_service"], 60)),
        (480 * scale, "poison event", lambda: poison(config)),
    ]
    return sorted(faults, key=lambda f: f[0])


def run_fault(name, action, t0, fired):
    at = time.monotonic()
    fired[name] = (at, "")
    try:
        note = action()
    except Exception as exc:
        note = f"FAILED: {type(exc).__name__}: {exc}"
    fired[name] = (at, note or "-")
    log(f"fault at {at - t0:.0f} s: {name}: {note}")


def kill_instance(supervisor, name):
    before = supervisor.status()[name]
    os.killpg(before["pid"], signal.SIGKILL)
    t = time.monotonic()
    while time.monotonic() - t < 120:
        state = supervisor.status()[name]
        if state["alive"] and state["pid"] != before["pid"] and (state["uptime"] or 0) > 0:
            return f"restarted in {time.monotonic() - t:.1f} s"
        time.sleep(0.1)
    return "not restarted in 120 s"


def restart_broker(rabbit):
    t = time.monotonic()
    rabbit.stop()
    rabbit.start()
    return f"broker down {time.monotonic() - t:.1f} s"


def cut(proxy, seconds):
    proxy.cut(seconds)
    time.sleep(seconds)
    return f"back after {seconds} s"


def arm(kill_file, supervisor):
    kill_file.write_text("x")
    t = time.monotonic()
    while kill_file.exists() and time.monotonic() - t < 60:
        time.sleep(0.1)
    return "fired" if not kill_file.exists() else "did not fire in 60 s"


def poison(config):
    from kombu import Connection, Exchange
    exchange = Exchange("material_service.events", type="topic", durable=True)
    with Connection(config["AMQP_URI"]) as conn:
        conn.Producer().publish({"not": "a cloudevent"}, exchange=exchange, routing_key="mes.material.lot.received",
                                serializer="json", declare=[exchange])
    return "published"


def drain(env, config, timeout=300):
    """Until every outbox is published and every stream has applied its events."""
    engines = {name: create_engine(url) for name, url in env.databases.items()}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = 0
        for engine in engines.values():
            with engine.connect() as conn:
                pending += conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar()
        if pending == 0:
            break
        time.sleep(1)
    time.sleep(5)   # the streams' last batches
    for engine in engines.values():
        engine.dispose()
    log(f"drained ({pending} events still unpublished)")


def verify(env, plant, config, rabbit, final=True):
    """The checks; printed once they all pass, or when `final`. True when all pass."""
    material = create_engine(env.databases["material_service"])
    trace = create_engine(env.databases["traceability_service"])
    rows = []
    with material.connect() as conn:
        ledger = conn.execute(text(
            "SELECT work_order_id::text, -quantity FROM inventory_transaction WHERE type = 'consume'")).all()
        moves = collections.Counter(conn.execute(text(
            "SELECT reference FROM inventory_transaction WHERE type = 'move' AND reference LIKE 'drill-%'")).scalars())
        serials = collections.Counter(conn.execute(text(
            "SELECT work_order_id::text FROM serial WHERE work_order_id IS NOT NULL")).scalars())
        produced = collections.Counter(conn.execute(text(
            "SELECT work_order_id::text FROM inventory_transaction WHERE type = 'produce'")).scalars())
        consumed_lots = {(wo, lot) for wo, lot in conn.execute(text(
            "SELECT DISTINCT work_order_id::text, lot_id::text FROM inventory_transaction WHERE type = 'consume'"))}
    rows_by_order = collections.Counter((wo, round(float(q), 3)) for wo, q in ledger)
    answered = [(o, q) for o, q, ok in plant.consumed.values() if ok]
    unanswered = [(o, q) for o, q, ok in plant.consumed.values() if not ok]
    lost = [c for c in answered if rows_by_order[c] != 1]
    twice = [c for c, n in rows_by_order.items() if n > 1]
    stray = [c for c in rows_by_order if c not in set(answered) | set(unanswered)]
    rows.append(["consumptions answered: in the ledger exactly once", len(answered), len(lost) + len(twice)])
    rows.append(["consumptions never answered: in the ledger at most once", len(unanswered),
                 sum(1 for c in unanswered if rows_by_order[c] > 1)])
    rows.append(["ledger consumptions nobody asked for", len(rows_by_order), len(stray)])
    per_move = max(moves.values(), default=1)   # a move is one or two ledger rows: the same for every move
    rows.append(["moves answered: in the ledger exactly once", sum(plant.moves.values()),
                 sum(1 for r, ok in plant.moves.items() if ok and moves[r] != per_move)])
    rows.append(["moves never answered: at most once", sum(not ok for ok in plant.moves.values()),
                 sum(1 for r, ok in plant.moves.items() if not ok and moves[r] not in (0, per_move))])
    rows.append(["completed orders: one serial each", len(plant.completed),
                 sum(1 for o in plant.completed if serials[o] != 1)])
    rows.append(["completed orders: output produced once", len(plant.completed),
                 sum(1 for o in plant.completed if produced[o] != 1)])
    with trace.connect() as conn:
        schema = conn.execute(text("SELECT active FROM model_state")).scalar()
        # consumed_into: lot -> the operation, with its work order; produced_by: work order -> serial
        edges = {(wo, lot) for lot, wo in conn.execute(text(
            f"SELECT from_id::text, work_order_id::text FROM {schema}.edge WHERE kind = 'consumed_into'"))}
        produced_by = collections.Counter(conn.execute(text(
            f"SELECT from_id::text FROM {schema}.edge WHERE kind = 'produced_by'")).scalars())
    rows.append(["genealogy: every lot consumed into every order (traceability)", len(consumed_lots),
                 len(consumed_lots - edges) + len(edges - consumed_lots)])
    rows.append(["genealogy: every completed order's serial (traceability)", len(plant.completed),
                 sum(1 for o in plant.completed if produced_by[o] != 1)])
    from mes_common.events.dead_letters import dead_letter_count
    from mes_common.events.topology import handler_queue_name
    from mes_common.events.stream import stream_queue_name
    poisoned = {
        "quality": dead_letter_count(config["AMQP_URI"], handler_queue_name(
            "material_service", "mes.material.lot.received", "quality_service", "on_lot_received")),
        "traceability": dead_letter_count(config["AMQP_URI"], stream_queue_name(
            "material_service", "traceability_service", "on_material")),
    }
    rows.append(["dead letters: the poison event only (quality, traceability)",
                 f"{poisoned['quality']}, {poisoned['traceability']}",
                 sum(1 for n in poisoned.values() if n not in (0, 1, None))])
    wrong = sum(r[2] for r in rows if isinstance(r[2], int))
    material.dispose()
    trace.dispose()
    if wrong and not final:
        log(f"verification: {wrong} not (yet) right; again in 10 s")
        return False
    table(["check", "n", "wrong"], rows, title="nothing lost, nothing applied twice")
    print(f"verification: {'PASS' if wrong == 0 else 'FAIL'} ({wrong} wrong)")
    return True


if __name__ == "__main__":
    main()
