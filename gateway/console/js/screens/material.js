// Material: lots and serials with their balances and holds, holds placed and released with a reason
// (a hold on a lot cascades to what was made from it: the server says what it reached), the ledger.
import {api, session} from "../api.js";
import {date, dateTime, number, t, term} from "../i18n.js";
import {badge, button, clear, facts, field, filters, form, h, hashQuery, link, modal, notify, section, table, tabs}
  from "../ui.js";

const LOT_STATUSES = ["received", "quarantine", "released", "consumed", "expired", "rejected"];

export async function render(view, [kind = "lots", id]) {
  const views = {lots: id ? lot : lots, serials: id ? serial : serials, holds, ledger};
  const show = views[kind] || lots;
  const content = h("div");
  clear(view, h("h1", {text: t("nav.material")}), tabs(kind, [
    ["lots", "#/material/lots", t("mat.lots")], ["serials", "#/material/serials", t("mat.serials")],
    ["holds", "#/material/holds", t("mat.holds")], ["ledger", "#/material/ledger", t("mat.ledger")],
  ]), content);
  await show(content, id);
}

const holdBadge = (item) => (item.holds?.length ? badge(t("mat.on_hold"), "on_hold") : "");

async function lots(view) {
  const query = hashQuery();
  const page = await api.get("/material/lots", {lot_number: query.lot_number, status: query.status, limit: 100});
  clear(view, filters([
    field({label: t("mat.lot_number"), name: "lot_number", value: query.lot_number}),
    field({label: t("mat.status"), name: "status", type: "select", value: query.status,
           options: [["", t("list.any")], ...LOT_STATUSES.map((s) => [s, term("lot_status", s)])]}),
  ], "#/material/lots"), table([
    {label: t("mat.lot"), value: (l) => link(`#/material/lots/${l.id}`, l.lot_number)},
    {label: t("mat.part"), value: (l) => l.part_number},
    {label: t("mat.status"), value: (l) => badge(term("lot_status", l.status), l.status)},
    {label: t("mat.on_hand"), cls: "num", value: (l) => number(l.quantity)},
    {label: t("mat.available"), cls: "num", value: (l) => number(l.available)},
    {label: t("mat.supplier"), value: (l) => [l.supplier, l.supplier_lot].filter(Boolean).join(" / ")},
    {label: t("mat.holds"), value: holdBadge},
  ], page.items, {caption: t("mat.lots_caption"), onRow: (l) => { location.hash = `#/material/lots/${l.id}`; }}));
}

async function lot(view, id) {
  const [item, ledger] = await Promise.all([api.get(`/material/lots/${id}`),
                                            api.get("/material/transactions", {lot_id: id, limit: 50})]);
  const reload = () => lot(view, id);
  clear(view,
    h("div", {class: "title-row"}, h("h2", {text: t("mat.lot_title", {number: item.lot_number})}),
      session.can("trace:read") ? link(`#/trace?number=${encodeURIComponent(item.lot_number)}`, t("mat.trace")) : null),
    h("div", {class: "card"}, facts([
      [t("mat.part"), item.part_number],
      [t("mat.status"), badge(term("lot_status", item.status), item.status)],
      [t("mat.on_hand"), number(item.quantity)], [t("mat.reserved"), number(item.reserved)],
      [t("mat.available"), number(item.available)],
      [t("mat.supplier"), item.supplier], [t("mat.supplier_lot"), item.supplier_lot],
      [t("mat.heat"), item.heat_number], [t("mat.certificates"), item.certificates.join(", ")],
      [t("mat.expiry"), date(item.expiry_date)],
      item.work_order_id ? [t("mat.made_by"), link(`#/work-orders/${item.work_order_id}`, t("mat.work_order"))] : null,
    ]), h("div", {class: "big-actions"}, holdButton("lot", item, reload))),
    section(t("mat.balances"), table([
      {label: t("mat.location"), value: (b) => b.location_code},
      {label: t("mat.on_hand"), cls: "num", value: (b) => number(b.quantity)},
      {label: t("mat.reserved"), cls: "num", value: (b) => number(b.reserved)},
    ], item.balances)),
    holdsSection(item.holds, reload),
    section(t("mat.ledger"), ledgerTable(ledger.items)));
}

async function serials(view) {
  const query = hashQuery();
  const page = await api.get("/material/serials", {serial_number: query.serial_number, limit: 100});
  clear(view, filters([field({label: t("mat.serial_number"), name: "serial_number", value: query.serial_number})],
    "#/material/serials"), table([
    {label: t("mat.serial"), value: (s) => link(`#/material/serials/${s.id}`, s.serial_number)},
    {label: t("mat.part"), value: (s) => s.part_number},
    {label: t("mat.status"), value: (s) => badge(term("serial_status", s.status), s.status)},
    {label: t("mat.holds"), value: holdBadge},
    {label: t("mat.created"), value: (s) => dateTime(s.created_at)},
  ], page.items, {onRow: (s) => { location.hash = `#/material/serials/${s.id}`; }}));
}

