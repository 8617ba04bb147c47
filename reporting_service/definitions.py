"""KPI definitions: versioned. A change is a new version (the old ones stay), so
a snapshot that names the versions it used is shown as it was computed."""
from decimal import Decimal

from sqlalchemy import func, select

from mes_common import errors
from mes_common.db import utcnow
from mes_common.rules import check_version
from reporting_service.contract import KPIS, events
from reporting_service.contract.schemas import DefinitionOut
from reporting_service.models import Definition

definition_out = DefinitionOut()

# the definitions a plant starts with: one per ISO 22400-2 KPI, bands as plants ask for
# (target, bands in the KPI's value scale: a ratio 0.85 is 85 %)
SEED = [
    ("oee_index", "OEE index", "0.85", [{"colour": "red", "below": "0.65"}, {"colour": "green", "from": "0.85"}]),
    ("availability", "Availability", "0.90", [{"colour": "red", "below": "0.80"}, {"colour": "green", "from": "0.90"}]),
    ("effectiveness", "Effectiveness", "0.95", [{"colour": "red", "below": "0.80"},
                                                {"colour": "green", "from": "0.95"}]),
    ("quality_ratio", "Quality ratio", "0.99", [{"colour": "red", "below": "0.95"},
                                                {"colour": "green", "from": "0.99"}]),
    ("first_pass_yield", "First pass yield", "0.95", [{"colour": "red", "below": "0.85"},
                                                      {"colour": "green", "from": "0.95"}]),
    ("scrap_ratio", "Scrap ratio", "0.02", [{"colour": "green", "below": "0.02"}, {"colour": "red", "from": "0.05"}]),
    ("rework_ratio", "Rework ratio", "0.03", [{"colour": "green", "below": "0.03"}, {"colour": "red", "from": "0.08"}]),
    ("throughput_rate", "Throughput rate", None, []),
    ("setup_rate", "Setup rate", "0.10", [{"colour": "green", "below": "0.10"}, {"colour": "red", "from": "0.20"}]),
    ("allocation_efficiency", "Allocation efficiency", "0.85", [{"colour": "red", "below": "0.60"},
                                                                {"colour": "green", "from": "0.85"}]),
    ("mtbf", "MTBF", None, []),
    ("mttr", "MTTR", "30", [{"colour": "green", "below": "30"}, {"colour": "red", "from": "120"}]),
    ("ncr_rate", "NCR rate", "5", [{"colour": "green", "below": "5"}, {"colour": "red", "from": "10"}]),
    ("schedule_adherence", "Schedule adherence", "0.95", [{"colour": "red", "below": "0.85"},
                                                          {"colour": "green", "from": "0.95"}]),
]


def ensure_defaults(tx):
    """Version 1 of every default the database lacks (a KPI a release adds);
    a definition people changed stays as they made it. The keys it added."""
    session = tx.session
    have = set(session.execute(select(Definition.key).where(Definition.version == 1)).scalars())
    added = []
    for key, name, target, bands in SEED:
        if key not in have:
            session.add(Definition(key=key, version=1, name=name, formula=key,
                                   target=Decimal(target) if target else None, bands=bands, decimals=1,
                                   changed_by="system (defaults)", changed_at=utcnow()))
            added.append(key)
    tx.flush()
    for key in added:
        tx.audit("define", "kpi_definition", key, new={"version": 1}, reason="default of this release",
                 actor="system")
    return added


def plain(value):
    """A decimal as people write it: 0.65, 30 (not 0.650000, 3E+1)."""
    return format(Decimal(value).normalize(), "f")


def as_dict(row):
    """A definition as reports use it (decimals as strings)."""
    kpi = KPIS[row.formula]
    return {"key": row.key, "version": row.version, "name": row.name, "formula": row.formula,
            "expression": kpi.formula, "unit": kpi.unit,
            "target": plain(row.target) if row.target is not None else None,
            "bands": row.bands, "decimals": row.decimals, "components": sorted(set(kpi.numerator + kpi.denominator)),
            "changed_by": row.changed_by, "changed_at": row.changed_at}


def current(session):
    """{key: definition} of the latest versions, in the catalogue's order."""
    latest = select(Definition.key, func.max(Definition.version).label("version")).group_by(Definition.key).subquery()
    rows = session.execute(select(Definition).join(latest, (Definition.key == latest.c.key)
                                                   & (Definition.version == latest.c.version))).scalars()
    order = {formula: i for i, formula in enumerate(KPIS)}
    return {row.key: as_dict(row) for row in sorted(rows, key=lambda r: (order.get(r.key, len(order)), r.key))}


def versions(session, wanted):
    """{key: definition} of the given {key: version}."""
    out = {}
    for key, version in wanted.items():
        row = session.get(Definition, (key, version))
        if row is not None:
            out[key] = as_dict(row)
    return out


def get(session, key, version=None):
    stmt = select(Definition).where(Definition.key == key)
    stmt = stmt.where(Definition.version == version) if version else stmt.order_by(Definition.version.desc())
    row = session.execute(stmt.limit(1)).scalar_one_or_none()
    if row is None:
        raise errors.NotFound(f"KPI definition {key}" + (f" version {version}" if version else "") + " not found",
                              {"key": key})
    return as_dict(row)


def put(tx, caller, key, data):
    """A new version of `key` (the first, for a new key)."""
    session = tx.session
    latest = session.execute(select(Definition).where(Definition.key == key).order_by(Definition.version.desc())
                             .limit(1).with_for_update()).scalar_one_or_none()
    check_version(data.get("version"), latest.version if latest else None, f"KPI definition {key}")
    _check_bands(data["bands"])
    row = Definition(key=key, version=(latest.version + 1) if latest else 1, name=data["name"],
                     formula=data["formula"], target=data["target"],
                     bands=[{k if k != "start" else "from": plain(v) if k != "colour" else v for k, v in b.items()}
                            for b in data["bands"]],
                     decimals=data["decimals"], changed_by=caller.actor, changed_at=utcnow())
    session.add(row)
    tx.flush()
    out = definition_out.dump(as_dict(row))
    tx.emit(events.DEFINITION_CHANGED, key, out)
    tx.audit("define", "kpi_definition", key, old=definition_out.dump(as_dict(latest)) if latest else None, new=out)
    return as_dict(row)


def _check_bands(bands):
    colours = [b["colour"] for b in bands]
    if len(set(colours)) != len(colours):
        raise errors.RuleViolated("bands: each colour once", {"bands": ["each colour once"]})
