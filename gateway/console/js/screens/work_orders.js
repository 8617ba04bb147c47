// Work orders: the list with filters, a new order, and the detail: operations, status history,
// plan-vs-actual variance, and the planner's actions (release — with what is short when refused —,
// schedule, hold, resume, cancel, close with an e-signature).
import {api, session} from "../api.js";
import {date, dateTime, number, percent, t, term} from "../i18n.js";
import {sign} from "../esign.js";
import {badge, button, clear, facts, field, filters, form, h, hashQuery, link, modal, notify, section, table}
  from "../ui.js";

const STATUSES = ["created", "released", "in_progress", "on_hold", "completed", "closed", "cancelled"];

export async function render(view, [id]) {
  return id ? detail(view, id) : list(view);
}

async function list(view) {
  const query = hashQuery();
  const page = await api.get("/work-orders", {status: query.status, number: query.number, limit: 100});
  const filterForm = filters([
    field({label: t("wo.number"), name: "number", value: query.number}),
    field({label: t("wo.status"), name: "status", type: "select", value: query.status,
           options: [["", t("list.any")], ...STATUSES.map((s) => [s, term("wo_status", s)])]}),
  ], "#/work-orders");
  clear(view,
    h("div", {class: "title-row"}, h("h1", {text: t("nav.work_orders")}),
      session.can("work_order:write") ? button(t("wo.new"), () => createDialog()) : null),
    filterForm,
    table([
      {label: t("wo.number"), value: (w) => link(`#/work-orders/${w.id}`, w.number)},
      {label: t("wo.part"), value: (w) => `${w.part_number} ${w.part_name}`},
      {label: t("wo.status"), value: (w) => badge(term("wo_status", w.status), w.status)},
      {label: t("wo.quantity"), cls: "num", value: (w) => `${number(w.quantity_completed)} / ${number(w.quantity)} ${w.uom}`},
      {label: t("wo.due"), value: (w) => date(w.due_date)},
      {label: t("wo.priority"), cls: "num", value: (w) => w.priority},
      {label: t("wo.work_center"), value: (w) => w.work_center_name || ""},
    ], page.items, {caption: t("wo.list_caption"), onRow: (w) => { location.hash = `#/work-orders/${w.id}`; }}));
}

async function createDialog() {
  const sites = await api.all("/resource/nodes", {level: "site", active: true});
  const centers = await api.all("/resource/nodes", {level: "work_center", active: true});
  const created = await modal(t("wo.new"), (close) => form([
    field({label: t("wo.part_number"), name: "part_number", required: true}),
    field({label: t("wo.quantity"), name: "quantity", type: "number", required: true, attrs: {min: 0, step: "any"}}),
    field({label: t("wo.due"), name: "due_date", type: "date", required: true}),
    field({label: t("wo.priority"), name: "priority", type: "number", value: 500, attrs: {min: 1, max: 999}}),
    field({label: t("wo.site"), name: "site_id", type: "select", required: true,
           options: sites.map((s) => [s.id, `${s.code} ${s.name}`])}),
    field({label: t("wo.work_center"), name: "work_center_id", type: "select",
           options: [["", ""], ...centers.map((c) => [c.id, `${c.code} ${c.name}`])]}),
  ], t("action.create"), async (values) => {
    const parts = await api.get("/material/parts", {part_number: values.part_number, limit: 5});
    const part = parts.items.find((p) => p.part_number === values.part_number);
    if (!part) throw {message: t("wo.no_part", {number: values.part_number}), details: {part_number: [t("wo.no_part_short")]}};
    close(await api.post("/work-orders", {
      part_id: part.id, quantity: Number(values.quantity), due_date: values.due_date,
      priority: Number(values.priority || 500), site_id: values.site_id,
      ...(values.work_center_id ? {work_center_id: values.work_center_id} : {})}));
  }));
  if (created) location.hash = `#/work-orders/${created.id}`;
}

