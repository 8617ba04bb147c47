// The work-center terminal: pick the work center once (remembered by this terminal), its dispatch list,
// and the operation panel: start (equipment and tools of the work center; the server refuses an operator
// without the skill or an overdue gauge, and says why), consume by scanning, the work instruction's
// steps bought off with an e-signature, pause/resume, and the report of good, scrap and rework.
import {api, newKey, session} from "../api.js";
import {date, dateTime, number, t, term} from "../i18n.js";
import {sign} from "../esign.js";
import {validateBuyOff} from "../rules.js";
import {badge, button, clear, facts, field, form, h, modal, notify, section, setFieldError, showError, table}
  from "../ui.js";

const TERMINAL_KEY = "mes.console.work_center";
const REASONS_KEY = "mes.console.reason_codes";
let panel = null;   // the open operation panel: {addScanned(code)}

export async function render(view, [workCenterId, workOrderId, operationId]) {
  panel = null;
  if (!workCenterId) return chooseWorkCenter(view);
  localStorage.setItem(TERMINAL_KEY, workCenterId);
  if (operationId) return operationPanel(view, workCenterId, workOrderId, operationId);
  return dispatchList(view, workCenterId);
}

// the scan field: at an operation, a lot or serial goes to the consumption list
export async function onScan(code) {
  return panel ? panel.addScanned(code) : false;
}

async function chooseWorkCenter(view) {
  const centers = await api.all("/resource/nodes", {level: "work_center", active: true});
  const last = localStorage.getItem(TERMINAL_KEY);
  clear(view, h("h1", {text: t("terminal.choose")}), h("p", {class: "hint", text: t("terminal.choose_hint")}),
    h("ul", {class: "tiles"}, centers.map((wc) => h("li", {},
      h("a", {class: `tile${wc.id === last ? " last" : ""}`, href: `#/terminal/${wc.id}`},
        h("strong", {text: wc.code}), h("span", {text: wc.name}))))));
}

async function dispatchList(view, workCenterId) {
  const [center, page] = await Promise.all([
    api.get(`/resource/nodes/${workCenterId}`),
    api.get(`/work-centers/${workCenterId}/dispatch-list`, {limit: 200}),
  ]);
  clear(view,
    h("div", {class: "title-row"}, h("h1", {text: t("terminal.dispatch_title", {code: center.code, name: center.name})}),
      h("a", {class: "btn secondary", href: "#/terminal"}, t("terminal.other_center"))),
    table([
      {label: t("wo.number"), value: (r) => h("a", {href: `#/terminal/${workCenterId}/${r.work_order_id}/${r.id}`},
                                                 r.work_order_number)},
      {label: t("op.operation"), value: (r) => `${r.sequence} ${r.name}`},
      {label: t("wo.part"), value: (r) => `${r.part_number} ${r.part_name}`},
      {label: t("op.status"), value: (r) => badge(term("op_status", r.status), r.status)},
      {label: t("op.done_of"), cls: "num", value: (r) => `${number(r.quantity_good)} / ${number(r.order_quantity)}`},
      {label: t("wo.due"), value: (r) => date(r.due_date)},
      {label: t("wo.priority"), cls: "num", value: (r) => r.priority},
      {label: t("op.operator"), value: (r) => r.operator_name || ""},
    ], page.items, {caption: t("terminal.dispatch_caption"), empty: t("terminal.nothing"),
                    onRow: (r) => { location.hash = `#/terminal/${workCenterId}/${r.work_order_id}/${r.id}`; }}));
}

async function operationPanel(view, workCenterId, workOrderId, operationId) {
  const order = await api.get(`/work-orders/${workOrderId}`);
  const op = order.operations.find((o) => o.id === operationId);
  if (!op) throw new Error(t("terminal.no_operation"));
  const base = `/work-orders/${workOrderId}/operations/${operationId}`;
  const reload = () => operationPanel(view, workCenterId, workOrderId, operationId);
  const running = op.status === "running";

  const consumption = consumeSection(base);
  panel = {addScanned: (code) => (running ? consumption.add(code) : Promise.resolve(false))};

  clear(view,
    h("div", {class: "title-row"},
      h("h1", {text: t("terminal.op_title", {number: order.number, sequence: op.sequence, name: op.name})}),
      h("a", {class: "btn secondary", href: `#/terminal/${workCenterId}`}, t("terminal.back"))),
    h("div", {class: "op-head card"},
      facts([
        [t("wo.part"), `${order.part_number} ${order.part_name} (${t("wo.rev")} ${order.part_revision})`],
        [t("op.status"), badge(term("op_status", op.status), op.status)],
        [t("op.quantities"), t("op.quantities_value", {good: number(op.quantity_good), scrap: number(op.quantity_scrap),
                                                       rework: number(op.quantity_rework), of: number(order.quantity),
                                                       uom: order.uom})],
        [t("op.operator"), op.operator_name],
        [t("op.started"), dateTime(op.actual_start)],
        op.required_skills?.length ? [t("op.skills"), op.required_skills.map((s) => `${s.skill} ≥ ${s.min_level}`)
          .join(", ")] : null,
      ]),
      h("div", {class: "big-actions"}, actionButtons(op, base, workCenterId, order, reload))),
    running ? consumption.element : null,
    op.work_instruction ? instructionSection(op, base, reload) : null);
}

