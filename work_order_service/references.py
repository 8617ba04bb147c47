"""Other services' entities seen from work orders: display fields read through
the reference cache, and kept current from the owners' `.updated` events.

A work order keeps the ids of its part, site, work center and creator plus
copies of their display fields (ARCHITECTURE.md §3). Reads go to the Redis
cache and, on a miss, to the owner over RPC. When an owner publishes an
update, every copy is rewritten in ONE set-based UPDATE per table (indexed
on the id), and the cache entry is dropped after the commit.
"""
import logging

from auth_service import contract as auth_contract
from material_service import contract as material_contract
from mes_common import errors
from mes_common.references import event_key, set_copies, synced
from resource_service import contract as resource_contract
from work_order_service.models import Downtime, Operation, ReworkOperation, WorkOrder

log = logging.getLogger(__name__)

PART, EQUIPMENT, USER = material_contract.PART_KIND, resource_contract.EQUIPMENT_KIND, auth_contract.USER_KIND
ENTITY = "work_order_reference"  # audit entity type of a display-field sync


class References:
    """Display fields by id (dicts as the owners' get_*_summaries give them), or None."""

    def __init__(self, cache, material, resource, auth, quality=None):
        self.cache, self.material, self.resource, self.auth, self.quality = cache, material, resource, auth, quality

    def part(self, part_id):
        return self.cache.summary(PART, part_id, self.material.get_part_summaries)

    def node(self, node_id):
        return self.cache.summary(EQUIPMENT, node_id, self.resource.get_node_summaries)

    def user_name(self, user_id):
        """A user's display name, None when unknown or when auth cannot say."""
        return (self.user(user_id) or {}).get("display_name")

    def user(self, user_id):
        """A user's summary; None when auth cannot say (a display name is not
        worth refusing shop-floor work for)."""
        if user_id is None:
            return None
        try:
            return self.cache.summary(USER, user_id, self.auth.get_user_summaries)
        except errors.Unavailable as exc:
            log.warning("user %s not resolved: %s", user_id, exc)
            return None


def node_of_level(refs, node_id, level, field_name):
    """The summary of an active equipment node of `level`, or RuleViolated naming the field."""
    node = refs.node(node_id)
    if node is None:
        raise errors.RuleViolated(f"{field_name}: no equipment node {node_id}",
                                  {field_name: ["no equipment node with this id"]})
    if node["level"] != level:
        raise errors.RuleViolated(f"{field_name}: {node['code']} is a {node['level']}, not a {level}",
                                  {field_name: [f"must be a {level}"]})
    if not node.get("active", True):
        raise errors.RuleViolated(f"{field_name}: {level} {node['code']} is inactive",
                                  {field_name: ["inactive"]})
    return node


# ------------------------------------------------------------------ sync from events

def sync_part(tx, cache, data):
    """`mes.material.part.updated` (data = PartOut)."""
    key = event_key(data)
    new = {"part_number": data["part_number"], "part_name": data["name"]}
    counts = {"work_order": set_copies(tx, WorkOrder, WorkOrder.part_id, key, new)}
    return synced(tx, cache, PART, key, new, counts, ENTITY)


def sync_site(tx, cache, data):
    """`mes.resource.site.updated` (data = NodeOut)."""
    key = event_key(data)
    new = {"site_name": data["name"]}
    counts = {"work_order": set_copies(tx, WorkOrder, WorkOrder.site_id, key, new)}
    return synced(tx, cache, EQUIPMENT, key, new, counts, ENTITY)


def sync_work_center(tx, cache, data):
    """`mes.resource.work_center.updated` (data = NodeOut): orders, operations, downtime, rework."""
    key = event_key(data)
    counts = {
        "work_order": set_copies(tx, WorkOrder, WorkOrder.work_center_id, key, {"work_center_name": data["name"]}),
        "operation": set_copies(tx, Operation, Operation.work_center_id, key,
                          {"work_center_code": data["code"], "work_center_name": data["name"]}),
        "downtime": set_copies(tx, Downtime, Downtime.work_center_id, key, {"work_center_name": data["name"]}),
        "rework": set_copies(tx, ReworkOperation, ReworkOperation.work_center_id, key,
                             {"work_center_name": data["name"]}),
    }
    return synced(tx, cache, EQUIPMENT, key, {"code": data["code"], "name": data["name"]}, counts, ENTITY)


def sync_user(tx, cache, data):
    """`mes.auth.user.updated` (data = UserSummary): creators and operators."""
    key, name = event_key(data), data["display_name"]
    counts = {
        "work_order": set_copies(tx, WorkOrder, WorkOrder.created_by_id, key, {"created_by_name": name}),
        "operation": set_copies(tx, Operation, Operation.operator_id, key, {"operator_name": name}),
        "rework": set_copies(tx, ReworkOperation, ReworkOperation.operator_id, key, {"operator_name": name}),
    }
    return synced(tx, cache, USER, key, {"display_name": name}, counts, ENTITY)
