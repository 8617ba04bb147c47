// Traceability: find a lot, serial, work order or NCR by number; its genealogy as a graph (what went
// into it to the left, what it went into to the right; a click expands or collapses a node; NCRs in red),
// the recall from a lot or serial with its CSV, and a serial's as-built record.
import {api} from "../api.js";
import {dateTime, number, t, term} from "../i18n.js";
import {badge, button, clear, facts, field, filters, h, hashQuery, link, section, table, tabs} from "../ui.js";
import {Graph} from "../graph.js";

const DEFAULT_DEPTH = 10;
const STATUS_KIND = {lot: "lot_status", serial: "serial_status", work_order: "wo_status", operation: "op_status",
                     inspection: "insp_status", ncr: "ncr_status"};
const MAX_NODES = 10000;

export async function render(view, [id, kind = "graph"]) {
  if (!id) return search(view);
  const node = await api.get(`/trace/nodes/${id}`);
  const content = h("div");
  const label = `${term("node_type", node.type)} ${node.number || ""}`;
  const views = [["graph", `#/trace/${id}`, t("trace.graph")]];
  if (node.type === "lot" || node.type === "serial") views.push(["recall", `#/trace/${id}/recall`, t("trace.recall")]);
  if (node.type === "serial") views.push(["as-built", `#/trace/${id}/as-built`, t("trace.as_built")]);
  clear(view, h("h1", {text: t("trace.title", {node: label})}), tabs(kind, views), content);
  if (kind === "recall") return recall(content, node);
  if (kind === "as-built") return asBuilt(content, node);
  return graph(content, node);
}

async function search(view) {
  const query = hashQuery();
  if (query.heat || query.supplier_lot) return recallBy(view, query);
  const found = query.number ? (await api.get("/trace/nodes", {number: query.number, limit: 50})).items : [];
  if (found.length === 1) {
    location.replace(`#/trace/${found[0].id}`);
    return;
  }
  clear(view, h("h1", {text: t("nav.trace")}),
    filters([field({label: t("trace.number"), name: "number", value: query.number, required: true})], "#/trace"),
    query.number ? table([
      {label: t("trace.node"), value: (n) => link(`#/trace/${n.id}`, `${term("node_type", n.type)} ${n.number}`)},
      {label: t("trace.part"), value: (n) => n.attrs?.part_number || ""},
    ], found, {empty: t("trace.none", {number: query.number})}) : h("p", {class: "hint", text: t("trace.hint")}),
    section(t("trace.recall_by"),
      filters([field({label: t("trace.heat"), name: "heat"})], "#/trace"),
      filters([field({label: t("trace.supplier_lot"), name: "supplier_lot"})], "#/trace")));
}

// a recall from every lot of a heat number or a supplier lot
async function recallBy(view, query) {
  const [kind, value] = query.heat ? ["heats", query.heat] : ["supplier-lots", query.supplier_lot];
  const path = `/trace/${kind}/${encodeURIComponent(value)}/recall`;
  const answer = await api.get(path);
  const content = h("div");
  clear(view, h("h1", {text: t(query.heat ? "trace.heat_recall" : "trace.supplier_lot_recall", {value})}), content);
  recallView(content, answer, `${path}.csv`, `recall-${value}.csv`);
}

async function graph(view, node) {
  const query = hashQuery();
  const depth = Math.min(25, Math.max(1, Number(query.depth) || DEFAULT_DEPTH));
  const params = {depth, format: "nested", limit: MAX_NODES};
  const [backward, forward] = await Promise.all([
    api.get(`/trace/nodes/${node.id}/backward`, params), api.get(`/trace/nodes/${node.id}/forward`, params)]);
  const details = h("aside", {class: "card node-details", "aria-live": "polite"},
    h("p", {class: "hint", text: t("trace.select_hint")}));
  const area = h("div", {class: "graph", role: "group", "aria-label": t("trace.graph_label")});
  const g = new Graph(area, backward, forward, {onSelect: (n) => showNode(details, n)});
  const depthForm = filters([field({label: t("trace.depth"), name: "depth", type: "number", value: depth,
                                    attrs: {min: 1, max: 25}})], `#/trace/${node.id}`);
  clear(view,
    h("div", {class: "graph-tools"}, depthForm,
      button(t("trace.expand_all"), () => g.expandAll(), {kind: "secondary"}),
      button(t("trace.collapse"), () => g.collapseAll(), {kind: "secondary"}),
      h("span", {class: "hint", text: t("trace.counts", {backward: backward.total, forward: forward.total})})),
    backward.truncated || forward.truncated ? h("p", {class: "notice warning", text: t("trace.truncated")}) : null,
    h("p", {class: "hint", text: t("trace.legend")}),
    area, details);
  g.draw();
}

