"""Property-based fuzzing of the live gateway from its own OpenAPI document.

Schemathesis generates requests for every documented operation, valid ones and
ones that break the schema, sends them to the gateway with the resource service
behind it, and checks every answer: never a 5xx, only documented status codes
and content types, bodies matching the documented schema, invalid input refused
with a 4xx. A small plant is seeded first and path/body ids come from it part of
the time, so GET/PATCH/move/deactivate also run on nodes that exist.

Bounded and derandomized (the same examples on every run) to stay repeatable in
CI; failures are collected rather than shrunk so one run reports them all.
Every request carries an administrator's token (every permission, a real user
for the /auth/me routes), so the handlers run rather than stop at 401
(test_auth.py covers those).
"""
import collections
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.config._checks import PositiveDataAcceptanceConfig
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               positive_data_acceptance, response_schema_conformance,
                                               status_code_conformance)

import gateway.tests.schemathesis_hooks  # noqa: F401  (page cursors: see the module)

from mes_common.schemas import encode_cursor
from auth_service.testing import bearer, create_admin

NODES = "/api/v1/resource/nodes"
NODE = NODES + "/{node_id}"
# examples per operation and mode: the suite's budget (~100 s for ~120 operations);
# MES_FUZZ_EXAMPLES=60,60 runs the deep profile (about 10 minutes)
_POSITIVE, _NEGATIVE = (int(n) for n in os.environ.get("MES_FUZZ_EXAMPLES", "10,6").split(","))
EXAMPLES = {GenerationMode.POSITIVE: _POSITIVE, GenerationMode.NEGATIVE: _NEGATIVE}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection, positive_data_acceptance]
# a valid request may break a rule the document cannot state (stored data, relations): 422
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
PARENT_LINKS = {"create_node", "move_node"}  # operations whose body names a parent


def seed(api):
    """enterprise > site > area > work center (+ a childless work center).
    Returns ([(id, level of a valid child)] for parents, every seeded id)."""
    def create(level, code, parent_id):
        response = api.post(NODES, json={"level": level, "code": code, "name": code, "parent_id": parent_id})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    parents, parent_id = [], None
    for level, code, child in [("enterprise", "ACME", "site"), ("site", "TLS", "area"),
                               ("area", "MACH", "work_center"), ("work_center", "WC-10", "equipment")]:
        parent_id = create(level, code, parent_id)
        parents.append((parent_id, child))
    leaf = create("work_center", "WC-20", parents[2][0])  # stays childless: deactivate can succeed
    return parents, [node_id for node_id, _ in parents] + [leaf]


def case_strategy(operation, mode, parents, node_ids):
    """Schemathesis' cases for `operation`, with a seeded `node_id` in the path
    and a seeded `parent_id` (with a matching `level`) in the body part of the time."""
    strategy = operation.as_strategy(generation_mode=mode)
    if any(p.name == "node_id" for p in operation.path_parameters):
        seeded = [operation.as_strategy(generation_mode=mode, path_parameters={"node_id": node_id})
                  for node_id in node_ids]
        strategy = st.one_of(strategy, *seeded)
    if mode.is_positive and operation.definition.raw.get("operationId") in PARENT_LINKS:
        strategy = st.tuples(strategy, st.sampled_from([None, *parents])).map(_link_parent)
    return strategy


def _link_parent(pair):
    case, link = pair
    if link is not None and isinstance(case.body, dict):
        case.body["parent_id"], child_level = link
        if "level" in case.body:
            case.body["level"] = child_level
    return case


# /ready's 503 is its documented "not ready" answer (e.g. auth_service busy with a burst
# of generated logins answers its ping late), not a server error
NOT_READY_IS_AN_ANSWER = [c for c in CHECKS if c is not not_a_server_error]


# a document body (a QIF upload) is valid by its standard's XML Schema, which OpenAPI cannot state:
# a string the document allows is no QIF, and 400 naming the schema's line is its answer
DOCUMENT_CHECKS = [c for c in CHECKS if c is not positive_data_acceptance]
# the CLI run's `--checks all` cannot leave that one out per operation: they are fuzzed here only
DOCUMENT_UPLOADS = ("import_qif_plan", "import_qif_results", "receive_b2mml")


