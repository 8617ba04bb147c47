// Small DOM helpers: elements, labelled fields that show the server's per-field messages, tables,
// dialogs and busy buttons. Text goes in as text (textContent), never as markup.
import {t} from "./i18n.js";

let fieldIds = 0;

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

// a labelled input (or select / textarea) with a hint and a place for its error
export function field({label, name, type = "text", value, required, options, hint, attrs = {}, wide}) {
  const id = `f${++fieldIds}`;
  let control;
  if (type === "select") {
    control = h("select", {id, name, required}, (options || []).map(([v, text]) =>
      h("option", {value: v, selected: String(v) === String(value ?? "")}, text)));
  } else if (type === "textarea") {
    control = h("textarea", {id, name, required, rows: 3, ...attrs});
    control.value = value ?? "";
  } else if (type === "checkbox") {
    control = h("input", {id, name, type, checked: Boolean(value), ...attrs});
  } else {
    control = h("input", {id, name, type, required, ...attrs});
    if (value !== undefined && value !== null) control.value = value;
  }
  const error = h("p", {class: "field-error", id: `${id}-error`, hidden: true});
  const hintEl = hint ? h("p", {class: "hint", id: `${id}-hint`, text: hint}) : null;
  control.setAttribute("aria-describedby", [hintEl && `${id}-hint`, `${id}-error`].filter(Boolean).join(" "));
  // the required mark stays outside the label: the field's accessible name is the label alone
  const labelEl = h("span", {class: "label-row"}, h("label", {for: id}, label),
    required ? h("span", {class: "required", "aria-hidden": "true"}, "*") : null);
  const wrapper = h("div", {class: `field${type === "checkbox" ? " check" : ""}${wide ? " wide" : ""}`},
    type === "checkbox" ? [control, labelEl] : [labelEl, control], hintEl, error);
  wrapper.control = control;
  return wrapper;
}

export function setFieldError(control, message) {
  const error = document.getElementById(`${control.id}-error`);
  if (!error) return;
  error.textContent = message || "";
  error.hidden = !message;
  if (message) control.setAttribute("aria-invalid", "true"); else control.removeAttribute("aria-invalid");
}

