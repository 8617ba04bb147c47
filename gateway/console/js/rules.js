// The rules the console checks as values are typed, the same as the server's (the server checks again;
// tests/console run the same cases through both):
// work_order_service/instructions/rules.py validate_buy_off and quality's verdict of a measured value.
import {t} from "./i18n.js";

const MAX_TEXT_VALUE = 2000;

function formatLimit(value) {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

// {values, problems}: values cleaned as the server would store them, problems keyed `values.<field>`
export function validateBuyOff(step, raw) {
  const problems = {};
  const values = {};
  for (const f of step.fields || []) {
    let value = raw[f.name];
    if (typeof value === "string" && f.type !== "text") value = value.trim();
    const empty = value === undefined || value === null || value === "" ||
      (f.type === "text" && typeof value === "string" && !value.trim());
    if (empty) {
      if (f.required) problems[`values.${f.name}`] = t("rule.required");
      continue;
    }
    const problem = checkValue(f, value);
    if (problem) problems[`values.${f.name}`] = problem;
    else values[f.name] = f.type === "number" ? Number(value) : value;
  }
  return {values, problems};
}

function checkValue(f, value) {
  if (f.type === "number") {
    const n = typeof value === "number" ? value : Number(String(value).replace(",", "."));
    if (typeof value === "boolean" || !Number.isFinite(n) || String(value).trim() === "") return t("rule.number");
    const unit = f.unit ? ` ${f.unit}` : "";
    if (f.min !== null && f.min !== undefined && n < f.min) return t("rule.at_least", {limit: formatLimit(f.min), unit});
    if (f.max !== null && f.max !== undefined && n > f.max) return t("rule.at_most", {limit: formatLimit(f.max), unit});
    return null;
  }
  if (f.type === "boolean") return typeof value === "boolean" ? null : t("rule.boolean");
  if (f.type === "choice") return f.choices.includes(value) ? null : t("rule.one_of", {choices: f.choices.join(", ")});
  if (typeof value !== "string") return t("rule.text");
  if (value.length > MAX_TEXT_VALUE) return t("rule.max_length", {max: MAX_TEXT_VALUE});
  return null;
}

// a result against its characteristic, as quality_service/inspections/rules.py in_tolerance: limits
// inclusive; "pass", "fail" or null (nothing to judge yet). A value in another unit is the server's to judge.
export function verdict(characteristic, raw) {
  if (raw === "" || raw === null || raw === undefined) return null;
  if (characteristic.kind !== "variable") return raw === "pass" || raw === true ? "pass" : "fail";
  const n = toNumber(raw);
  if (n === null || Number.isNaN(n)) return null;
  const low = characteristic.lower_limit;
  const high = characteristic.upper_limit;
  if (low !== null && low !== undefined && n < Number(low)) return "fail";
  if (high !== null && high !== undefined && n > Number(high)) return "fail";
  return "pass";
}

export function toNumber(raw) {
  if (raw === "" || raw === null || raw === undefined) return null;
  const n = Number(String(raw).replace(",", "."));
  return Number.isFinite(n) ? n : NaN;
}