def _checks(operation):
    if operation.path == "/ready":
        return NOT_READY_IS_AN_ANSWER
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    return DOCUMENT_CHECKS if content and "application/json" not in content else CHECKS


def check(case, response, failures, label=""):
    try:
        case.validate_response(response, checks=_checks(case.operation))
    except FailureGroup as group:
        for failure in group.exceptions:
            key = (case.operation.label, response.status_code, failure.title, failure.message.split("\n", 1)[0])
            failures.setdefault(key, f"{label}[{response.status_code}] {case.operation.label}: {failure.title}\n"
                                     f"{failure.message}\n{case.as_curl_command()}\n{response.text[:500]}")


def fuzz(operation, mode, parents, node_ids, base_url, session, stats, failures):
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=case_strategy(operation, mode, parents, node_ids))
    def run(case):
        response = case.call(base_url=base_url, session=session, timeout=15)
        stats[operation.label][response.status_code] += 1
        check(case, response, failures, f"{mode.value} ")  # collected, not raised: no shrinking

    try:
        run()
    except Unsatisfiable:
        # no invalid input exists when an operation takes only optional headers
        # and free-text path segments (/health, /audit/<service>): nothing to refuse
        if mode.is_positive:
            raise


def signed_in(mes_config):
    session = requests.Session()
    admin = create_admin(mes_config, username=f"fuzz-{uuid.uuid4().hex[:8]}")
    session.headers["Authorization"] = bearer(mes_config, subject=admin["id"], name=admin["username"])
    return session


def load_schema(api, base_url):
    document = api.get("/openapi.json").json()
    validate(document)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=15)
    # the session's token is sent instead; generated Authorization values would
    # take the negative examples away from the inputs the handlers validate
    schema.config.generation.update(with_security_parameters=False)
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(expected_statuses=ACCEPTED)
    return schema


@pytest.mark.usefixtures("other_services")
def test_fuzz_every_operation(api, mes_config):
    base_url = f"http://{mes_config['WEB_SERVER_ADDRESS']}"
    schema = load_schema(api, base_url)
    parents, node_ids = seed(api)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12

    stats = collections.defaultdict(collections.Counter)
    failures = {}
    started = time.monotonic()
    with signed_in(mes_config) as session:
        for operation in operations:
            for mode in EXAMPLES:
                fuzz(operation, mode, parents, node_ids, base_url, session, stats, failures)
    elapsed = time.monotonic() - started

    total = collections.Counter()
    print(f"\nfuzzed {len(operations)} operations in {elapsed:.1f}s")
    for label, counts in stats.items():
        total.update(counts)
        print(f"  {label:<52} {sum(counts.values()):>5} requests  {dict(sorted(counts.items()))}")
    print(f"  {'total':<52} {sum(total.values()):>5} requests  {dict(sorted(total.items()))}")
    assert set(stats) == {operation.label for operation in operations}
    assert not failures, "\n\n".join(failures.values())
    assert total[201] and total[200], "the seeded ids should let some writes and reads succeed"


