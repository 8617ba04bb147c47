"""A plant's history as the traceability model holds it, generated straight
into one generation's tables with COPY (not through the stack), and the
same history as the owners' events for a rebuild.

The plant is made of programs of the same shape, so a query on one program
costs the same in a model of one program (about 17,000 nodes) and of sixty
(a million): a heat lot split into 20 bar lots, each feeding 500 detail
serials (produced by work orders of 25, three operations each, primed and
top-coated from chemical lots that each feed 1,000 serials, one inspection
per order); the details assembled 4 to 6 at a time, level after level, into
top assemblies 6 to 10 levels below the heat, each assembly with its
fastener and sealant lots, its work order and its inspection.

    python bench/trace_data.py --programs 60 --dsn 'host=127.0.0.1 dbname=mes_traceability user=postgres'
"""
import argparse
import io
import json
import random
import time
import uuid

import psycopg2
import psycopg2.extensions

STAMP = "2026-01-01T00:00:00.000000+00:00|00000000-0000-0000-0000-000000000000"
DETAILS_PER_BAR, BARS_PER_HEAT, PER_ORDER = 500, 20, 25


class Program:
    """One program's nodes and edges (rows for COPY), and its notable ids."""

    def __init__(self, index, rng):
        self.index, self.rng = index, rng
        self.nodes, self.edges = [], []
        self.heat = self.top = None
        self.tops, self.details, self.assemblies = [], [], []

    def node(self, node_type, number, **attrs):
        node_id = uuid.UUID(int=self.rng.getrandbits(128))
        self.nodes.append((node_id, node_type, {"number": number, **attrs}))
        return node_id

    def edge(self, kind, from_id, to_id, quantity=None):
        self.edges.append((uuid.UUID(int=self.rng.getrandbits(128)), from_id, to_id, kind, quantity))

    def build(self):
        p, rng = f"P{self.index:03d}", self.rng
        self.heat = self.node("lot", f"HEAT-{p}", heat_number=f"H-{p}", part_number="BAR-7075", status="consumed",
                              quantity=0.0, supplier="Alcoa", supplier_lot=f"AL-{p}")
        chemicals = [self.node("lot", f"{kind}-{p}-{i}", part_number=kind, status="released", quantity=5.0)
                     for kind in ("PRIMER", "TOPCOAT") for i in range(10)]
        hardware = [self.node("lot", f"{kind}-{p}-{i}", part_number=kind, status="released", quantity=500.0)
                    for kind in ("FASTENER", "SEALANT") for i in range(10)]
        serial_no = 0
        level = []
        for b in range(BARS_PER_HEAT):
            bar = self.node("lot", f"BAR-{p}-{b:02d}", heat_number=f"H-{p}", part_number="BAR-7075",
                            status="released", quantity=12.0, supplier="Alcoa")
            self.edge("split_from", self.heat, bar, 100.0)
            for start in range(0, DETAILS_PER_BAR, PER_ORDER):
                order, operations = self._order(f"WO-{p}-D{b:02d}{start:03d}", "DETAIL")
                self.edge("consumed_into", bar, operations[0], 2.5 * PER_ORDER)
                inspection = self.node("inspection", f"INS-{p}-D{b:02d}{start:03d}", status="passed")
                self.edge("inspected_by", inspection, operations[-1])
                for _ in range(PER_ORDER):
                    serial_no += 1
                    serial = self.node("serial", f"SN-{p}-{serial_no:06d}", part_number="DETAIL",
                                       status="assembled")
                    self.edge("consumed_into", bar, serial, 2.5)
                    self.edge("produced_by", order, serial)
                    self.edge("consumed_into", chemicals[serial_no % 10], serial, 0.01)
                    self.edge("consumed_into", chemicals[10 + serial_no % 10], serial, 0.01)
                    self.edge("inspected_by", inspection, serial)
                    level.append(serial)
        self.details = list(level)
        depth = rng.randint(4, 8)   # assembly levels: tops 6 to 10 below the heat
        for lvl in range(depth):
            fan_in = max(2, round(len(level) ** (1 / (depth - lvl)))) if lvl < depth - 1 else len(level)
            fan_in = min(max(fan_in, 4), 6) if lvl < depth - 1 else fan_in
            parents = []
            for start in range(0, len(level), fan_in):
                serial_no += 1
                assembly = self.node("serial", f"SN-{p}-{serial_no:06d}", part_number=f"ASSY-L{lvl + 1}",
                                     status="available" if lvl == depth - 1 else "assembled")
                for child in level[start:start + fan_in]:
                    self.edge("assembled_into", child, assembly, 1.0)
                if len(parents) % 10 == 0:
                    order, operations = self._order(f"WO-{p}-A{lvl}{len(parents):04d}", f"ASSY-L{lvl + 1}")
                    inspection = self.node("inspection", f"INS-{p}-A{lvl}{len(parents):04d}", status="passed")
                self.edge("produced_by", order, assembly)
                self.edge("consumed_into", hardware[serial_no % 10], assembly, 8.0)
                self.edge("consumed_into", hardware[10 + serial_no % 10], assembly, 0.05)
                self.edge("inspected_by", inspection, assembly)
                parents.append(assembly)
            if lvl == 0:
                self.assemblies = parents[::20]
            level = parents
        self.tops = level
        return self

    def _order(self, number, part):
        order = self.node("work_order", number, part_number=part, status="closed", quantity=PER_ORDER)
        operations = [self.node("operation", f"{number}/{10 * (i + 1)}", work_order_id=str(order),
                                sequence=10 * (i + 1), operator_name="Olga Operator", status="completed")
                      for i in range(3)]
        for operation in operations:
            self.edge("operation_of", operation, order)
        return order, operations


