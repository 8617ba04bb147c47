// Quality: open inspections to record (each characteristic with its tolerance; the verdict shows as a
// value is typed, by the server's rule), NCRs (raise one on scanned lots or serials, the MRB's
// disposition and its signed approvals), and first article reports with their three AS9102 forms.
import {api, session} from "../api.js";
import {dateTime, number, t, term} from "../i18n.js";
import {sign} from "../esign.js";
import {toNumber, verdict} from "../rules.js";
import {badge, button, clear, facts, field, filters, form, h, hashQuery, link, modal, notify, section, showError,
        table, tabs} from "../ui.js";
import {lookup} from "../scan.js";

const SEVERITIES = ["critical", "major", "minor"];
const SOURCES = ["shop_floor", "inspection", "customer", "supplier", "spc"];
const DECISIONS = ["use_as_is", "rework", "repair", "scrap", "return_to_vendor", "regrade"];
const MAX_SAMPLES_SHOWN = 10;

export async function render(view, [kind = "inspections", id]) {
  const views = {inspections: id ? inspection : inspections, ncrs: id === "new" ? newNcr : id ? ncr : ncrs,
                 fai: id ? fair : fairs};
  const content = h("div");
  clear(view, h("h1", {text: t("nav.quality")}), tabs(kind, [
    ["inspections", "#/quality/inspections", t("q.inspections")], ["ncrs", "#/quality/ncrs", t("q.ncrs")],
    ["fai", "#/quality/fai", t("q.fai")]]), content);
  await (views[kind] || inspections)(content, id);
}

// ------------------------------------------------------------ inspections

async function inspections(view) {
  const query = hashQuery();
  const status = query.status ?? "open";
  const page = await api.get("/quality/inspections", {status, limit: 100});
  clear(view, filters([field({label: t("q.status"), name: "status", type: "select", value: status,
    options: [["", t("list.any")], ...["open", "passed", "failed", "cancelled"].map((s) => [s, term("insp_status", s)])]})],
  "#/quality/inspections"), table([
    {label: t("q.inspection"), value: (x) => link(`#/quality/inspections/${x.id}`, x.number)},
    {label: t("q.plan"), value: (x) => `${x.plan_number} r${x.plan_revision}`},
    {label: t("q.of"), value: (x) => x.serial_number || x.lot_number || x.work_order_number || ""},
    {label: t("q.part"), value: (x) => x.part_number},
    {label: t("q.status"), value: (x) => badge(term("insp_status", x.status), x.status)},
    {label: t("q.opened"), value: (x) => `${x.opened_by}, ${dateTime(x.opened_at)}`},
  ], page.items, {onRow: (x) => { location.hash = `#/quality/inspections/${x.id}`; }}));
}

