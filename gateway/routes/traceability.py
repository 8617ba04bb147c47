"""/api/v1/trace: the genealogy read model (a route table: see gateway.routing)."""
from gateway.routing import Routes
from traceability_service import contract
from traceability_service.contract import schemas as s

routes = Routes(contract.SERVICE, tags=["trace"], prefix="/api/v1/trace")
READ = "trace:read"
TRACE_DOC = ("`depth` levels (at most 25), `types` to list only some node types (the walk goes through the others), "
             "`via` to follow only some edge kinds; `format=flat` pages the nodes by depth (`limit`, `cursor`) with "
             "the edges between them, `format=nested` gives the tree (at most `limit` nodes). A node only named so "
             "far (its own event not arrived yet) has `known: false`; it is completed when its event lands.")

routes.get("/nodes", "find_trace_nodes", query=s.NodeSearchQuery, response=s.GenealogyNodePage,
           permission=READ, summary="Find lots, serials, work orders, operations, inspections and NCRs by number")
routes.get("/nodes/<node_id>", "get_trace_node", response=s.GenealogyNodeOut, permission=READ,
           summary="A node of the genealogy with everything the events said of it")
routes.get("/nodes/<node_id>/backward", "trace_backward", query=s.TraceQuery, response=s.TraceOut, permission=READ,
           summary="Backward trace: what went into it, who made it, what was measured, which NCRs",
           doc=TRACE_DOC)
routes.get("/nodes/<node_id>/forward", "trace_forward", query=s.TraceQuery, response=s.TraceOut, permission=READ,
           summary="Forward trace (where-used): what it went into", doc=TRACE_DOC)
routes.get("/nodes/<node_id>/timeline", "get_timeline", query=s.TimelineQuery, response=s.TimelinePage,
           permission=READ, summary="What happened to it: who, what, equipment, when (oldest first)")
RECALL_DOC = ("Every lot, serial and work order the suspect material reached, as in stock, in work, consumed, "
              "shipped or scrapped, with quantities and locations (the same answer as "
              "`recall` over RPC with `node_id`, `heat_number` or `supplier_lot`).")
for path, name, what, key in (("/nodes/<node_id>", "node", "a lot or a serial", "node_id"),
                              ("/heats/<heat_number>", "heat", "every lot of a heat number", "heat_number"),
                              ("/supplier-lots/<supplier_lot>", "supplier_lot", "every lot of a supplier lot",
                               "supplier_lot")):
    routes.get(f"{path}/recall", "recall", operation_id=f"recall_{name}", response=s.RecallOut, permission=READ,
               args=lambda call, key=key: ({key: call.path[key]},),
               summary=f"Recall simulation from {what}", doc=RECALL_DOC)
    routes.get(f"{path}/recall.csv", "recall_csv", operation_id=f"recall_{name}_csv", media_type="text/csv",
               permission=READ, args=lambda call, key=key: ({key: call.path[key]},),
               summary=f"Recall simulation from {what}, as a CSV spreadsheet")
routes.get("/serials/<serial_id>/as-built", "get_as_built", response=s.AsBuiltOut, permission=READ,
           summary="The as-built record (digital thread) of a serial")
routes.get("/serials/<serial_id>/as-built.html", "get_as_built_html", media_type="text/html", permission=READ,
           summary="The as-built record as a printable page")
routes.get("/status", "get_model_status", response=s.ModelStatusOut, permission=READ,
           summary="The read model: which generation answers, its size, the last rebuild")
