"""Keyset pagination of SQLAlchemy selects: `{"items", "next_cursor"}` pages
whose cursor is the sort key of the last row (stable under inserts, no OFFSET
scans). The sort key must be unique as a whole: end it with the id.

    page(session, select(Part).where(...), [(Part.part_number, text_key), (Part.id, uuid_key)],
         query, dump)
"""
import datetime as dt
import uuid

from sqlalchemy import tuple_

from mes_common import errors
from mes_common.schemas import decode_cursor, encode_cursor


def _invalid():
    return errors.ValidationFailed("invalid cursor", {"cursor": ["not a cursor of this list"]})


def text_key(value):
    # a forged cursor: NUL is a 500 in PostgreSQL
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(value)
    return value


def uuid_key(value):
    return uuid.UUID(str(value))


def int_key(value):
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(value)
    return value


def date_key(value):
    return dt.date.fromisoformat(text_key(value))


def time_key(value):
    parsed = dt.datetime.fromisoformat(text_key(value))
    if parsed.tzinfo is None:
        raise ValueError(value)
    return parsed


def where_equal(stmt, model, query, names):
    """`stmt` narrowed to the rows whose column `name` equals `query[name]`, for
    each of `names` the query gives (a list's filters)."""
    for name in names:
        if query.get(name) is not None:
            stmt = stmt.where(getattr(model, name) == query[name])
    return stmt


def page(session, stmt, keys, query, dump, descending=False, scalars=True):
    """One page of `stmt` ordered by `keys` ([(column, decoder)]), after
    `query["cursor"]`, at most `query["limit"]` items, passed to `dump` as a list.
    Rows are entities (`scalars`) or Row tuples that carry the key columns.
    A key on an expression (`func.lower(User.username)`) gives a third item:
    the function that reads its value from a row."""
    columns = [key[0] for key in keys]
    readers = [key[2] if len(key) > 2 else (lambda row, name=key[0].key: getattr(row, name)) for key in keys]
    if query.get("cursor"):
        values = decode_cursor(query["cursor"])
        if len(values) != len(keys):
            raise _invalid()
        try:
            decoded = [key[1](value) for key, value in zip(keys, values)]
        except (TypeError, ValueError):
            raise _invalid() from None
        after = tuple_(*columns) < tuple_(*decoded) if descending else tuple_(*columns) > tuple_(*decoded)
        stmt = stmt.where(after)
    order = [column.desc() for column in columns] if descending else columns
    limit = query["limit"]
    result = session.execute(stmt.order_by(*order).limit(limit + 1))
    rows = (result.scalars() if scalars else result).all()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = None
    if more:
        last = rows[-1]
        cursor = encode_cursor([_plain(read(last)) for read in readers])
    return {"items": dump(rows), "next_cursor": cursor}


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value if isinstance(value, (int, str)) else str(value)