async function inspection(view, id) {
  const record = await api.get(`/quality/inspections/${id}`);
  const plan = await api.get(`/quality/plans/${record.plan_id}`);
  const characteristics = new Map(plan.characteristics.map((c) => [c.number, c]));
  const gauges = session.can("gauge:read") ? await api.all("/resource/assets", {kind: "gauge"}) : [];
  const reload = () => inspection(view, id);
  const open = record.status === "open" && session.can("inspection:record");
  const entry = h("form", {class: "form", novalidate: true});
  const rows = [];
  for (const item of record.items) {
    const c = characteristics.get(item.characteristic);
    const recorded = (record.results || []).filter((r) => r.characteristic === item.characteristic);
    const next = Array.from({length: Math.min(MAX_SAMPLES_SHOWN, Math.max(0, item.sample_size - item.measured))},
                            (_, i) => item.measured + i + 1);
    rows.push(characteristicBlock(item, c, recorded, open ? next : [], gauges));
  }
  entry.append(...rows);
  if (open) {
    entry.append(h("div", {class: "actions"}, h("button", {type: "submit", class: "btn primary"}, t("q.record"))));
    entry.addEventListener("submit", async (event) => {
      event.preventDefault();
      const results = [];
      for (const input of entry.querySelectorAll("[data-sample]")) {
        const c = characteristics.get(Number(input.dataset.characteristic));
        const raw = input.type === "checkbox" ? null : input.value.trim();
        const result = {characteristic: c.number, sample: Number(input.dataset.sample)};
        if (c.kind === "variable") {
          if (!raw) continue;
          result.value = toNumber(raw);
          if (Number.isNaN(result.value)) result.value = raw;   // the server names it
        } else {
          if (!input.value) continue;
          result.passed = input.value === "pass";
        }
        const gauge = entry.querySelector(`[name="gauge.${c.number}"]`)?.value;
        if (gauge) result.gauge_id = gauge;
        results.push(result);
      }
      if (!results.length) {
        showError(entry, {message: t("q.nothing_typed"), details: {}});
        return;
      }
      try {
        showError(entry, null);
        const done = await api.post(`/quality/inspections/${id}/results`, {results});
        notify(t("q.recorded", {count: results.length, status: term("insp_status", done.status)}));
        await reload();
      } catch (error) {
        showError(entry, error);
      }
    });
  }
  clear(view,
    h("h2", {text: t("q.inspection_title", {number: record.number})}),
    h("div", {class: "card"}, facts([
      [t("q.plan"), `${record.plan_number} r${record.plan_revision} — ${plan.title}`],
      [t("q.part"), record.part_number],
      [t("q.of"), record.serial_number || record.lot_number || record.work_order_number],
      record.operation_sequence ? [t("q.operation"), record.operation_sequence] : null,
      [t("q.status"), badge(term("insp_status", record.status), record.status)],
      record.ncr_number ? [t("q.ncr"), link(`#/quality/ncrs/${record.ncr_id}`, record.ncr_number)] : null,
    ])),
    entry);
}

function limitsText(c) {
  if (c.kind !== "variable") return term("char_kind", c.kind);
  const unit = c.unit ? ` ${c.unit}` : "";
  return t("q.tolerance", {nominal: number(c.nominal, 6), low: number(c.lower_limit, 6), high: number(c.upper_limit, 6),
                           unit});
}

function characteristicBlock(item, c, recorded, samples, gauges) {
  const usable = gauges.filter((g) => g.usable && (!c.gauge_type || g.type.toLowerCase().includes(c.gauge_type.toLowerCase())));
  const inputs = samples.map((sample) => {
    const label = t("q.sample", {sample});
    if (c.kind === "variable") {
      const f = field({label, name: `value.${c.number}.${sample}`, attrs: {inputmode: "decimal"}});
      const shown = h("span", {class: "verdict", "aria-live": "polite"});
      f.control.dataset.sample = sample;
      f.control.dataset.characteristic = c.number;
      f.control.addEventListener("input", () => {
        const v = verdict(c, f.control.value.trim());
        shown.className = `verdict ${v || ""}`;
        shown.textContent = v ? term("verdict", v) : "";
      });
      f.append(shown);
      return f;
    }
    const f = field({label, name: `passed.${c.number}.${sample}`, type: "select",
                     options: [["", ""], ["pass", term("verdict", "pass")], ["fail", term("verdict", "fail")]]});
    f.control.dataset.sample = sample;
    f.control.dataset.characteristic = c.number;
    return f;
  });
  return h("section", {class: "card characteristic"},
    h("h3", {text: `${c.number}. ${c.name}`}),
    facts([[t("q.requirement"), limitsText(c)], [t("q.criticality"), term("criticality", c.criticality)],
           [t("q.measured"), `${item.measured} / ${item.sample_size} (${t("q.accept_reject", {accept: item.accept,
                                                                                              reject: item.reject})})`],
           [t("q.verdict"), item.verdict ? badge(term("verdict", item.verdict), item.verdict) : "–"]]),
    recorded.length ? table([
      {label: t("q.sample_no"), cls: "num", value: (r) => r.sample},
      {label: t("q.value"), cls: "num", value: (r) => r.value !== null ? `${number(r.value, 6)} ${c.unit || ""}` :
        term("verdict", r.passed ? "pass" : "fail")},
      {label: t("q.conforming"), value: (r) => badge(term("verdict", r.conforming ? "pass" : "fail"),
                                                      r.conforming ? "pass" : "fail")},
      {label: t("q.inspector"), value: (r) => `${r.inspector}, ${dateTime(r.recorded_at)}`},
      {label: t("q.gauge"), value: (r) => r.gauge_number || ""},
    ], recorded) : null,
    inputs.length ? h("div", {class: "fields"}, inputs,
      usable.length ? field({label: t("q.gauge"), name: `gauge.${c.number}`, type: "select",
                             options: [["", ""], ...usable.map((g) => [g.id, `${g.asset_number} ${g.type}`])]}) : null)
      : null);
}

