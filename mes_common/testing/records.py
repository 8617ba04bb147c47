"""What tests read back from a service's database: rows, the outbox events
it recorded, its audit entries (one copy for every package's tests)."""
from sqlalchemy import text


def rows(engine, sql, **params):
    """Rows of `sql` (by position or by attribute: `row.envelope`)."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def records(engine, sql, **params):
    """Rows of `sql` as mappings (`row["envelope"]`)."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).mappings().all()


def envelopes(engine, type_, subject=None):
    """Outbox envelopes of one event type (and subject), oldest first."""
    sql = "SELECT envelope FROM outbox WHERE type = :t" + (" AND subject = :s" if subject else "") + " ORDER BY id"
    return [r[0] for r in rows(engine, sql, t=type_, s=str(subject))]


def outbox_types(engine):
    """The type of every event in the outbox, oldest first."""
    return [r[0] for r in rows(engine, "SELECT type FROM outbox ORDER BY id")]


def audit_entries(engine, entity_id):
    """(action, old_values, new_values, reason, actor) of one entity's audit entries, oldest first."""
    return rows(engine, "SELECT action, old_values, new_values, reason, actor FROM audit_log "
                        "WHERE entity_id = :e ORDER BY id", e=str(entity_id))


def unsigned(record):
    """A record's answer without its `signatures` (what its events and audit entries carry)."""
    return {key: value for key, value in record.items() if key != "signatures"}


class EventLog:
    """An owner's `replay_events` over a list of envelopes (its outbox order):
    the owners of a read model's rebuild in tests."""

    def __init__(self, events):
        self.events = events

    def replay_events(self, query):
        after, limit = query["after"], query["limit"]
        page = self.events[after:after + limit]
        return {"events": page, "last": after + len(page), "more": after + len(page) < len(self.events)}