function actionButtons(op, base, workCenterId, order, reload) {
  const out = [];
  if (op.status === "ready") out.push(button(t("op.start"), () => startDialog(op, base, workCenterId, reload)));
  if (op.status === "running") {
    out.push(button(t("op.complete"), () => completeDialog(op, base, order, reload)));
    out.push(button(t("op.pause"), () => pauseDialog(base, reload), {kind: "secondary"}));
  }
  if (op.status === "paused") out.push(button(t("op.resume"), () => resume(base, reload)));
  return out;
}

async function startDialog(op, base, workCenterId, reload) {
  const [equipment, tools] = await Promise.all([
    api.all("/resource/nodes", {parent_id: workCenterId, active: true}),
    session.can("gauge:read") ? api.all("/resource/assets", {location_id: workCenterId}) : [],
  ]);
  const started = await modal(t("op.start_title", {sequence: op.sequence, name: op.name}), (close) => {
    const fields = [
      h("p", {text: t("op.start_as", {name: session.me.display_name})}),
      equipment.length ? field({label: t("op.equipment"), name: "equipment_id", type: "select",
                                options: [["", t("op.no_equipment")], ...equipment.map((e) => [e.id, `${e.code} ${e.name}`])]})
        : null,
      tools.length ? h("fieldset", {class: "tools"}, h("legend", {text: t("op.tools")}),
        tools.filter((a) => a.status !== "retired").map((a) => field({
          label: `${a.asset_number} ${a.type}${a.usable ? "" : ` — ${a.problem || term("asset_status", a.status)}`}`,
          name: `tool:${a.id}`, type: "checkbox"}))) : null,
    ];
    const override = field({label: t("op.override_reason"), name: "override_reason", type: "textarea",
                            hint: t("op.override_hint")});
    override.hidden = true;
    const body = form([...fields, override], t("op.start"), async (values) => {
      const payload = {tools: Object.keys(values).filter((k) => k.startsWith("tool:") && values[k])
        .map((k) => k.slice(5))};
      if (values.equipment_id) payload.equipment_id = values.equipment_id;
      if (!override.hidden && values.override_reason) payload.override_reason = values.override_reason;
      try {
        close(await api.post(`${base}/start`, payload));
      } catch (error) {
        // not qualified: a person with the override permission may go ahead, with a reason
        if (error.status === 422 && session.can("qualification:override") && "qualifications" in error.details) {
          override.hidden = false;
        }
        throw error;
      }
    });
    return body;
  });
  if (started) {
    notify(t("op.started_note"));
    await reload();
  }
}

async function pauseDialog(base, reload) {
  const done = await modal(t("op.pause"), (close) => form(
    [field({label: t("op.reason"), name: "reason", required: true, type: "textarea"})], t("op.pause"),
    async (values) => close(await api.post(`${base}/pause`, {reason: values.reason}))));
  if (done) await reload();
}

async function resume(base, reload) {
  await api.post(`${base}/resume`, {});
  await reload();
}

function rememberedReasons() {
  try {
    return JSON.parse(localStorage.getItem(REASONS_KEY)) || [];
  } catch {
    return [];
  }
}