// ------------------------------------------------------------------ NCRs

async function ncrs(view) {
  const query = hashQuery();
  const page = await api.get("/quality/ncrs", {status: query.status, limit: 100});
  clear(view,
    h("div", {class: "title-row"}, filters([field({label: t("q.status"), name: "status", type: "select",
      value: query.status, options: [["", t("list.any")], ...["draft", "open", "contained", "dispositioned", "closed",
                                                              "cancelled"].map((s) => [s, term("ncr_status", s)])]})],
    "#/quality/ncrs"), session.can("ncr:write") ? link("#/quality/ncrs/new", t("q.raise_ncr")) : null),
    table([
      {label: t("q.ncr"), value: (x) => link(`#/quality/ncrs/${x.id}`, x.number)},
      {label: t("q.title"), value: (x) => x.title},
      {label: t("q.part"), value: (x) => x.part_number},
      {label: t("q.severity"), value: (x) => badge(term("severity", x.severity), x.severity)},
      {label: t("q.status"), value: (x) => badge(term("ncr_status", x.status), x.status)},
      {label: t("q.quantity"), cls: "num", value: (x) => number(x.quantity)},
    ], page.items, {onRow: (x) => { location.hash = `#/quality/ncrs/${x.id}`; }}));
}

async function newNcr(view) {
  const items = [];
  const list = h("div", {class: "consume-list"});
  const redraw = () => clear(list, items.length ? items.map((item, index) => h("div", {class: "consume-item"},
    h("span", {text: `${t(`scan.kind.${item.kind}`)} ${item.number}`}), h("span", {text: item.part}),
    item.kind === "lot" ? item.quantity : h("span", {text: "1"}),
    button(t("action.remove"), () => { items.splice(index, 1); redraw(); }, {kind: "plain"})))
    : h("p", {class: "hint", text: t("q.ncr_items_hint")}));
  const scan = field({label: t("q.ncr_item_scan"), name: "item_scan", attrs: {autocomplete: "off"}});
  const add = button(t("consume.add"), async () => {
    const code = scan.control.value.trim();
    scan.control.value = "";
    const found = (await lookup(code)).filter((f) => f.kind === "lot" || f.kind === "serial");
    if (!found.length) throw new Error(t("consume.not_found", {code}));
    const f = found[0];
    const quantity = f.kind === "lot" ? field({label: t("q.quantity"), name: `items.${items.length}.quantity`,
                                               type: "number", attrs: {min: 0, step: "any"}}) : null;
    items.push({kind: f.kind, id: f.item.id, number: code, part: f.item.part_number, quantity});
    redraw();
  }, {kind: "secondary"});
  scan.control.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); add.click(); } });
  const el = form([
    field({label: t("q.title"), name: "title", required: true, wide: true}),
    field({label: t("q.description"), name: "description", type: "textarea", required: true, wide: true}),
    field({label: t("q.severity"), name: "severity", type: "select", value: "major",
           options: SEVERITIES.map((s) => [s, term("severity", s)])}),
    field({label: t("q.source"), name: "source", type: "select", options: SOURCES.map((s) => [s, term("ncr_source", s)])}),
    field({label: t("q.defect_codes"), name: "defect_codes", hint: t("q.defect_codes_hint")}),
    field({label: t("q.containment"), name: "containment", type: "textarea", wide: true, hint: t("q.containment_hint")}),
  ], t("q.raise_ncr"), async (values) => {
    const created = await api.post("/quality/ncrs", {
      title: values.title, description: values.description, severity: values.severity, source: values.source,
      defect_codes: values.defect_codes.split(",").map((c) => c.trim()).filter(Boolean),
      containment: values.containment ? [values.containment] : [],
      items: items.map((item) => ({target_type: item.kind, target_id: item.id,
                                   ...(item.quantity?.control.value ? {quantity: Number(item.quantity.control.value)}
                                     : {})}))});
    notify(t("q.ncr_raised", {number: created.number}));
    location.hash = `#/quality/ncrs/${created.id}`;
  }, {extra: [h("fieldset", {}, h("legend", {text: t("q.ncr_items")}), h("div", {class: "inline-scan"}, scan, add),
                list)]});
  redraw();
  clear(view, h("h2", {text: t("q.raise_ncr")}), el);
}

