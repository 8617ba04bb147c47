"""Use cases of storage locations."""
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from material_service.models import Location
from material_service.contract.schemas import LocationOut
from mes_common import errors
from mes_common.paging import page, text_key, uuid_key

ENTITY = "location"
PRODUCTION = "PRODUCTION"  # where output goes when the work order names no location
location_out = LocationOut()


def dump(location):
    return location_out.dump(location)


def create(tx, data):
    session = tx.session
    if session.execute(select(Location.id).where(Location.code == data["code"])).first():
        raise errors.Conflict(f"location code {data['code']} is already used", {"code": ["already used"]})
    location = Location(**data)
    session.add(location)
    tx.flush()
    tx.audit("create", ENTITY, location.id, new=dump(location))
    return location


def production(tx):
    """The default output location, created on first need (concurrent first
    needs create it once)."""
    session = tx.session
    inserted = session.execute(
        pg_insert(Location).values(code=PRODUCTION, name="Production output")
        .on_conflict_do_nothing(index_elements=[Location.code]).returning(Location.id)).scalar()
    location = session.execute(select(Location).where(Location.code == PRODUCTION)).scalar_one()
    if inserted is not None:
        tx.audit("create", ENTITY, location.id, new=dump(location), reason="default output location")
    return location


def list_page(session, query):
    stmt = select(Location)
    if query.get("code"):
        stmt = stmt.where(Location.code.startswith(query["code"], autoescape=True))
    if "site_id" in query:
        stmt = stmt.where(Location.site_id == query["site_id"])
    return page(session, stmt, [(Location.code, text_key), (Location.id, uuid_key)], query,
                lambda rows: [dump(r) for r in rows])


def codes(session, ids):
    ids = set(ids)
    if not ids:
        return {}
    return dict(session.execute(select(Location.id, Location.code).where(Location.id.in_(ids))).all())
