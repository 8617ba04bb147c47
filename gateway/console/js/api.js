// The console's only way to the MES: the gateway's /api/v1 routes with the signed-in person's tokens.
// The access token lives in memory; the refresh token in this tab's sessionStorage (a reload keeps the
// session, closing the tab ends it). An expired access token is refreshed once, transparently; when the
// session itself has ended, `session.whenExpired` shows the sign-in page and the request goes again for
// the same person afterwards, so nothing typed is lost.
import {t} from "./i18n.js";

const BASE = "/api/v1";
const REFRESH_KEY = "mes.console.refresh";
const EARLY_REFRESH_MS = 30_000;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error || "error";
    this.details = body?.details || {};
    this.retryAfter = body?.retryAfter;
  }
}

export const session = {
  access: null,
  expiresAt: 0,
  sessionId: null,
  me: null,
  whenExpired: null,   // async (reason) => true when the same person signed in again
  get refreshToken() { return sessionStorage.getItem(REFRESH_KEY); },
  set refreshToken(value) {
    if (value) sessionStorage.setItem(REFRESH_KEY, value); else sessionStorage.removeItem(REFRESH_KEY);
  },
  accept(tokens) {
    this.access = tokens.access_token;
    this.refreshToken = tokens.refresh_token;
    this.sessionId = tokens.session_id;
    this.expiresAt = Date.now() + tokens.expires_in * 1000;
  },
  clear() {
    this.access = null; this.refreshToken = null; this.sessionId = null; this.me = null; this.expiresAt = 0;
  },
  can(permission) { return Boolean(this.me?.permissions.includes(permission)); },
  canAny(...permissions) { return permissions.some((p) => this.can(p)); },
};

function query(params) {
  if (!params) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, one);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// requests in flight, on <html data-busy>: tests and the bench wait for 0
let inFlight = 0;
function busy(change) {
  inFlight += change;
  document.documentElement.dataset.busy = String(inFlight);
}
busy(0);

async function send(method, path, {body, params, accept = "application/json", auth = true} = {}) {
  const headers = {Accept: accept};
  if (auth && session.access) headers.Authorization = `Bearer ${session.access}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  busy(1);
  try {
    return await fetch(BASE + path + query(params), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
    });
  } catch {
    throw new ApiError(0, {error: "network", message: t("error.network")});
  } finally {
    busy(-1);
  }
}

async function failure(response) {
  let body;
  try {
    body = await response.json();
  } catch {
    body = {error: "http", message: t("error.status", {status: response.status})};
  }
  if (response.status === 429) body.retryAfter = Number(response.headers.get("Retry-After")) || null;
  if (response.status >= 500 && !body.message) body.message = t("error.unavailable");
  return new ApiError(response.status, body);
}

// the token was refused (not a signature's credentials, which are 401 too, naming `signature`)
function tokenRefused(error) {
  return error.status === 401 && ("token" in error.details || "authorization" in error.details ||
                                  "session_id" in error.details);
}

let refreshing = null;

export function refresh() {
  // one refresh at a time: a spent refresh token presented twice would end the session
  refreshing ??= (async () => {
    try {
      const token = session.refreshToken;
      if (!token) return false;
      const response = await send("POST", "/auth/refresh", {body: {refresh_token: token}, auth: false});
      if (!response.ok) {
        if (response.status === 401 || response.status === 400) session.refreshToken = null;
        if (response.status >= 500 || response.status === 0) throw await failure(response);
        return false;
      }
      session.accept(await response.json());
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function expired(reason) {
  session.access = null;
  if (session.whenExpired && await session.whenExpired(reason)) return true;
  throw new ApiError(401, {error: "unauthenticated", message: t("session.expired")});
}

// the answer's JSON (or text, or a Blob with `as: "blob"`); ApiError otherwise
export async function request(method, path, options = {}) {
  if (session.access && Date.now() > session.expiresAt - EARLY_REFRESH_MS) {
    if (!(await refresh())) await expired("expired");
  }
  let response = await send(method, path, options);
  if (response.status === 401) {
    const error = await failure(response);
    if (!tokenRefused(error) || options.auth === false) throw error;
    if (!(await refresh())) await expired(error.message);
    response = await send(method, path, options);
  }
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return null;
  if (options.as === "blob") return response.blob();
  if (options.as === "text") return response.text();
  return response.json();
}

export const api = {
  get: (path, params, options = {}) => request("GET", path, {...options, params}),
  post: (path, body = {}, options = {}) => request("POST", path, {...options, body}),
  put: (path, body = {}, options = {}) => request("PUT", path, {...options, body}),
  patch: (path, body = {}, options = {}) => request("PATCH", path, {...options, body}),
  delete: (path, options = {}) => request("DELETE", path, options),
  // every page of a listing (cursor pagination), up to `max` items
  async all(path, params = {}, max = 2000) {
    const items = [];
    let cursor = null;
    do {
      const page = await request("GET", path, {params: {...params, limit: 200, cursor}});
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && items.length < max);
    return items;
  },
  // a file the API makes (SVG chart, CSV): fetched with the token, handed to the browser as an object URL
  async objectUrl(path, params) {
    return URL.createObjectURL(await request("GET", path, {params, as: "blob", accept: "*/*"}));
  },
  // a file the API makes, saved by the browser as `filename`
  async download(path, filename, params) {
    const url = await this.objectUrl(path, params);
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  },
};

export async function signIn(credentials) {
  const response = await send("POST", "/auth/login", {body: credentials, auth: false});
  if (!response.ok) throw await failure(response);
  const tokens = await response.json();
  session.accept(tokens);
  return tokens;
}

export async function signOut() {
  try {
    if (session.access) await send("POST", "/auth/logout");
  } finally {
    session.clear();
  }
}

// an idempotency key: a retried request with it applies once (crypto.randomUUID needs HTTPS; a plant's
// terminals may reach the MES over plain HTTP on its own network)
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