async function ncr(view, id) {
  const record = await api.get(`/quality/ncrs/${id}`);
  const reload = () => ncr(view, id);
  const approvals = record.signatures.filter((s) => s.meaning === "approval");
  const actions = [];
  const mrb = session.can("mrb:disposition");
  if (mrb && ["open", "contained"].includes(record.status) && !approvals.length) {
    actions.push(button(record.dispositions.length ? t("q.change_disposition") : t("q.propose_disposition"),
      () => dispositionDialog(record, reload)));
  }
  if (mrb && ["open", "contained"].includes(record.status) && record.dispositions.length &&
      !approvals.some((s) => s.signer_id === session.me.id)) {
    actions.push(button(t("q.approve_disposition"), async () => {
      const signed = await sign({meaning: "approval", record: t("q.disposition_record", {number: record.number}),
        action: (signature) => api.post(`/quality/ncrs/${id}/disposition/approvals`,
                                        {signature, version: record.version})});
      if (signed) await reload();
    }));
  }
  if (session.can("ncr:write")) {
    if (record.status === "draft") actions.push(button(t("q.submit_ncr"), async () => {
      await api.post(`/quality/ncrs/${id}/submit`, {});
      await reload();
    }));
    if (["open", "contained"].includes(record.status)) actions.push(button(t("q.add_containment"), async () => {
      const done = await modal(t("q.add_containment"), (close) => form([field({label: t("q.containment"),
        name: "action", type: "textarea", required: true, wide: true})], t("action.done"),
      async (values) => close(await api.post(`/quality/ncrs/${id}/containment`, {action: values.action}))));
      if (done) await reload();
    }, {kind: "secondary"}));
    if (record.status === "dispositioned") actions.push(button(t("q.close_ncr"), async () => {
      const done = await modal(t("q.close_ncr"), (close) => form([field({label: t("wo.reason"), name: "reason",
        required: true, type: "textarea", wide: true})], t("q.close_ncr"),
      async (values) => close(await api.post(`/quality/ncrs/${id}/close`, {reason: values.reason}))));
      if (done) await reload();
    }));
  }
  clear(view,
    h("h2", {text: t("q.ncr_title", {number: record.number, title: record.title})}),
    h("div", {class: "card"}, facts([
      [t("q.status"), badge(term("ncr_status", record.status), record.status)],
      [t("q.severity"), badge(term("severity", record.severity), record.severity)],
      [t("q.part"), record.part_number], [t("q.quantity"), number(record.quantity)],
      [t("q.source"), term("ncr_source", record.source)],
      [t("q.description"), record.description],
      record.defect_codes.length ? [t("q.defect_codes"), record.defect_codes.join(", ")] : null,
      record.work_order_number ? [t("wo.number"), link(`#/work-orders/${record.work_order_id}`,
                                                       record.work_order_number)] : null,
      record.inspection_number ? [t("q.inspection"), link(`#/quality/inspections/${record.inspection_id}`,
                                                          record.inspection_number)] : null,
      [t("q.hold"), term("ncr_hold", record.hold_status)],
      [t("q.approvals"), t("q.approvals_value", {count: approvals.length, needed: record.signatures_required})],
    ]), h("div", {class: "big-actions"}, actions)),
    section(t("q.ncr_items"), table([
      {label: t("q.item"), value: (x) => `${term("hold_target", x.target_type)} ${x.target_number}`},
      {label: t("q.quantity"), cls: "num", value: (x) => number(x.quantity)},
      {label: t("q.hold"), value: (x) => term("ncr_hold", x.hold_status)},
    ], record.items)),
    section(t("q.disposition"), table([
      {label: t("q.item"), value: (x) => x.target_number},
      {label: t("q.decision"), value: (x) => term("decision", x.decision)},
      {label: t("q.quantity"), cls: "num", value: (x) => number(x.quantity)},
      {label: t("q.justification"), value: (x) => x.justification || ""},
      {label: t("q.instructions"), value: (x) => x.instructions || ""},
      {label: t("q.effect"), value: (x) => term("effect", x.effect_status)},
    ], record.dispositions, {empty: t("q.no_disposition")})),
    record.signatures.length ? section(t("wo.signatures"), table([
      {label: t("esign.meaning"), value: (s) => term("meaning", s.meaning)},
      {label: t("esign.signed_by"), value: (s) => `${s.printed_name} (${s.username})`},
      {label: t("esign.signed_at"), value: (s) => dateTime(s.signed_at)},
      {label: t("esign.valid"), value: (s) => s.valid ? t("esign.valid_yes") : badge(t("esign.valid_no"), "fail")},
    ], record.signatures)) : null,
    record.containment.length ? section(t("q.containment"), h("ul", {}, record.containment.map((c) =>
      h("li", {text: `${c.action} — ${c.by}, ${dateTime(c.at)}`})))) : null,
    section(t("wo.history"), table([
      {label: t("wo.when"), value: (c) => dateTime(c.at)},
      {label: t("wo.to"), value: (c) => term("ncr_status", c.to_status)},
      {label: t("wo.by"), value: (c) => c.actor}, {label: t("wo.reason"), value: (c) => c.reason || ""},
    ], record.history)));
}

