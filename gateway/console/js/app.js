// The console's shell: sign-in, the menu the person's permissions allow, the scan field, and the
// screens, routed by the URL's hash (#/terminal/…), so that a bookmark or a reload opens the same screen.
import {api, refresh, session, signOut} from "./api.js";
import {loadCatalogue, t} from "./i18n.js";
import {scanTo} from "./scan.js";
import {clear, failed, h, loading, notify} from "./ui.js";
import {signInPage} from "./screens/signin.js";

// [hash prefix, catalogue key, module, any of these permissions]
const SCREENS = [
  ["terminal", "nav.terminal", "./screens/terminal.js", ["work_order:execute"]],
  ["work-orders", "nav.work_orders", "./screens/work_orders.js", ["work_order:read"]],
  ["material", "nav.material", "./screens/material.js", ["material:read"]],
  ["quality", "nav.quality", "./screens/quality.js", ["quality:read"]],
  ["trace", "nav.trace", "./screens/trace.js", ["trace:read"]],
  ["reports", "nav.reports", "./screens/reports.js", ["report:read"]],
  ["admin", "nav.admin", "./screens/admin.js", ["user:read", "role:read", "audit:read"]],
  ["account", "nav.account", "./screens/account.js", []],
];

const root = document.getElementById("app");
const shell = h("div", {id: "shell", hidden: true});
const signinRoot = h("div", {id: "signin"});
root.append(shell, signinRoot);
let main;
let current = {screen: null, module: null};
let navigations = 0;

function allowed([, , , permissions]) {
  return !permissions.length || session.canAny(...permissions);
}

function renderShell() {
  const scan = h("input", {id: "scan", name: "scan", type: "search", autocomplete: "off", spellcheck: "false",
                           placeholder: t("scan.placeholder"), "aria-label": t("scan.label"), enterkeyhint: "go"});
  const scanForm = h("form", {class: "scan", role: "search"}, scan);
  scanForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = scan.value.trim();
    if (!code) return;
    scan.value = "";
    try {
      if (current.module?.onScan && await current.module.onScan(code)) return;
      await scanTo(code);
    } catch (error) {
      notify(error.message, "error");
    }
  });
  const nav = h("nav", {class: "menu", "aria-label": t("nav.label")}, h("ul", {},
    SCREENS.filter(allowed).map(([prefix, key]) =>
      h("li", {}, h("a", {href: `#/${prefix}`, dataset: {screen: prefix}}, t(key))))));
  main = h("main", {id: "main", tabindex: "-1"});
  clear(shell,
    h("a", {class: "skip", href: "#main", onclick: (e) => { e.preventDefault(); main.focus(); }}, t("nav.skip")),
    h("header", {class: "top"},
      h("a", {class: "brand", href: "#/"}, t("app.name")),
      scanForm,
      h("div", {class: "who"}, h("span", {class: "user", text: session.me.display_name}),
        h("button", {type: "button", class: "btn secondary", onclick: logout}, t("nav.sign_out")))),
    nav, main);
}

async function route() {
  if (!session.me) return;
  const path = location.hash.replace(/^#\/?/, "").split("?")[0];
  const [prefix, ...params] = path.split("/").map(decodeURIComponent);
  const screen = SCREENS.find((s) => s[0] === prefix && allowed(s));
  if (!screen) {
    const home = SCREENS.find(allowed);
    if (prefix && SCREENS.some((s) => s[0] === prefix)) notify(t("error.not_allowed"), "error");
    location.replace(`#/${home[0]}`);
    return;
  }
  for (const a of shell.querySelectorAll(".menu a")) {
    if (a.dataset.screen === prefix) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const navigation = ++navigations;   // a later navigation wins over a slower earlier one
  const module = await import(screen[2]);
  if (navigation !== navigations) return;
  current = {screen: prefix, module};
  const view = h("div", {class: "screen"});
  clear(main, loading());
  try {
    await module.render(view, params.filter(Boolean));
    if (navigation !== navigations) return;
    clear(main, view);
    document.title = `${view.querySelector("h1")?.textContent || t(screen[1])} · ${t("app.name")}`;
  } catch (error) {
    if (error.status === 401 || navigation !== navigations) return;
    clear(main, h("h1", {text: t(screen[1])}), failed(error));
  }
}

async function loadMe() {
  session.me = await api.get("/auth/me");
}

async function start() {
  shell.hidden = false;
  signinRoot.hidden = true;
  clear(signinRoot);
  renderShell();
  await route();
}

async function signInFresh(options) {
  shell.hidden = true;
  signinRoot.hidden = false;
  await signInPage(signinRoot, options);
  await loadMe();
}

// the session ended under someone's hands: the sign-in page over the screen; the screen (and what was
// typed in it) comes back when the same person signs in again
let expiring = null;
session.whenExpired = () => {
  // several requests may find the session ended at once: one sign-in answers them all
  expiring ??= (async () => {
    const before = session.me;
    if (!before) return false;
    // open dialogs leave the top layer while the sign-in page shows, and come back with what they hold
    const dialogs = [...document.querySelectorAll("dialog[open]")];
    for (const dialog of dialogs) dialog.close();
    shell.hidden = true;
    signinRoot.hidden = false;
    try {
      await signInPage(signinRoot, {reason: t("session.expired"), username: before.username});
      await loadMe();
    } finally {
      signinRoot.hidden = true;
      clear(signinRoot);
    }
    if (session.me.id === before.id) {
      shell.hidden = false;
      for (const dialog of dialogs) dialog.showModal();
      return true;
    }
    for (const dialog of dialogs) dialog.remove();
    await start();   // someone else: their menu, their screens
    return false;
  })().finally(() => { expiring = null; });
  return expiring;
};

async function logout() {
  await signOut();
  location.hash = "";
  await signInFresh({});
  await start();
}

async function boot() {
  await loadCatalogue();
  document.title = t("app.name");
  window.addEventListener("hashchange", () => route());
  document.addEventListener("keydown", (event) => {
    // "/" goes to the scan field, as on many scanning terminals
    if (event.key === "/" && !event.target.closest("input, textarea, select")) {
      event.preventDefault();
      document.getElementById("scan")?.focus();
    }
  });
  let signedIn = false;
  try {
    signedIn = await refresh();
    if (signedIn) await loadMe();
  } catch (error) {
    notify(error.message, "error");
  }
  if (!signedIn) await signInFresh({});
  await start();
}

boot();