# Inputs random generation rarely reaches, each a 5xx or a schema violation once.
def edge_cases(node_id):
    zero = str(uuid.UUID(int=0))
    return [
        # PostgreSQL refuses NUL in text and JSONB: was a 500
        ("POST", NODES, {}, {"level": "enterprise", "code": "N", "name": "a\x00b"}, 400),
        ("PATCH", NODE, {}, {"description": "\x00"}, 400),
        ("POST", NODE + "/deactivate", {}, {"reason": "\x00"}, 400),
        ("GET", NODES, {"cursor": encode_cursor(["\x00", zero])}, None, 400),
        ("GET", NODES, {"cursor": encode_cursor([None, zero])}, None, 400),
        # lone surrogates parse as JSON but cannot be encoded for the database: was a 500
        ("POST", NODES, {}, b'{"level": "enterprise", "code": "S", "name": "\\ud800"}', 400),
        ("POST", NODES, {}, b'{"level": "enterprise", "code": "S", "name": "\\ud83d\\ude00"}', 201),
        # nesting deeper than the JSON parser's recursion limit: was a 500
        ("POST", NODES, {}, b"[" * 100_000, 400),
        # `$` matched before a trailing newline: "NL\n" was accepted as a code
        ("POST", NODES, {}, {"level": "enterprise", "code": "NL\n", "name": "x"}, 400),
        ("PATCH", NODE, {}, {"code": "NL\n"}, 400),
        # an integer `version` took 1.5 (as 1) and "1"
        ("PATCH", NODE, {}, {"version": 1.5, "name": "x"}, 400),
        ("PATCH", NODE, {}, {"version": "1", "name": "x"}, 400),
        ("POST", NODE + "/move", {}, {"parent_id": node_id, "version": 1.0001}, 400),
        ("POST", NODE + "/deactivate", {}, {"version": True}, 400),
        ("GET", NODE + "/tree", {"max_depth": "1e400"}, None, 400),
    ]


@pytest.mark.usefixtures("other_services")
def test_edge_cases(api, mes_config):
    base_url = f"http://{mes_config['WEB_SERVER_ADDRESS']}"
    schema = load_schema(api, base_url)
    _, node_ids = seed(api)
    failures, wrong = {}, []
    with signed_in(mes_config) as session:
        for method, path, query, body, expected in edge_cases(node_ids[-1]):
            case = schema[path][method].Case(path_parameters={"node_id": node_ids[-1]} if "{" in path else {},
                                             query=query)
            url = base_url + path.format(node_id=node_ids[-1])
            raw = body if isinstance(body, bytes) else None
            response = session.request(method, url, params=query, json=None if raw else body, data=raw,
                                       headers={"Content-Type": "application/json"}, timeout=15)
            check(case, response, failures)
            if response.status_code != expected:
                wrong.append(f"{method} {path} {query} {body!r:.80}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n\n".join(failures.values())
    assert not wrong, "\n".join(wrong)


# Routes that would end the fuzzer's own session or account (it learns its own user id from
# /me): excluded from the CLI run; test_fuzz_every_operation above covers them.
SESSION_ENDING = ("logout", "revoke_my_sessions", "revoke_my_session", "change_password", "revoke_user_sessions",
                  "reset_password", "update_user", "set_roles", "reset_mfa", "disable_mfa")
CLI_EXAMPLES = os.environ.get("MES_FUZZ_CLI_EXAMPLES", "4")


@pytest.mark.timeout(660)   # the CLI's own limit is 600 s: ~6 min for ~130 operations on 2 cores
@pytest.mark.usefixtures("other_services")
def test_every_schemathesis_check_over_every_operation(api, mes_config):
    """`st run --checks all` over every operation: schemathesis' examples,
    coverage and fuzzing phases (valid requests must be accepted, invalid ones
    refused, undocumented methods answer 405 with Allow, responses match the
    document). The document must be exactly as strict as the server."""
    base_url = f"http://{mes_config['WEB_SERVER_ADDRESS']}"
    here = Path(__file__).resolve().parent
    with signed_in(mes_config) as session:
        command = [str(Path(sys.executable).with_name("st")), "--no-color", "--config-file",
                   str(here / "schemathesis.toml"), "run", f"{base_url}/openapi.json", "--checks", "all",
                   "--header", f"Authorization: {session.headers['Authorization']}",
                   "--phases", "examples,coverage,fuzzing", "--max-examples", CLI_EXAMPLES,
                   "--generation-deterministic", "--workers", "1", "--request-timeout", "15",
                   *[arg for op in (*SESSION_ENDING, *DOCUMENT_UPLOADS)
                         for arg in ("--exclude-operation-id", op)]]
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                                env={**os.environ, "SCHEMATHESIS_HOOKS": "gateway.tests.schemathesis_hooks"})
    summary = [line for line in result.stdout.splitlines() if "passed" in line or "failed" in line]
    print(f"\nschemathesis --checks all in {time.monotonic() - started:.0f}s: {summary[-1:] or result.stdout[-300:]}")
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-2000:]