async function completeDialog(op, base, order, reload) {
  const key = newKey();   // one report: a retry after a lost answer applies once
  const done = await modal(t("op.complete_title", {sequence: op.sequence, name: op.name}), (close) => {
    const reasons = h("datalist", {id: "reason-codes"}, rememberedReasons().map((r) => h("option", {value: r})));
    const fields = [
      field({label: t("op.good"), name: "good", type: "number", required: true,
             value: Math.max(0, order.quantity - op.quantity_good - op.quantity_scrap),
             attrs: {min: 0, step: "any", inputmode: "decimal"}}),
      field({label: t("op.scrap"), name: "scrap", type: "number", value: 0, attrs: {min: 0, step: "any"}}),
      field({label: t("op.rework"), name: "rework", type: "number", value: 0, attrs: {min: 0, step: "any"}}),
      field({label: t("op.reason_codes"), name: "reason_codes", hint: t("op.reason_codes_hint"),
             attrs: {list: "reason-codes"}}),
      field({label: t("op.serial_numbers"), name: "serial_numbers", type: "textarea", wide: true,
             hint: t("op.serial_numbers_hint")}),
      reasons,
    ];
    return form(fields, t("op.report"), async (values, el) => {
      const payload = {good: Number(values.good || 0), scrap: Number(values.scrap || 0),
                       rework: Number(values.rework || 0), idempotency_key: key,
                       reason_codes: values.reason_codes.split(",").map((r) => r.trim()).filter(Boolean)};
      const serials = values.serial_numbers.split(/[\s,;]+/).filter(Boolean);
      if (serials.length) payload.serial_numbers = serials;
      if ((payload.scrap || payload.rework) && !payload.reason_codes.length) {
        setFieldError(el.querySelector("[name=reason_codes]"), t("op.reason_needed"));
        return;
      }
      const answer = await api.post(`${base}/complete`, payload);
      const known = new Set([...payload.reason_codes, ...rememberedReasons()]);
      localStorage.setItem(REASONS_KEY, JSON.stringify([...known].slice(0, 30)));
      close(answer);
    });
  });
  if (done) {
    notify(t("op.reported"));
    await reload();
  }
}

// scanned lots and serials, each with what to consume, booked together with one idempotency key
function consumeSection(base) {
  const items = [];
  let key = newKey();
  const list = h("div", {class: "consume-list"});
  const scan = h("input", {id: "consume-scan", name: "consume_scan", type: "text", autocomplete: "off",
                           spellcheck: "false", "aria-describedby": "consume-hint"});
  const scanForm = h("form", {class: "inline-scan", novalidate: true},
    h("label", {for: "consume-scan", text: t("consume.scan_label")}), scan,
    h("button", {type: "submit", class: "btn secondary"}, t("consume.add")));
  const body = h("form", {class: "form consume", novalidate: true}, list);
  const submit = button(t("consume.submit"), async () => {
    showError(body, null);
    const payload = {idempotency_key: key, items: items.map((item) => item.serial ? {serial_id: item.serial.id}
      : {lot_id: item.lot.id, quantity: Number(item.quantity.control.value)})};
    try {
      await api.post(`${base}/consume`, payload);
    } catch (error) {
      showError(body, error);
      return;
    }
    // booked: the list empties; the rest of the panel (values typed in the steps) stays as it is
    notify(t("consume.done", {count: items.length}));
    key = newKey();
    items.length = 0;
    redraw();
  }, {attrs: {hidden: true}});

  function redraw() {
    submit.hidden = !items.length;
    // the server names an item by its position ("items.0.quantity"): so do the inputs
    items.forEach((item, index) => { if (item.quantity) item.quantity.control.name = `items.${index}.quantity`; });
    clear(list, items.length ? items.map((item, index) => h("div", {class: "consume-item"},
      h("span", {class: "what"}, item.lot ? `${t("scan.kind.lot")} ${item.lot.lot_number}`
        : `${t("scan.kind.serial")} ${item.serial.serial_number}`),
      h("span", {class: "part", text: item.partLabel}),
      item.lot ? item.quantity : h("span", {text: "1"}),
      button(t("action.remove"), () => { items.splice(index, 1); redraw(); }, {kind: "plain"})))
      : h("p", {class: "hint", id: "consume-hint", text: t("consume.hint")}));
  }

  async function add(code) {
    code = code.trim();
    if (!code) return true;
    const [lots, serials] = await Promise.all([
      api.get("/material/lots", {lot_number: code, limit: 5}),
      api.get("/material/serials", {serial_number: code, limit: 5}),
    ]);
    const lot = lots.items.find((l) => l.lot_number === code);
    const serial = serials.items.find((s) => s.serial_number === code);
    if (!lot && !serial) {
      notify(t("consume.not_found", {code}), "error");
      return true;
    }
    if (items.some((i) => (lot && i.lot?.id === lot.id) || (serial && i.serial?.id === serial.id))) {
      notify(t("consume.already", {code}), "info");
      return true;
    }
    const target = lot || serial;
    const partLabel = target.holds.length ? `${target.part_number} — ${t("consume.on_hold")}` : target.part_number;
    const item = {lot, serial, partLabel};
    if (lot) {
      item.quantity = field({label: t("consume.quantity", {available: number(lot.available)}), name: `items.${items.length}.quantity`,
                             type: "number", required: true, attrs: {min: 0, step: "any", inputmode: "decimal"}});
      item.quantity.classList.add("compact");
    }
    items.push(item);
    redraw();
    (item.quantity?.control || scan).focus();
    return true;
  }

  scanForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = scan.value;
    scan.value = "";
    try {
      await add(code);
    } catch (error) {
      notify(error.message, "error");
    }
  });
  redraw();
  return {add, element: section(t("consume.title"), scanForm, body, h("div", {class: "actions"}, submit))};
}