function showNode(details, n) {
  const links = [];
  if (n.type === "lot") links.push(link(`#/material/lots/${n.id}`, t("trace.open_lot")));
  if (n.type === "serial") links.push(link(`#/material/serials/${n.id}`, t("trace.open_serial")));
  if (n.type === "work_order") links.push(link(`#/work-orders/${n.id}`, t("trace.open_work_order")));
  if (n.type === "ncr") links.push(link(`#/quality/ncrs/${n.id}`, t("trace.open_ncr")));
  if (n.type === "inspection") links.push(link(`#/quality/inspections/${n.id}`, t("trace.open_inspection")));
  links.push(link(`#/trace/${n.id}`, t("trace.center")));
  clear(details, h("h2", {text: `${term("node_type", n.type)} ${n.number || ""}`}), facts([
    [t("trace.part"), n.part_number], [t("trace.status"), n.status && term(STATUS_KIND[n.type], n.status)],
    n.quantity !== null && n.quantity !== undefined ? [t("trace.quantity"), number(n.quantity)] : null,
    n.heat_number ? [t("trace.heat"), n.heat_number] : null,
    n.supplier ? [t("trace.supplier"), [n.supplier, n.supplier_lot].filter(Boolean).join(" / ")] : null,
    n.on_hold ? [t("trace.hold"), badge(t("mat.on_hold"), "on_hold")] : null,
    n.ncrs?.length ? [t("trace.ncrs"), n.ncrs.join(", ")] : null,
  ]), h("p", {class: "links"}, links.map((a, i) => [i ? " · " : "", a])));
}

async function recall(view, node) {
  const answer = await api.get(`/trace/nodes/${node.id}/recall`);
  recallView(view, answer, `/trace/nodes/${node.id}/recall.csv`, `recall-${node.number}.csv`);
}

export function recallView(view, answer, csvPath, filename) {
  clear(view,
    h("div", {class: "title-row"}, h("p", {class: "hint", text: t("trace.generated", {at: dateTime(answer.generated_at)})}),
      button(t("trace.csv"), () => api.download(csvPath, filename), {kind: "secondary"})),
    section(t("trace.totals"), table([
      {label: t("trace.category"), value: (x) => term("recall", x.category)},
      {label: t("trace.lots"), cls: "num", value: (x) => x.lots},
      {label: t("trace.serials"), cls: "num", value: (x) => x.serials},
      {label: t("trace.work_orders"), cls: "num", value: (x) => x.work_orders},
      {label: t("trace.quantity"), cls: "num", value: (x) => number(x.quantity)},
    ], answer.totals)),
    section(t("trace.affected"), table([
      {label: t("trace.category"), value: (x) => term("recall", x.category)},
      {label: t("trace.node"), value: (x) => link(`#/trace/${x.id}`, `${term("node_type", x.type)} ${x.number || ""}`)},
      {label: t("trace.part"), value: (x) => x.part_number || ""},
      {label: t("trace.quantity"), cls: "num", value: (x) => number(x.quantity)},
      {label: t("trace.where"), value: (x) => x.locations.map((l) => l.location_code).filter(Boolean).join(", ")},
      {label: t("trace.hold"), value: (x) => x.on_hold ? badge(t("mat.on_hold"), "on_hold") : ""},
    ], answer.items)));
}

async function asBuilt(view, node) {
  const record = await api.get(`/trace/serials/${node.id}/as-built`);
  const tree = (items) => h("ul", {class: "tree"}, items.map((c) => h("li", {},
    link(`#/trace/${c.id}`, `${term("node_type", c.type)} ${c.number || ""}`),
    ` ${c.part_number || ""}${c.quantity ? ` × ${number(c.quantity)}` : ""}${c.heat_number ? ` — ${t("trace.heat")} ${c.heat_number}` : ""}`,
    c.components?.length ? tree(c.components) : null)));
  clear(view,
    h("div", {class: "title-row"}, h("p", {class: "hint", text: t("trace.generated", {at: dateTime(record.generated_at)})}),
      button(t("trace.printable"), async () => {
        const url = await api.objectUrl(`/trace/serials/${node.id}/as-built.html`);
        window.open(url, "_blank", "noopener");
      }, {kind: "secondary"})),
    section(t("trace.components"), record.components.length ? tree(record.components) : h("p", {text: t("list.empty")})),
    ...record.work_orders.map((wo) => section(t("trace.made_by", {number: wo.number}), table([
      {label: t("op.sequence"), cls: "num", value: (o) => o.sequence},
      {label: t("op.operation"), value: (o) => o.name},
      {label: t("wo.work_center"), value: (o) => o.work_center_code || ""},
      {label: t("op.operator"), value: (o) => o.operator_name || ""},
      {label: t("trace.equipment"), value: (o) => o.equipment || ""},
      {label: t("op.started"), value: (o) => dateTime(o.actual_start)},
      {label: t("trace.buy_offs"), value: (o) => o.buy_offs.map((b) => `${b.by_name}: ${JSON.stringify(b.values)}`).join("; ")},
      {label: t("trace.gauges"), value: (o) => o.gauges_used.map((g) => g.asset).join(", ")},
    ], wo.operations))),
    section(t("trace.inspections"), table([
      {label: t("q.inspection"), value: (x) => link(`#/quality/inspections/${x.id}`, x.number)},
      {label: t("q.plan"), value: (x) => x.plan_number || ""},
      {label: t("q.status"), value: (x) => badge(term("insp_status", x.status), x.status)},
    ], record.inspections)),
    section(t("trace.ncrs"), table([
      {label: t("q.ncr"), value: (x) => link(`#/quality/ncrs/${x.id}`, x.number)},
      {label: t("q.title"), value: (x) => x.title || ""},
      {label: t("q.status"), value: (x) => badge(term("ncr_status", x.status), x.status)},
    ], record.ncrs)));
}
