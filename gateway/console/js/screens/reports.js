// The OEE dashboard (ISO 22400): per work center (or area, site, everything) over a window, the OEE
// index and its availability / effectiveness / quality ratio as the reporting service computes them,
// the daily trend and the downtime and scrap Paretos (SVG drawn by the server), and the active alerts
// with their acknowledgement.
import {api, session} from "../api.js";
import {dateTime, percent, t, term} from "../i18n.js";
import {badge, button, clear, field, filters, form, h, hashQuery, modal, section, table} from "../ui.js";

const TILES = ["oee_index", "availability", "effectiveness", "quality_ratio"];
const MORE = ["first_pass_yield", "scrap_ratio", "throughput_rate"];
const DAY = 24 * 3600 * 1000;

function isoHour(date) {
  return `${date.toISOString().slice(0, 13)}:00:00Z`;
}

export async function render(view) {
  const query = hashQuery();
  const days = Math.min(90, Math.max(1, Number(query.days) || 7));
  const now = new Date();
  const scope = {from: isoHour(new Date(now.getTime() - days * DAY)), to: isoHour(new Date(now.getTime() + 3600 * 1000)),
                 ...(query.node_id ? {node_id: query.node_id} : {})};
  const [centers, report, alerts] = await Promise.all([
    api.all("/resource/nodes", {level: "work_center", active: true}),
    api.get("/reports/kpis", {...scope, period: "none", kpis: [...TILES, ...MORE]}),
    api.get("/reports/alerts", {status: "raised", limit: 50}),
  ]);
  const picked = centers.find((c) => c.id === query.node_id);
  const charts = h("div", {class: "charts"});
  clear(view,
    h("h1", {text: picked ? t("rep.title_for", {code: picked.code, name: picked.name}) : t("rep.title")}),
    filters([
      field({label: t("rep.scope"), name: "node_id", type: "select", value: query.node_id,
             options: [["", t("rep.everything")], ...centers.map((c) => [c.id, `${c.code} ${c.name}`])]}),
      field({label: t("rep.days"), name: "days", type: "number", value: days, attrs: {min: 1, max: 90}}),
    ], "#/reports"),
    h("p", {class: "hint", text: t("rep.window", {from: dateTime(report.from), to: dateTime(report.to)})}),
    h("div", {class: "kpis", role: "list", dataset: {from: report.from, to: report.to}},
      [...TILES, ...MORE].map((key) => tile(key, report))),
    section(t("rep.components"), componentsTable(report.total.components)),
    section(t("rep.alerts"), alertTable(alerts.items, () => render(view))),
    section(t("rep.charts"), charts));
  // the pictures come from the API with the person's token, handed to <img> as object URLs
  const picture = async (path, alt, params) => {
    const img = h("img", {class: "chart", alt});
    charts.append(h("figure", {}, img, h("figcaption", {text: alt})));
    try {
      img.src = await api.objectUrl(path, params);
    } catch (error) {
      img.replaceWith(h("p", {class: "form-error", text: error.message}));
    }
  };
  await Promise.all([picture("/reports/oee-trend.svg", t("rep.trend"), {...scope, period: "day"}),
                     picture("/reports/paretos/downtime.svg", t("rep.downtime"), scope),
                     picture("/reports/paretos/scrap.svg", t("rep.scrap"), scope)]);
}

function tile(key, report) {
  const value = report.total.kpis[key];
  const definition = report.definitions[key];
  return h("div", {class: `kpi band-${value?.band || "none"}`, role: "listitem", dataset: {kpi: key}},
    h("span", {class: "label", text: definition?.name || term("kpi", key)}),
    h("span", {class: "value", text: value?.display ?? "–"}),
    value?.exact ? h("span", {class: "hint", text: value.exact}) : null,
    definition?.target ? h("span", {class: "hint", text: t("rep.target", {
      target: value?.display?.endsWith("%") ? percent(Number(definition.target)) : definition.target})}) : null);
}

function componentsTable(components) {
  const rows = Object.entries(components).map(([key, value]) => ({key, value}));
  return table([
    {label: t("rep.element"), value: (r) => term("iso", r.key)},
    {label: t("rep.value"), cls: "num", value: (r) => String(r.value)},
  ], rows);
}

function alertTable(items, reload) {
  return table([
    {label: t("rep.rule"), value: (a) => a.rule_name},
    {label: t("rep.kpi"), value: (a) => a.kpi},
    {label: t("rep.condition"), value: (a) => `${a.condition} ${a.threshold}`},
    {label: t("rep.raised"), value: (a) => `${dateTime(a.raised_at)} (${a.raised_value})`},
    {label: t("rep.acknowledged"), value: (a) => a.acknowledged_by ? `${a.acknowledged_by}, ${dateTime(a.acknowledged_at)}`
      : session.can("report:write") ? button(t("rep.acknowledge"), async () => {
        const done = await modal(t("rep.acknowledge"), (close) => form([field({label: t("rep.note"), name: "note",
          type: "textarea", wide: true})], t("rep.acknowledge"),
        async (values) => close(await api.post(`/reports/alerts/${a.id}/acknowledge`,
                                               values.note ? {note: values.note} : {}))));
        if (done) await reload();
      }, {kind: "secondary"}) : badge(t("rep.not_acknowledged"), "warning")},
  ], items, {empty: t("rep.no_alerts")});
}