// the server's message at the top of `form` and each `details` entry beside the field it names
export function showError(form, error) {
  for (const control of form.querySelectorAll("[aria-invalid]")) setFieldError(control, "");
  let banner = form.querySelector(":scope > .form-error");
  if (!banner) {
    banner = h("div", {class: "form-error", role: "alert"});
    form.prepend(banner);
  }
  if (!error) {
    banner.remove();
    return;
  }
  const unplaced = [];
  for (const [name, messages] of Object.entries(error.details || {})) {
    const text = Array.isArray(messages) ? messages.join("; ") : typeof messages === "object" ?
      JSON.stringify(messages) : String(messages);
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`) ||
      form.querySelector(`[name="${CSS.escape(name.split(".").pop())}"]`);
    if (control) setFieldError(control, text); else unplaced.push(`${name}: ${text}`);
  }
  clear(banner, h("strong", {text: error.message || t("error.generic")}),
    unplaced.length ? h("ul", {}, unplaced.slice(0, 8).map((line) => h("li", {text: line}))) : null);
  const first = form.querySelector("[aria-invalid]");
  (first || banner).focus?.();
  banner.tabIndex = -1;
  if (!first) banner.focus();
}

// a button that runs `action` once at a time (no double submission) and reports its failure to `onError`
export function button(text, action, {kind = "primary", type = "button", onError, attrs = {}} = {}) {
  const el = h("button", {type, class: `btn ${kind}`, ...attrs}, text);
  if (action) {
    el.addEventListener("click", async (event) => {
      event.preventDefault();
      if (el.getAttribute("aria-busy") === "true") return;
      el.setAttribute("aria-busy", "true");
      el.disabled = true;
      try {
        await action(event);
      } catch (error) {
        if (onError) onError(error); else notify(error.message, "error");
      } finally {
        el.removeAttribute("aria-busy");
        el.disabled = false;
      }
    });
  }
  return el;
}

// a form whose submit runs `onSubmit(values)` once at a time; failures show in the form
export function form(fields, submitText, onSubmit, {extra = [], cls = ""} = {}) {
  const submit = h("button", {type: "submit", class: "btn primary"}, submitText);
  const el = h("form", {class: `form ${cls}`, novalidate: true}, h("div", {class: "fields"}, fields), extra,
    h("div", {class: "actions"}, submit));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    submit.setAttribute("aria-busy", "true");
    try {
      showError(el, null);
      await onSubmit(values(el), el);
    } catch (error) {
      showError(el, error);
    } finally {
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
    }
  });
  return el;
}

export function values(formEl) {
  const out = {};
  for (const control of formEl.querySelectorAll("[name]")) {
    if (control.type === "checkbox") out[control.name] = control.checked;
    else out[control.name] = control.value.trim();
  }
  return out;
}

export function table(columns, rows, {caption, onRow, empty} = {}) {
  if (!rows.length) return h("p", {class: "empty", text: empty || t("list.empty")});
  // a table wider than the screen scrolls: its box takes the focus so the keyboard can scroll it too
  return h("div", {class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption || t("list.table")},
    h("table", {},
    caption ? h("caption", {text: caption}) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {scope: "col", class: c.cls}, c.label)))),
    h("tbody", {}, rows.map((row) => {
      const tr = h("tr", {}, columns.map((c) => h("td", {class: c.cls}, c.value(row))));
      if (onRow) {
        tr.classList.add("clickable");
        const link = tr.querySelector("a");
        tr.addEventListener("click", (event) => { if (!event.target.closest("a, button")) onRow(row, link); });
      }
      return tr;
    }))));
}

export function link(href, text) {
  return h("a", {href}, text);
}

export function badge(text, kind = "") {
  return h("span", {class: `badge ${kind}`}, text);
}

export function section(title, ...children) {
  return h("section", {class: "card"}, h("h2", {text: title}), children);
}

export function facts(pairs) {
  return h("dl", {class: "facts"}, pairs.filter(Boolean).map(([label, value]) =>
    [h("dt", {text: label}), h("dd", {}, value ?? "–")]));
}

// a modal <dialog>: resolves with what `body(close)` passes to close(), or null when dismissed
export function modal(title, body, {wide} = {}) {
  return new Promise((resolve) => {
    const heading = h("h2", {id: `d${++fieldIds}`, text: title});
    const dialog = h("dialog", {class: `modal${wide ? " wide" : ""}`, "aria-labelledby": heading.id});
    const close = (value = null) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(null); });
    append(dialog, [h("div", {class: "modal-head"}, heading,
      h("button", {type: "button", class: "btn plain close", "aria-label": t("action.close"),
                   onclick: () => close(null)}, "×")), body(close)]);
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("input:not([type=hidden]):not([readonly]), select, textarea, button.primary")?.focus();
  });
}

export function notify(message, kind = "info") {
  let region = document.getElementById("notices");
  if (!region) {
    region = h("div", {id: "notices", role: "status", "aria-live": "polite"});
    document.body.append(region);
  }
  const note = h("div", {class: `notice ${kind}`, role: kind === "error" ? "alert" : null}, message,
    h("button", {type: "button", class: "btn plain", "aria-label": t("action.dismiss"),
                 onclick: () => note.remove()}, "×"));
  region.append(note);
  if (kind !== "error") setTimeout(() => note.remove(), 6000);
}

export function loading() {
  return h("p", {class: "loading", role: "status", text: t("list.loading")});
}

export function failed(error) {
  return h("div", {class: "form-error", role: "alert"}, h("strong", {text: error.message || t("error.generic")}));
}

// links between the views of one screen; the current one marked for assistive technology too
export function tabs(current, items) {
  return h("nav", {class: "tabs", "aria-label": t("nav.views")}, items.map(([key, href, text]) =>
    h("a", {href, "aria-current": key === current ? "page" : null}, text)));
}

// the query of the hash (#/screen/view?status=open), as an object
export function hashQuery() {
  return Object.fromEntries(new URLSearchParams(location.hash.split("?")[1] || ""));
}

// a filter form that puts its values into the hash's query (so a reload or bookmark keeps them)
export function filters(fields, path) {
  const el = h("form", {class: "filters", role: "search"}, fields,
    h("button", {type: "submit", class: "btn secondary"}, t("list.filter")));
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams(Object.entries(values(el)).filter(([, v]) => v));
    location.hash = `${path}?${query}`;
  });
  return el;
}
