"""The boundaries of ARCHITECTURE.md §3, read from every module's imports (ast).

- a service imports another service's `contract` only;
- `mes_common` (the platform) imports no service and not the gateway;
- the gateway imports a service's `contract` only;
- a contract imports no service internals (its own or another's);
- tests outside a service import its `contract` and its `testing` helpers only
  (service classes are loaded through the registry);
- the platform's modules form no import cycle (imports inside functions count).
"""
import ast
import importlib.util
from pathlib import Path

import pytest

from mes_common import registry

pytestmark = pytest.mark.fast  # no servers: `make test-fast`

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and p.name.endswith("_service")
                  and (p / "__init__.py").exists())


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(top):
    return sorted(p for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts)


def imports(path):
    """Every module `path` imports, anywhere in it (absolute names; `from p import m`
    names `p.m` when m is a module)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if _is_module(candidate) else base)
    return found


def _is_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def service_of(module):
    top = module.split(".")[0]
    return top if top in SERVICES else None


def allowed(importer, imported):
    """Why `importer` may not import `imported`, or None."""
    target = service_of(imported)
    owner = service_of(importer)
    top = importer.split(".")[0]
    if top == "mes_common":
        if target or imported.split(".")[0] == "gateway":
            return "the platform imports no service and not the gateway"
        return None
    if target is None or target == owner and ".contract" not in importer:
        return None
    public = imported == f"{target}.contract" or imported.startswith(f"{target}.contract.")
    if ".contract" in importer and owner is not None:
        return None if public else "a contract imports contracts only"
    is_test = ".tests" in importer or top == "tests"
    if is_test and (imported == f"{target}.testing"):
        return None
    return None if public else f"outside {target}, import {target}.contract only"


def all_modules():
    tops = ["mes_common", "gateway", "tests", *SERVICES]
    return [(module_name(p), p) for top in tops for p in python_files(top)]


def test_boundaries():
    violations = []
    for name, path in all_modules():
        for imported in sorted(imports(path)):
            reason = allowed(name, imported)
            if reason:
                violations.append(f"{path.relative_to(ROOT)}: imports {imported} ({reason})")
    assert not violations, "\n".join(violations)


def test_the_rule_catches_what_it_should():
    """The checker itself: each forbidden shape is caught, each allowed one passes."""
    assert allowed("gateway.routes.material", "material_service.service")
    assert allowed("gateway.auth", "auth_service.passwords")
    assert allowed("work_order_service.references", "material_service.models")
    assert allowed("mes_common.testing.fixtures", "auth_service.contract")
    assert allowed("material_service.contract.schemas", "material_service.domain")
    assert allowed("material_service.tests.test_x", "work_order_service.service")
    assert allowed("tests.test_shop_floor", "material_service.lots")
    assert not allowed("gateway.routes.material", "material_service.contract.schemas")
    assert not allowed("work_order_service.references", "material_service.contract")
    assert not allowed("material_service.lots", "material_service.domain")
    assert not allowed("tests.test_system", "auth_service.testing")
    assert not allowed("work_order_service.contract.schemas", "work_order_service.contract")


def test_every_service_has_a_contract_naming_itself():
    for spec in registry.SERVICES:
        contract = importlib.import_module(f"{spec.name}.contract")
        assert contract.SERVICE == spec.name
        assert isinstance(contract.CONSUMES, frozenset)


def platform_cycles():
    graph = {}
    for name, path in all_modules():
        if name.startswith("mes_common") and ".tests" not in name:
            graph[name] = {m for m in imports(path) if m.startswith("mes_common.") and m != name}
    cycles, done = [], set()

    def visit(node, stack):
        if node in stack:
            cycles.append(" -> ".join(stack[stack.index(node):] + [node]))
            return
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, stack + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return cycles


def test_no_import_cycle_in_the_platform():
    assert platform_cycles() == []


@pytest.mark.parametrize("spec", registry.SERVICES, ids=lambda s: s.name)
def test_declared_consumers_match_the_handlers(spec):
    """A contract's CONSUMES is what the outbox relays of other services treat as
    awaited: it must list exactly the event types the service's handlers bind."""
    contract = importlib.import_module(f"{spec.name}.contract")
    service_cls = registry.service_class(spec)
    bound = {event_type for klass in service_cls.__mro__ for method in vars(klass).values()   # mixins too
             for entrypoint in getattr(method, "nameko_entrypoints", ()) if hasattr(entrypoint, "event_type")
             # a stream (mes_common.events.stream) takes every event of its source and names those it uses
             for event_type in getattr(entrypoint, "event_types", {entrypoint.event_type})}
    assert bound == set(contract.CONSUMES)