async function serial(view, id) {
  const [item, ledger] = await Promise.all([api.get(`/material/serials/${id}`),
                                            api.get("/material/transactions", {serial_id: id, limit: 50})]);
  const reload = () => serial(view, id);
  clear(view,
    h("div", {class: "title-row"}, h("h2", {text: t("mat.serial_title", {number: item.serial_number})}),
      session.can("trace:read") ? link(`#/trace?number=${encodeURIComponent(item.serial_number)}`, t("mat.trace"))
        : null),
    h("div", {class: "card"}, facts([
      [t("mat.part"), item.part_number],
      [t("mat.status"), badge(term("serial_status", item.status), item.status)],
      item.work_order_id ? [t("mat.made_by"), link(`#/work-orders/${item.work_order_id}`, t("mat.work_order"))] : null,
      item.lot_id ? [t("mat.lot"), link(`#/material/lots/${item.lot_id}`, t("mat.lot"))] : null,
      [t("mat.created"), dateTime(item.created_at)],
    ]), h("div", {class: "big-actions"}, holdButton("serial", item, reload))),
    holdsSection(item.holds, reload),
    section(t("mat.ledger"), ledgerTable(ledger.items)));
}

function holdButton(targetType, item, reload) {
  if (!session.can("material:hold")) return null;
  return button(t("mat.place_hold"), async () => {
    const placed = await modal(t("mat.place_hold"), (close) => form([
      field({label: t("mat.reason"), name: "reason", type: "textarea", required: true, wide: true}),
      field({label: t("mat.reference"), name: "reference", hint: t("mat.reference_hint")}),
    ], t("mat.place_hold"), async (values) => close(await api.post("/material/holds", {
      target_type: targetType, target_id: item.id, reason: values.reason,
      ...(values.reference ? {reference: values.reference} : {})}))));
    if (!placed) return;
    notify(t("mat.hold_placed", {count: placed.cascade.length}));
    await reload();
  }, {kind: "danger"});
}

function holdsSection(list, reload) {
  return section(t("mat.holds"), holdTable(list, reload));
}

function holdTable(list, reload, {withTarget} = {}) {
  return table([
    withTarget ? {label: t("mat.target"), value: (x) => link(
      `#/material/${x.target_type === "lot" ? "lots" : "serials"}/${x.target_id}`, term("hold_target", x.target_type))}
      : null,
    {label: t("mat.reason"), value: (x) => x.reason},
    {label: t("mat.reference"), value: (x) => x.reference || ""},
    {label: t("mat.placed"), value: (x) => `${x.placed_by}, ${dateTime(x.placed_at)}`},
    {label: t("mat.cascade"), cls: "num", value: (x) => x.root_hold_id ? t("mat.by_cascade") : number(x.cascade.length)},
    {label: t("mat.status"), value: (x) => badge(term("hold_status", x.status), x.status)},
    {label: "", value: (x) => x.status === "active" && !x.root_hold_id && session.can("material:hold") ?
      button(t("mat.release_hold"), async () => {
        const released = await modal(t("mat.release_hold"), (close) => form([
          field({label: t("mat.reason"), name: "reason", type: "textarea", required: true, wide: true})],
        t("mat.release_hold"), async (values) => close(await api.post(`/material/holds/${x.id}/release`,
                                                                        {reason: values.reason}))));
        if (released) {
          notify(t("mat.hold_released"));
          await reload();
        }
      }, {kind: "secondary"}) : ""},
  ].filter(Boolean), list, {empty: t("mat.no_holds")});
}

async function holds(view) {
  const query = hashQuery();
  const status = query.status ?? "active";
  const page = await api.get("/material/holds", {status, limit: 100});
  clear(view, filters([field({label: t("mat.status"), name: "status", type: "select", value: status,
    options: [["active", term("hold_status", "active")], ["released", term("hold_status", "released")]]})],
  "#/material/holds"), holdTable(page.items, () => holds(view), {withTarget: true}));
}

function ledgerTable(items) {
  return table([
    {label: t("mat.when"), value: (x) => dateTime(x.created_at)},
    {label: t("mat.type"), value: (x) => term("txn", x.type)},
    {label: t("mat.quantity"), cls: "num", value: (x) => number(x.quantity)},
    {label: t("mat.by"), value: (x) => x.actor},
    {label: t("mat.reason"), value: (x) => x.reason || x.reference || ""},
    {label: t("mat.work_order"), value: (x) => x.work_order_id ? link(`#/work-orders/${x.work_order_id}`, "→") : ""},
  ], items, {caption: t("mat.ledger_caption")});
}

async function ledger(view) {
  const page = await api.get("/material/transactions", {limit: 100});
  clear(view, ledgerTable(page.items));
}
