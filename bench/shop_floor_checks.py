"""(issue 11) What the shop-floor checks add to starting an operation: the
resource service's qualification check and the recording of a tool's use.

Processes (each a real `nameko run`, throwaway databases built by the
migrations): the auth and resource services. The benchmark makes 200 people
with 5 qualifications each and 200 gauges, then calls from one client, back
to back:

    ping                 the resource service's liveness RPC: one round trip, the baseline;
    check_qualification  a person's 2 required skills (valid, one below level: a shortfall);
    use_assets           one gauge used on an operation (row lock, checks, insert, event).

A start adds one check_qualification, and one use_assets when it names tools.
"""
import datetime as dt
import time

from _common import BenchEnv, log, machine_line, parse_args, ratio, summary_ms, table, wait_quiet

SERVICES = {"auth_service": "auth_service.service:AuthService",
            "resource_service": "resource_service.service:ResourceService"}


def timed(call, n):
    seconds = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - t0)
    return summary_ms(seconds)


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"calls": 300, "people": 50},
                      calls=(int, 2000, "calls measured per RPC"), people=(int, 200, "people and gauges"))
    print(f"bench/shop_floor_checks.py — qualification check and tool use ({machine_line()})")
    from mes_common.rpc import ClusterRpcProxy

    with BenchEnv("shop_floor_checks", keep=args.keep) as env:
        env.start_services(SERVICES)
        log("auth and resource services up")
        today = dt.date.today()
        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=60) as cluster:
            auth, res = cluster.auth_service, cluster.resource_service
            skills = [res.create_skill({"code": f"SK-{i}", "name": f"Skill {i}", "levels": ["a", "b", "c"],
                                        "recertification_days": 365})["code"] for i in range(5)]
            people = [auth.create_user({"username": f"p{i}", "display_name": f"Person {i}", "roles": ["operator"],
                                        "password": "correct horse battery staple 42"})["id"]
                      for i in range(args.people)]
            for person in people:
                for code in skills:
                    res.grant_qualification({"user_id": person, "skill": code, "level": 2,
                                             "certified_on": (today - dt.timedelta(days=10)).isoformat()})
            gauges = [res.create_asset({"asset_number": f"TW-{i:04d}", "kind": "gauge", "type": "torque wrench",
                                        "calibration_interval_days": 180,
                                        "next_due_on": (today + dt.timedelta(days=90)).isoformat()})["id"]
                      for i in range(args.people)]
            log(f"{len(people)} people × {len(skills)} qualifications, {len(gauges)} gauges")
            wait_quiet(max_wait=5 if args.quick else 30)
            need = [{"skill": skills[0], "min_level": 2}, {"skill": skills[1], "min_level": 3}]
            i = iter(range(10 ** 9))
            ping = timed(lambda: res.ping(), args.calls)
            check = timed(lambda: res.check_qualification(
                {"user_id": people[next(i) % len(people)], "requirements": need}), args.calls)
            use = timed(lambda: res.use_assets({"asset_ids": [gauges[next(i) % len(gauges)]],
                                                "work_order_number": "WO-000001", "operation_sequence": 10,
                                                "used_by": "bench"}), args.calls)
        table(["RPC (one client, back to back)", "n", "p50 ms", "p99 ms", "mean ms"],
              [["ping (baseline)", ping["n"], ping["p50"], ping["p99"], ping["mean"]],
               ["check_qualification (2 skills)", check["n"], check["p50"], check["p99"], check["mean"]],
               ["use_assets (1 gauge)", use["n"], use["p50"], use["p99"], use["mean"]]],
              title="what a start adds")
        print(f"check / ping p50: {ratio(check['p50'], ping['p50']):.2f}; "
              f"use / ping p50: {ratio(use['p50'], ping['p50']):.2f}")


if __name__ == "__main__":
    main()