function instructionSection(op, base, reload) {
  const wi = op.work_instruction;
  const bought = new Map(op.buy_offs.map((b) => [b.step, b]));
  return section(t("wi.title", {code: wi.code, version: wi.version, title: wi.title}),
    h("ol", {class: "steps"}, wi.steps.map((step, index) => {
      const done = bought.get(index);
      return h("li", {class: `step${done ? " done" : ""}`},
        h("h3", {text: step.title}), step.text ? h("p", {class: "step-text", text: step.text}) : null,
        done ? boughtOff(step, done) : stepForm(op, step, index, base, reload));
    })));
}

function boughtOff(step, done) {
  const signature = done.signatures?.[done.signatures.length - 1];
  return h("div", {class: "bought"},
    facts([
      ...(step.fields || []).map((f) => [f.name, `${done.values[f.name] ?? ""}${f.unit ? ` ${f.unit}` : ""}`]),
      [t("wi.bought_by"), signature ? `${signature.printed_name} — ${dateTime(signature.signed_at)} — ${
        term("meaning", signature.meaning)}` : `${done.by_name} — ${dateTime(done.at)}`],
    ]));
}

function stepForm(op, step, index, base, reload) {
  const inputs = (step.fields || []).map((f) => {
    const label = `${f.name}${f.unit ? ` (${f.unit})` : ""}`;
    const hint = f.type === "number" && (f.min !== null || f.max !== null) ?
      t("wi.range", {min: f.min ?? "–", max: f.max ?? "–", unit: f.unit || ""}) : null;
    if (f.type === "boolean") return field({label, name: `values.${f.name}`, type: "checkbox"});
    if (f.type === "choice") {
      return field({label, name: `values.${f.name}`, type: "select", required: f.required, hint,
                    options: [["", ""], ...f.choices.map((c) => [c, c])]});
    }
    return field({label, name: `values.${f.name}`, type: f.type === "number" ? "text" : "text", required: f.required,
                  hint, attrs: f.type === "number" ? {inputmode: "decimal"} : {}});
  });
  const note = field({label: t("wi.note"), name: "note", type: "textarea"});
  const el = h("form", {class: "form step-form", novalidate: true}, h("div", {class: "fields"}, inputs, note));
  const read = () => {
    const raw = {};
    for (const f of step.fields || []) {
      const control = el.querySelector(`[name="values.${CSS.escape(f.name)}"]`);
      raw[f.name] = f.type === "boolean" ? control.checked : control.value;
    }
    return validateBuyOff(step, raw);
  };
  // as values are typed: the server's rules, before anything is sent
  el.addEventListener("input", (event) => {
    const {problems} = read();
    const name = event.target.name;
    if (name?.startsWith("values.")) setFieldError(event.target, problems[name] || "");
  });
  const disabled = op.status !== "running" && op.status !== "paused" && op.status !== "completed";
  const buyOff = button(t("wi.buy_off"), async () => {
    const {values, problems} = read();
    showError(el, null);
    if (Object.keys(problems).length) {
      showError(el, {message: t("wi.fix_values"), details: problems});
      return;
    }
    const noteText = note.control.value.trim();
    const signed = await sign({
      meaning: "responsibility", submitText: t("wi.sign_buy_off"),
      record: t("wi.record", {step: index + 1, title: step.title, sequence: op.sequence}),
      action: (signature) => api.post(`${base}/buy-offs`, {step: index, values, signature,
                                                           ...(noteText ? {note: noteText} : {})}),
    });
    if (signed) await reload();
  }, {attrs: {disabled}, onError: (error) => showError(el, error)});
  el.append(h("div", {class: "actions"}, buyOff));
  return el;
}