def _copy(cursor, table, columns, rows):
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(r"\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def _json(value):
    return json.dumps(value, separators=(",", ":")).replace("\\", "\\\\")


def load(conn, schema, programs, seed=14, progress=print):
    """Empty `schema`'s model and fill it with `programs` programs; returns
    (node count, edge count, [Program summaries])."""
    # COPY cannot run under a green wait callback (psycogreen, installed by the platform's engines)
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        return _load(conn, schema, programs, seed, progress)
    finally:
        psycopg2.extensions.set_wait_callback(callback)


def _load(conn, schema, programs, seed, progress):
    rng = random.Random(seed)
    cursor = conn.cursor()
    cursor.execute(f"TRUNCATE {schema}.node, {schema}.edge, {schema}.timeline")
    indexes = ("ix_edge_to", "ix_edge_from", "ix_node_number", "ix_node_heat_number", "ix_node_supplier_lot")
    for name in indexes:   # built once at the end: far faster than row by row
        cursor.execute(f"DROP INDEX IF EXISTS {schema}.{name}")
    nodes = edges = 0
    summaries = []
    started = time.monotonic()
    for index in range(programs):
        program = Program(index, rng).build()
        _copy(cursor, f"{schema}.node", ("id", "type", "attrs", "stamps", "known"),
              ((i, t, _json(a), _json({k: STAMP for k in a}), "t") for i, t, a in program.nodes))
        _copy(cursor, f"{schema}.edge", ("id", "from_id", "to_id", "kind", "quantity", "at"),
              ((i, f, t, k, q, "2026-01-01T00:00:00+00:00") for i, f, t, k, q in program.edges))
        nodes += len(program.nodes)
        edges += len(program.edges)
        summaries.append({"heat": program.heat, "tops": program.tops, "details": program.details[::97],
                          "assemblies": program.assemblies,
                          "nodes": len(program.nodes)})
        if progress and (index + 1) % 10 == 0:
            progress(f"  {index + 1}/{programs} programs: {nodes} nodes, {edges} edges, "
                     f"{time.monotonic() - started:.0f} s")
    cursor.execute(f"CREATE INDEX ix_edge_to ON {schema}.edge (to_id, from_id, kind)")
    cursor.execute(f"CREATE INDEX ix_edge_from ON {schema}.edge (from_id, to_id, kind)")
    cursor.execute(f"CREATE INDEX ix_node_number ON {schema}.node (number, type)")
    cursor.execute(f"CREATE INDEX ix_node_heat_number ON {schema}.node (heat_number) WHERE heat_number IS NOT NULL")
    cursor.execute(f"CREATE INDEX ix_node_supplier_lot ON {schema}.node (supplier_lot) "
                   "WHERE supplier_lot IS NOT NULL")
    cursor.execute(f"ANALYZE {schema}.node")
    cursor.execute(f"ANALYZE {schema}.edge")
    conn.commit()
    return nodes, edges, summaries


def events(programs, seed=14):
    """The same kind of history as the owners' events (envelopes): each program's
    lots received, serials created (1,000 per event), genealogy links (1,000 per
    event) and work orders released with their operations. Yields pages of
    envelopes in log order."""
    rng = random.Random(seed)
    clock = [0]

    def envelope(source, type_, subject, data):
        clock[0] += 1
        return {"id": str(uuid.UUID(int=rng.getrandbits(128))), "source": source, "type": type_,
                "specversion": "1.0", "subject": str(subject), "data": data, "actor": "bench",
                "time": f"2026-01-01T00:00:00.{clock[0] % 1_000_000:06d}+00:00"}
    relation = {"consumed_into": "produced_from", "assembled_into": "assembly", "split_from": "split"}
    for index in range(programs):
        program = Program(index, rng).build()
        kinds = {i: t for i, t, _ in program.nodes}
        page = []
        for node_id, node_type, attrs in program.nodes:
            if node_type == "lot":
                page.append(envelope("material_service", "mes.material.lot.received", node_id, {
                    "id": str(node_id), "lot_number": attrs["number"], "part_number": attrs["part_number"],
                    "status": attrs["status"], "quantity": attrs["quantity"], "heat_number": attrs.get("heat_number"),
                    "balances": [], "holds": [], "quantity_received": attrs["quantity"], "origin": "receipt"}))
            elif node_type == "work_order":
                page.append(envelope("work_order_service", "mes.work_order.work_order.released", node_id, {
                    "id": str(node_id), "number": attrs["number"], "part_number": attrs["part_number"],
                    "status": "released", "quantity": attrs["quantity"], "operations": []}))
            elif node_type == "operation":
                page.append(envelope("work_order_service", "mes.work_order.operation.completed", node_id, {
                    "id": str(node_id), "sequence": attrs["sequence"], "name": "Op", "status": "completed",
                    "work_order_id": attrs["work_order_id"], "work_order_number": attrs["number"].split("/")[0],
                    "operator_name": "Olga Operator"}))
        serials = [(i, a["number"]) for i, t, a in program.nodes if t == "serial"]
        for start in range(0, len(serials), 1000):
            page.append(envelope("material_service", "mes.material.serial.created", program.heat, {
                "part_id": None, "work_order_id": None, "serials": [
                    {"id": str(i), "serial_number": n} for i, n in serials[start:start + 1000]]}))
        links = [e for e in program.edges if e[3] in relation and kinds[e[1]] in ("lot", "serial")
                 and kinds[e[2]] in ("lot", "serial")]
        for start in range(0, len(links), 1000):
            page.append(envelope("material_service", "mes.material.genealogy.linked", program.heat, {"links": [
                {"id": str(i), "source_type": kinds[f], "source_id": str(f), "target_type": kinds[t],
                 "target_id": str(t), "relation": relation[k], "quantity": q,
                 "created_at": "2026-01-01T00:00:00+00:00"} for i, f, t, k, q in links[start:start + 1000]]}))
        yield page


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=60)
    parser.add_argument("--dsn", required=True, help="libpq DSN of a migrated traceability database")
    parser.add_argument("--schema", default="trace_a")
    args = parser.parse_args()
    with psycopg2.connect(args.dsn) as connection:
        print(load(connection, args.schema, args.programs)[:2])
