// Every text the console shows comes from one catalogue per language (/console/i18n/<lang>.json):
// t("key", {name: value}) fills {name} placeholders. Numbers and dates follow the locale.
let messages = {};
export let locale = "en";

export async function loadCatalogue(preferred = navigator.languages || [navigator.language]) {
  const available = ["en"];
  const wanted = preferred.map((tag) => String(tag).slice(0, 2).toLowerCase()).find((l) => available.includes(l));
  locale = wanted || "en";
  const response = await fetch(`/console/i18n/${locale}.json`);
  useCatalogue(await response.json(), locale);
  document.documentElement.lang = locale;
}

// the texts of one language (also how the rules are tested outside a browser)
export function useCatalogue(catalogue, language = "en") {
  messages = catalogue;
  locale = language;
}

export function t(key, params = {}) {
  const text = messages[key];
  if (text === undefined) {
    console.error(`console: no text for "${key}"`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? "").toString());
}

export function number(value, digits = 3) {
  if (value === null || value === undefined || value === "") return "";
  return new Intl.NumberFormat(locale, {maximumFractionDigits: digits}).format(value);
}

export function percent(value) {
  if (value === null || value === undefined) return "–";
  return new Intl.NumberFormat(locale, {style: "percent", maximumFractionDigits: 1}).format(value);
}

export function dateTime(iso) {
  if (!iso) return "";
  // with its zone: a signature's date and time must be unambiguous (21 CFR 11.50)
  return new Intl.DateTimeFormat(locale, {year: "numeric", month: "short", day: "numeric", hour: "2-digit",
                                          minute: "2-digit", timeZoneName: "short"}).format(new Date(iso));
}

export function date(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale, {dateStyle: "medium", timeZone: "UTC"}).format(new Date(iso));
}

// a status, verdict or kind from the API, shown in words ("in_progress" -> "In progress")
export function term(kind, value) {
  if (value === null || value === undefined) return "";
  const key = `${kind}.${value}`;
  return key in messages ? messages[key] : String(value).replaceAll("_", " ");
}