async function dispositionDialog(record, reload) {
  const done = await modal(t("q.propose_disposition"), (close) => {
    const lines = record.items.map((item, index) => {
      const current = record.dispositions.find((d) => d.target_id === item.target_id);
      return h("fieldset", {}, h("legend", {text: `${term("hold_target", item.target_type)} ${item.target_number}`}),
        h("div", {class: "fields"},
          field({label: t("q.decision"), name: `lines.${index}.decision`, type: "select", value: current?.decision,
                 options: DECISIONS.map((d) => [d, term("decision", d)])}),
          field({label: t("q.quantity"), name: `lines.${index}.quantity`, type: "number",
                 value: current?.quantity ?? item.quantity, attrs: {min: 0, step: "any"}}),
          field({label: t("q.justification"), name: `lines.${index}.justification`, type: "textarea",
                 value: current?.justification, hint: t("q.justification_hint")}),
          field({label: t("q.customer_approval"), name: `lines.${index}.customer_approval`,
                 value: current?.customer_approval}),
          field({label: t("q.instructions"), name: `lines.${index}.instructions`, type: "textarea",
                 value: current?.instructions})));
    });
    return form(lines, t("q.save_disposition"), async (values) => {
      const payload = record.items.map((item, index) => {
        const line = {target_id: item.target_id, decision: values[`lines.${index}.decision`],
                      quantity: Number(values[`lines.${index}.quantity`])};
        for (const key of ["justification", "customer_approval", "instructions"]) {
          if (values[`lines.${index}.${key}`]) line[key] = values[`lines.${index}.${key}`];
        }
        return line;
      });
      close(await api.put(`/quality/ncrs/${record.id}/disposition`, {lines: payload, version: record.version}));
    });
  }, {wide: true});
  if (done) await reload();
}

// ----------------------------------------------------------- first articles

async function fairs(view) {
  const page = await api.get("/quality/fai", {limit: 100});
  clear(view, table([
    {label: t("q.fair"), value: (x) => link(`#/quality/fai/${x.id}`, x.number)},
    {label: t("q.part"), value: (x) => `${x.part_number} ${x.part_name}`},
    {label: t("q.serial"), value: (x) => x.serial_number},
    {label: t("q.status"), value: (x) => badge(term("fai_status", x.status), x.status)},
  ], page.items, {onRow: (x) => { location.hash = `#/quality/fai/${x.id}`; }}));
}

