"""Copies of other services' display fields, kept current from the owners'
`.updated` events (ARCHITECTURE.md §3): one set-based UPDATE per table, an
audit entry when rows changed, the shared cache entry dropped after the commit.

    key = event_key(event.data)
    counts = {"work_order": set_copies(tx, WorkOrder, WorkOrder.part_id, key, {"part_number": ...})}
    synced(tx, cache, PART_KIND, key, new, counts, entity="work_order_reference")
"""
import uuid

from sqlalchemy import or_, update

from mes_common import errors


def event_key(data):
    """The id an `.updated` event is about; a malformed one can never apply:
    PermanentEventError sends it to the dead-letter queue at once."""
    try:
        return uuid.UUID(str(data["id"]))
    except (KeyError, ValueError, TypeError):
        raise errors.PermanentEventError(f"event data has no valid id: {data.get('id')!r}") from None


def set_copies(tx, model, key_column, key, values):
    """One UPDATE of every row of `model` whose `key_column` is `key` and whose
    copies differ; the row count. The ORM version is not bumped: a display
    field catching up must not make a user's pending edit stale."""
    changed = or_(*(getattr(model, name).is_distinct_from(value) for name, value in values.items()))
    result = tx.session.execute(
        update(model).where(key_column == key, changed).values(**values)
        .execution_options(synchronize_session=False))
    return result.rowcount


def synced(tx, cache, kind, key, new, counts, entity):
    """Audit the rows a sync changed (as `entity`) and drop the cache entry of
    `kind` after the commit (a reader between an invalidation and the commit
    would reload the old copy into the cache)."""
    if any(counts.values()):
        tx.audit("sync_reference", entity, f"{kind}:{key}", new={**new, "rows": counts})
    tx.after_commit(lambda: cache.invalidate(kind, str(key)))
    return counts
