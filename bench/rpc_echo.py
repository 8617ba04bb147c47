"""(a) Plain nameko RPC echo vs the platform's RPC echo.

Four service processes, one vhost:

    plain_caller    (stock nameko service, stock RpcProxy)       --> plain_echo    (stock @nameko.rpc.rpc)
    platform_caller (ServiceBase, mes_common.rpc.RpcClient)      --> platform_echo (ServiceBase, mes_common.rpc.rpc)

Caller shape, the same for both: the caller is a nameko service in its own
process; its `run` RPC entrypoint makes the echo calls in a loop
(`self.echo.echo(payload)`, as service code does) and times each one with
perf_counter. The benchmark driver (this process, a standalone
ClusterRpcProxy) only starts those loops and collects the timings, so its own
overhead is outside the measurement.

- sequential latency: one caller worker, N calls one after the other;
- concurrent throughput: 10 caller workers at once, each calling in a loop for
  a fixed duration; calls/s = all calls completed / duration.

Rounds alternate the order (plain first, then platform first, ...) to cancel
drift. CPU seconds used by each process per call are read from /proc.

Goal (issue 2): platform / plain <= 1.2 on sequential p50 and p99.
"""
import time

from _common import (BackingCpu, BenchEnv, MachineCpu, backing_line, cpu_line, cpu_seconds, goal,
                     log, machine_line, parse_args, ratio, summary_ms, table, wait_quiet)

SERVICES = '''
import time

import eventlet
from nameko.rpc import RpcProxy
from nameko.rpc import rpc as nameko_rpc

from mes_common.rpc import RpcClient, rpc
from mes_common.service import ServiceBase


def _loop(call, payload, n, start_at, until):
    """Time each call; n calls, or as many as fit before `until` (wall clock)."""
    if start_at:
        eventlet.sleep(max(0.0, start_at - time.time()))
    perf = time.perf_counter
    latencies = []
    if n:
        for _ in range(n):
            t0 = perf()
            call(payload)
            latencies.append(perf() - t0)
    else:
        while time.time() < until:
            t0 = perf()
            call(payload)
            latencies.append(perf() - t0)
    return latencies


class PlainEcho:
    name = "plain_echo"

    @nameko_rpc
    def echo(self, x):
        return x


class PlainCaller:
    name = "plain_caller"
    echo = RpcProxy("plain_echo")

    @nameko_rpc
    def run(self, payload, n=0, start_at=0.0, until=0.0):
        return _loop(lambda x: self.echo.echo(x), payload, n, start_at, until)


class PlatformEcho(ServiceBase):
    name = "platform_echo"

    @rpc
    def echo(self, x):
        return x


class PlatformCaller(ServiceBase):
    name = "platform_caller"
    echo = RpcClient("platform_echo")

    @rpc
    def run(self, payload, n=0, start_at=0.0, until=0.0):
        return _loop(lambda x: self.echo.echo(x), payload, n, start_at, until)
'''

PAYLOAD = {"id": "8c0d5a52-3f3e-4c4e-9d0a-6f5b2e7d9a10", "code": "WC-10", "name": "5-axis machining",
           "qty": 12, "active": True}
