"""The permission catalogue and the built-in roles. Pure data.

Permissions are `resource:action` strings. Each gateway route declares one;
a role is a named set of them. Built-in roles are defined here and kept in
the database by `roles.sync_builtin` (at service start and by the CLI): they
cannot be edited through the API, only extended by granting custom roles.
"""

PERMISSIONS = {
    # identity and access
    "user:read": "see users and their roles",
    "user:write": "create and change users, assign roles, reset passwords, end sessions",
    "role:read": "see roles and their permissions",
    "role:write": "create and change custom roles",
    "api_token:write": "create API tokens for oneself",
    "audit:read": "query and verify the audit trails",
    "metrics:read": "scrape the gateway's Prometheus metrics (a monitoring system's API token)",
    # equipment hierarchy and routings
    "resource:read": "see the equipment hierarchy",
    "resource:write": "change the equipment hierarchy",
    "routing:read": "see routings",
    "routing:write": "create, change and release routings",
    "qualification:read": "see the skills catalogue, people's qualifications and the qualification matrix",
    "qualification:write": "keep the skills catalogue; grant and revoke qualifications",
    "qualification:override": "start work for an operator who lacks a qualification, with a reason (audited)",
    "gauge:read": "see gauges and tools, their calibrations and uses",
    "gauge:write": "keep gauges and tools: register, calibrate, quarantine, retire",
    "calendar:read": "see shift calendars, holidays and planned busy time",
    "calendar:write": "keep shift calendars, holidays and planned shutdowns",
    "equipment_state:write": "report what equipment is doing (running, idle, setup, down, maintenance)",
    # material
    "material:read": "see parts, bills of material, lots, serials and inventory",
    "material:write": "create and change parts and bills of material",
    "inventory:write": "keep storage locations; receive, release, move, issue, adjust and scrap inventory; serials",
    "material:hold": "place and release holds on lots and serials",
    # work orders and execution
    "work_order:read": "see work orders, dispatch lists and schedules",
    "work_order:write": "create and change work orders",
    "work_order:release": "release work orders to the shop floor",
    "work_order:execute": "start, complete and book operations, consume material",
    "work_instruction:write": "author work instructions",
    # quality
    "quality:read": "see inspections, characteristics and nonconformances",
    "quality:write": "define inspection plans and characteristics",
    "inspection:record": "record inspection results",
    "ncr:write": "raise and work nonconformance reports",
    "mrb:disposition": "disposition nonconforming material (MRB)",
    # traceability, reporting, integration
    "trace:read": "query genealogy and traceability",
    "report:read": "see reports and KPIs",
    "report:write": "define KPIs, targets and alert rules; take snapshots; acknowledge alerts",
    "integration:write": "exchange B2MML/QIF documents with ERP and CMM systems",
    "integration:read": "see the integration message log, endpoints and webhooks",
    # new services' permissions go above this line (mes new-service)
}

_READ_SHOP = {"resource:read", "routing:read", "material:read", "work_order:read", "quality:read",
              "trace:read", "report:read", "qualification:read", "gauge:read", "calendar:read"}

# name -> (description, permissions, MFA required). A role holding user:write, role:write or
# audit:read requires MFA whatever its flag says (auth_service.domain.PRIVILEGED): their holders'
# first sign-in opens only the enrolment of an authenticator.
BUILTIN_ROLES = {
    "admin": ("Administers users, roles and the plant model", set(PERMISSIONS), True),
    "planner": ("Plans work: parts, routings, work orders and releases",
                _READ_SHOP | {"routing:write", "material:write", "work_order:write", "work_order:release",
                              "work_instruction:write", "calendar:write", "report:write"}, False),
    "operator": ("Runs operations on the shop floor",
                 {"resource:read", "routing:read", "material:read", "work_order:read", "work_order:execute",
                  "quality:read", "inspection:record", "qualification:read", "gauge:read", "calendar:read",
                  "equipment_state:write"}, False),
    "store_keeper": ("Receives, stores, moves and issues material; keeps the inventory",
                     {"resource:read", "material:read", "inventory:write", "work_order:read"}, False),
    "quality_engineer": ("Owns inspection plans, nonconformances and quality records",
                         _READ_SHOP | {"quality:write", "ncr:write", "material:hold", "inspection:record",
                                       "work_instruction:write", "qualification:write",
                                       "qualification:override", "gauge:write"}, False),
    "inspector": ("Inspects and records results; raises nonconformances",
                  _READ_SHOP | {"inspection:record", "ncr:write"}, False),
    "mrb_member": ("Material Review Board: dispositions nonconforming material",
                   _READ_SHOP | {"mrb:disposition", "ncr:write", "material:hold"}, True),
    "auditor": ("Reads everything including the audit trails; changes nothing",
                _READ_SHOP | {"audit:read", "user:read", "role:read"}, True),
    "integration": ("Machine account of ERP/CMM integrations (API tokens)",
                    _READ_SHOP | {"integration:write", "integration:read", "material:write", "inventory:write",
                                  "resource:write",
                                  "work_order:write", "api_token:write", "equipment_state:write", "quality:write",
                                  "inspection:record"}, False),
    "monitoring": ("Machine account of a monitoring system (Prometheus): scrapes the gateway's metrics",
                   {"metrics:read", "api_token:write"}, False),
}