async function detail(view, id) {
  const [order, variance] = await Promise.all([api.get(`/work-orders/${id}`),
                                               api.get(`/work-orders/${id}/variance`)]);
  const reload = () => detail(view, id);
  const actions = h("div", {class: "big-actions"}, orderActions(order, reload));
  clear(view,
    h("div", {class: "title-row"}, h("h1", {text: t("wo.title", {number: order.number})}),
      h("a", {class: "btn secondary", href: "#/work-orders"}, t("wo.all"))),
    order.release_error ? h("div", {class: "form-error", role: "alert"},
      h("strong", {text: t("wo.release_refused")}), " ", order.release_error) : null,
    h("div", {class: "card"}, facts([
      [t("wo.part"), `${order.part_number} ${order.part_name} (${t("wo.rev")} ${order.part_revision})`],
      [t("wo.status"), badge(term("wo_status", order.status), order.status)],
      order.hold_reason ? [t("wo.hold_reason"), order.hold_reason] : null,
      [t("wo.quantity"), `${number(order.quantity)} ${order.uom}`],
      [t("wo.completed"), `${number(order.quantity_completed)} ${order.uom}`],
      [t("wo.scrapped"), `${number(order.quantity_scrapped)} ${order.uom}`],
      [t("wo.due"), date(order.due_date)],
      [t("wo.priority"), order.priority],
      [t("wo.site"), order.site_name],
      [t("wo.work_center"), order.work_center_name],
      [t("wo.created_by"), `${order.created_by_name || ""} ${dateTime(order.created_at)}`],
    ]), actions),
    section(t("wo.operations"), table([
      {label: t("op.sequence"), cls: "num", value: (o) => o.sequence},
      {label: t("op.operation"), value: (o) => o.name},
      {label: t("wo.work_center"), value: (o) => o.work_center_name || o.work_center_code || ""},
      {label: t("op.status"), value: (o) => badge(term("op_status", o.status), o.status)},
      {label: t("op.good"), cls: "num", value: (o) => number(o.quantity_good)},
      {label: t("op.scrap"), cls: "num", value: (o) => number(o.quantity_scrap)},
      {label: t("op.rework"), cls: "num", value: (o) => number(o.quantity_rework)},
      {label: t("op.operator"), value: (o) => o.operator_name || ""},
      {label: t("op.planned"), value: (o) => o.planned_start ? `${dateTime(o.planned_start)} – ${dateTime(o.planned_end)}` : ""},
      {label: "", value: (o) => session.can("work_order:execute") && ["ready", "running", "paused"].includes(o.status)
        ? link(`#/terminal/${o.work_center_id}/${order.id}/${o.id}`, t("wo.to_terminal")) : ""},
    ], order.operations, {empty: t("wo.no_operations")})),
    section(t("wo.variance"), table([
      {label: t("op.operation"), value: (v) => `${v.sequence} ${v.name}`},
      {label: t("var.planned_qty"), cls: "num", value: (v) => number(v.planned_quantity)},
      {label: t("var.good"), cls: "num", value: (v) => number(v.actual_good)},
      {label: t("var.scrap"), cls: "num", value: (v) => number(v.actual_scrap)},
      {label: t("var.planned_min"), cls: "num", value: (v) => number(v.planned_minutes, 1)},
      {label: t("var.earned_min"), cls: "num", value: (v) => number(v.earned_minutes, 1)},
      {label: t("var.actual_min"), cls: "num", value: (v) => number(v.actual_minutes, 1)},
      {label: t("var.ratio"), cls: "num", value: (v) => percent(v.minutes_ratio)},
    ], [...variance.operations, {...variance.order, sequence: "", name: t("var.order")}])),
    section(t("wo.history"), table([
      {label: t("wo.when"), value: (c) => dateTime(c.at)},
      {label: t("wo.from"), value: (c) => term("wo_status", c.from)},
      {label: t("wo.to"), value: (c) => term("wo_status", c.to)},
      {label: t("wo.by"), value: (c) => c.actor},
      {label: t("wo.reason"), value: (c) => c.reason || ""},
    ], order.status_history)),
    order.signatures?.length ? section(t("wo.signatures"), table([
      {label: t("esign.meaning"), value: (s) => term("meaning", s.meaning)},
      {label: t("esign.signed_by"), value: (s) => s.printed_name},
      {label: t("esign.signed_at"), value: (s) => dateTime(s.signed_at)},
      {label: t("esign.valid"), value: (s) => s.valid ? t("esign.valid_yes") : badge(t("esign.valid_no"), "fail")},
    ], order.signatures)) : null);
}

function reasonDialog(title, path, reload) {
  return async () => {
    const done = await modal(title, (close) => form([field({label: t("wo.reason"), name: "reason", required: true,
                                                            type: "textarea"})],
    title, async (values) => close(await api.post(path, {reason: values.reason}))));
    if (done) await reload();
  };
}

function orderActions(order, reload) {
  const base = `/work-orders/${order.id}`;
  const out = [];
  if (order.status === "created" && session.can("work_order:release")) {
    out.push(button(t("wo.release"), async () => {
      try {
        await api.post(`${base}/release`, {});
        notify(t("wo.released", {number: order.number}));
      } catch (error) {
        notify(`${t("wo.release_refused")} ${error.message}`, "error");
      }
      await reload();
    }));
  }
  if (session.can("work_order:write")) {
    if (["released", "in_progress"].includes(order.status)) {
      out.push(button(t("wo.schedule"), async () => {
        await api.post(`${base}/schedule`, {});
        await reload();
      }, {kind: "secondary"}));
      out.push(button(t("wo.hold"), reasonDialog(t("wo.hold"), `${base}/hold`, reload), {kind: "secondary"}));
    }
    if (order.status === "on_hold") out.push(button(t("wo.resume"), reasonDialog(t("wo.resume"), `${base}/resume`, reload)));
    if (["created", "released", "on_hold"].includes(order.status)) {
      out.push(button(t("wo.cancel"), reasonDialog(t("wo.cancel"), `${base}/cancel`, reload), {kind: "danger"}));
    }
    if (order.status === "completed") {
      out.push(button(t("wo.close"), async () => {
        const reason = await modal(t("wo.close"), (close) => form([field({label: t("wo.reason"), name: "reason",
          required: true, type: "textarea"})], t("action.continue"), async (values) => close(values.reason)));
        if (!reason) return;
        const signed = await sign({meaning: "approval", record: t("wo.record", {number: order.number}),
                                   action: (signature) => api.post(`${base}/close`, {reason, signature})});
        if (signed) await reload();
      }));
    }
  }
  return out;
}

