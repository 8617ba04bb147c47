"""Property-based fuzzing of the live gateway from its own OpenAPI document.

Schemathesis generates requests for every documented operation (valid ones and
ones that break the schema), sends them to the gateway with the resource
service behind it, and checks each answer: never a 5xx, only documented status
codes and content types, bodies that match the documented schema, invalid input
refused with a 4xx. A small plant is seeded first and path/body ids come from it
part of the time, so GET/PATCH/move/deactivate also run on nodes that exist.

Bounded and derandomized (same examples on every run) to stay repeatable in CI.
"""
import collections
import time

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)

NODES = "/api/v1/resource/nodes"
EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 40}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
# body fields that name another node, and the level a child of each seeded node may have
PARENT_LINKS = {"create_node", "move_node"}


def seed(api):
    """enterprise > site > area > work center; returns [(node id, level of a valid child)]."""
    parent_id, links = None, []
    for level, code, child in [("enterprise", "ACME", "site"), ("site", "TLS", "area"),
                               ("area", "MACH", "work_center"), ("work_center", "WC-10", "equipment")]:
        response = api.post(NODES, json={"level": level, "code": code, "name": code, "parent_id": parent_id})
        assert response.status_code == 201, response.text
        parent_id = response.json()["id"]
        links.append((parent_id, child))
    return links


def case_strategy(operation, mode, links):
    """Schemathesis' cases for `operation`, with seeded ids in the path and in
    `parent_id` (plus a matching level) part of the time."""
    strategy = operation.as_strategy(generation_mode=mode)
    path_names = {p.name for p in operation.path_parameters}
    if "node_id" in path_names:
        seeded = [operation.as_strategy(generation_mode=mode, path_parameters={"node_id": node_id})
                  for node_id, _ in links]
        strategy = st.one_of(strategy, *seeded)
    if mode.is_positive and operation.definition.raw.get("operationId") in PARENT_LINKS:
        strategy = st.tuples(strategy, st.sampled_from([None, *links])).map(_link_parent)
    return strategy


def _link_parent(pair):
    case, link = pair
    if link is not None and isinstance(case.body, dict):
        parent_id, child_level = link
        case.body["parent_id"] = parent_id
        if "level" in case.body:
            case.body["level"] = child_level
    return case


def fuzz(operation, mode, links, base_url, session, stats, failures):
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=case_strategy(operation, mode, links))
    def run(case):
        response = case.call(base_url=base_url, session=session, timeout=15)
        stats[operation.label][response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:  # collected, not raised: no shrinking, every operation still runs
            for failure in group.exceptions:
                key = (operation.label, response.status_code, failure.title, failure.message.split("\n", 1)[0])
                failures.setdefault(key, f"{mode.value} [{response.status_code}] {operation.label}: {failure.title}\n"
                                         f"{failure.message}\n{case.as_curl_command()}\n{response.text[:500]}")

    run()


def test_fuzz_every_operation(api, mes_config):
    base_url = f"http://{mes_config['WEB_SERVER_ADDRESS']}"
    validate(api.get("/openapi.json").json())
    links = seed(api)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=15)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    stats = collections.defaultdict(collections.Counter)
    failures = {}
    started = time.monotonic()
    with requests.Session() as session:
        for operation in operations:
            # negative cases need something to break: /health and /ready take only an optional header
            negatable = bool(operation.path_parameters or operation.query or operation.body)
            for mode in EXAMPLES if negatable else [GenerationMode.POSITIVE]:
                fuzz(operation, mode, links, base_url, session, stats, failures)
    elapsed = time.monotonic() - started

    total = collections.Counter()
    print(f"\nfuzzed {len(operations)} operations in {elapsed:.1f}s")
    for label, counts in stats.items():
        total.update(counts)
        print(f"  {label:<55} {sum(counts.values()):>4} requests  {dict(sorted(counts.items()))}")
    print(f"  {'total':<55} {sum(total.values()):>4} requests  {dict(sorted(total.items()))}")
    assert set(stats) == {operation.label for operation in operations}
    assert not failures, "\n\n".join(failures.values())