CONCURRENCY = 10
KINDS = ("plain", "platform")


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"calls": 400, "rounds": 2, "duration": 2.0},
                      calls=(int, 2000, "sequential calls per kind after warm-up (split over the rounds)"),
                      rounds=(int, 4, "interleaved rounds"),
                      duration=(float, 5.0, "seconds of each concurrent measurement"))
    print(f"bench/rpc_echo.py — plain nameko RPC vs platform RPC ({machine_line()})")
    print(f"sequential: {args.calls} calls per kind in {args.rounds} rounds; "
          f"concurrent: {CONCURRENCY} callers x {args.duration:g} s per round")

    from mes_common.rpc import ClusterRpcProxy

    with BenchEnv("rpc_echo", keep=args.keep) as env:
        env.write_module("echo_services", SERVICES)
        echo_cfg = env.write_config("echo")                       # config.yml as deployed (max_workers 10)
        caller_cfg = env.write_config("caller", max_workers=CONCURRENCY + 5)
        procs = {
            "plain_echo": env.start("plain_echo", "echo_services:PlainEcho", echo_cfg),
            "platform_echo": env.start("platform_echo", "echo_services:PlatformEcho", echo_cfg),
            "plain_caller": env.start("plain_caller", "echo_services:PlainCaller", caller_cfg),
            "platform_caller": env.start("platform_caller", "echo_services:PlatformCaller", caller_cfg),
        }
        for name in procs:
            env.wait_rpc(name)
        log("4 service processes up")

        seq = {k: [] for k in KINDS}
        conc_lat = {k: [] for k in KINDS}
        conc_calls = {k: 0 for k in KINDS}
        conc_time = {k: 0.0 for k in KINDS}
        cpu = {k: {"caller": 0.0, "echo": 0.0, "calls": 0} for k in KINDS}

        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=600) as cluster:
            callers = {"plain": cluster.plain_caller, "platform": cluster.platform_caller}

            def measured(kind, fn):
                pids = (procs[f"{kind}_caller"].pid, procs[f"{kind}_echo"].pid)
                before = [cpu_seconds(p) for p in pids]
                latencies = fn()
                after = [cpu_seconds(p) for p in pids]
                cpu[kind]["caller"] += after[0] - before[0]
                cpu[kind]["echo"] += after[1] - before[1]
                cpu[kind]["calls"] += len(latencies)
                return latencies

            def sequential(kind, n):
                return callers[kind].run(PAYLOAD, n=n)

            def concurrent(kind, duration):
                start_at = time.time() + 0.3
                until = start_at + duration
                replies = [callers[kind].run.call_async(PAYLOAD, start_at=start_at, until=until)
                           for _ in range(CONCURRENCY)]
                latencies = []
                for reply in replies:
                    latencies.extend(reply.result())
                return latencies

            wait_quiet(max_wait=10 if args.quick else 30)
            log("warm-up")
            for kind in KINDS:
                sequential(kind, 300)
                concurrent(kind, 1.0)

            per_round = max(1, args.calls // args.rounds)
            machine = MachineCpu().start().track([p.pid for p in procs.values()])
            backing = BackingCpu().start()
            for r in range(args.rounds):
                order = KINDS if r % 2 == 0 else tuple(reversed(KINDS))
                for kind in order:
                    seq[kind].extend(measured(kind, lambda: sequential(kind, per_round)))
                for kind in order:
                    lat = measured(kind, lambda: concurrent(kind, args.duration))
                    conc_lat[kind].extend(lat)
                    conc_calls[kind] += len(lat)
                    conc_time[kind] += args.duration
                log(f"round {r + 1}/{args.rounds} done ({' then '.join(order)})")
            busy, ours = machine.stop()
            backing_usage = backing.stop()

    s = {k: summary_ms(seq[k]) for k in KINDS}
    c = {k: summary_ms(conc_lat[k]) for k in KINDS}
    tput = {k: conc_calls[k] / conc_time[k] for k in KINDS}
    us = {k: {part: cpu[k][part] / cpu[k]["calls"] * 1e6 for part in ("caller", "echo")} for k in KINDS}
    def row(label, values):
        return (label, values["plain"], values["platform"], ratio(values["platform"], values["plain"]))

    rows = [("sequential calls", s["plain"]["n"], s["platform"]["n"], "")]
    rows += [row(f"sequential {q} (ms)", {k: s[k][q] for k in KINDS}) for q in ("p50", "p90", "p99", "max", "mean")]
    rows += [row(f"concurrent x{CONCURRENCY} calls/s", tput)]
    rows += [row(f"concurrent x{CONCURRENCY} {q} (ms)", {k: c[k][q] for k in KINDS}) for q in ("p50", "p99")]
    rows += [row(f"{part} CPU per call (us)", {k: us[k][part] for k in KINDS}) for part in ("caller", "echo")]
    table(["metric", "plain nameko", "platform", "platform/plain"], rows,
          title="RPC echo, caller service -> echo service (separate processes)")
    print(cpu_line(busy, ours, "measured rounds"))
    print(backing_line(backing_usage))
    print()
    goal("rpc_echo sequential p50 ratio platform/plain", ratio(s["platform"]["p50"], s["plain"]["p50"]), "<=", 1.2)
    goal("rpc_echo sequential p99 ratio platform/plain", ratio(s["platform"]["p99"], s["plain"]["p99"]), "<=", 1.2)
    print(f"INFO rpc_echo concurrent x{CONCURRENCY} throughput ratio platform/plain: "
          f"{ratio(tput['platform'], tput['plain']):.3f}")


if __name__ == "__main__":
    main()