async function fair(view, id) {
  const record = await api.get(`/quality/fai/${id}`);
  const reload = () => fair(view, id);
  const actions = [];
  const download = (ext) => button(t(`q.download_${ext}`),
    () => api.download(`/quality/fai/${id}/report.${ext}`, `${record.number}.${ext}`), {kind: "secondary"});
  if (session.can("quality:write")) {
    if (record.status === "draft" || record.status === "rejected") {
      actions.push(button(t("q.fai_refresh"), async () => { await api.post(`/quality/fai/${id}/refresh`, {}); await reload(); },
                          {kind: "secondary"}));
    }
    if (record.status === "draft") {
      actions.push(button(t("q.fai_submit"), async () => {
        if (await sign({meaning: "authorship", record: t("q.fai_record", {number: record.number}),
                        action: (signature) => api.post(`/quality/fai/${id}/submit`, {signature})})) await reload();
      }));
    }
    if (record.status === "in_review") {
      actions.push(button(t("q.fai_approve"), async () => {
        if (await sign({meaning: "approval", record: t("q.fai_record", {number: record.number}),
                        action: (signature) => api.post(`/quality/fai/${id}/approve`, {signature})})) await reload();
      }));
      actions.push(button(t("q.fai_reject"), async () => {
        const done = await modal(t("q.fai_reject"), (close) => form([field({label: t("wo.reason"), name: "reason",
          type: "textarea", required: true, wide: true})], t("q.fai_reject"),
        async (values) => close(await api.post(`/quality/fai/${id}/reject`, {reason: values.reason}))));
        if (done) await reload();
      }, {kind: "danger"}));
    }
  }
  clear(view,
    h("h2", {text: t("q.fair_title", {number: record.number})}),
    h("div", {class: "card"}, facts([
      [t("q.status"), badge(term("fai_status", record.status), record.status)],
      [t("q.part"), `${record.part_number} ${record.part_name} (${t("wo.rev")} ${record.part_revision})`],
      [t("q.serial"), record.serial_number], [t("q.drawing"), `${record.drawing_number} ${record.drawing_revision}`],
      [t("q.fai_kind"), `${term("fai_kind", record.kind)} — ${record.reason_text}`],
      [t("q.fai_complete"), record.complete ? t("esign.valid_yes") : t("q.fai_open_items", {count: record.open_items.length})],
    ]), record.open_items.length ? h("ul", {class: "open-items"}, record.open_items.map((x) => h("li", {text: x}))) : null,
    h("div", {class: "big-actions"}, actions, download("html"), download("pdf"), download("xlsx"))),
    section(t("q.form1"), table([
      {label: t("q.part"), value: (x) => `${x.part_number} ${x.part_name}`},
      {label: t("q.serial_or_lot"), value: (x) => x.serial_or_lot},
      {label: t("q.fair"), value: (x) => x.fair_number || ""},
    ], record.detail_parts, {empty: t("q.no_detail_parts")})),
    section(t("q.form2"), table([
      {label: t("q.name"), value: (x) => `${term("form2_kind", x.kind)}: ${x.name}`},
      {label: t("q.specification"), value: (x) => x.specification},
      {label: t("q.code"), value: (x) => x.code}, {label: t("q.supplier"), value: (x) => x.supplier_code},
      {label: t("q.certificate"), value: (x) => x.certificate},
    ], record.form2)),
    section(t("q.form3"), table([
      {label: t("q.balloon"), value: (x) => x.balloon},
      {label: t("q.requirement"), value: (x) => x.requirement},
      {label: t("q.results"), value: (x) => x.results.join(", ")},
      {label: t("q.conforming"), value: (x) => badge(term("verdict", x.conforming ? "pass" : "fail"),
                                                      x.conforming ? "pass" : "fail")},
      {label: t("q.tooling"), value: (x) => x.tooling},
      {label: t("q.ncr"), value: (x) => x.ncr_number},
    ], record.form3)));
}
