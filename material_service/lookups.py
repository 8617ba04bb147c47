"""Look-ups shared by the material use cases: a row by id (404 when a path names
it, 422 naming the field when a body does), a row's columns, today."""
import datetime as dt

from material_service.models import Hold, Location, Lot, Part, Serial
from mes_common import errors
from mes_common.db import fetch

WHAT = {Part: "part", Lot: "lot", Serial: "serial", Location: "location", Hold: "hold"}


def today():
    return dt.datetime.now(dt.timezone.utc).date()


def columns(row):
    """A row's column values by attribute name (to dump it with extra fields)."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def get(session, model, id_, lock=False):
    """The row with this id (a path argument): NotFound otherwise."""
    return fetch(session, model.id, id_, WHAT[model], lock)


def referenced(session, model, id_, field, lock=False):
    """A row named in a request body: RuleViolated naming `field` if it does not exist."""
    try:
        return get(session, model, id_, lock)
    except errors.NotFound:
        raise errors.RuleViolated(f"{WHAT[model]} {id_} does not exist",
                                  {field: [f"no {WHAT[model]} with this id"]}) from None
