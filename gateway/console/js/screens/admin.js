// Administration: users (create, roles, deactivate, temporary password, unlock, MFA reset: the actions
// that could take over an account ask for the administrator's own password and code again), roles, a
// user's API tokens and sessions, and the audit trail of each service with the verification of its chain.
import {api, session} from "../api.js";
import {dateTime, t} from "../i18n.js";
import {badge, button, clear, facts, field, filters, form, h, hashQuery, link, modal, notify, section, table, tabs}
  from "../ui.js";

const SERVICES = ["auth_service", "resource_service", "material_service", "work_order_service", "quality_service",
                  "traceability_service", "reporting_service", "integration_service"];

export async function render(view, [kind, id]) {
  const allowedViews = [
    session.can("user:read") ? ["users", "#/admin/users", t("adm.users")] : null,
    session.can("role:read") ? ["roles", "#/admin/roles", t("adm.roles")] : null,
    session.can("audit:read") ? ["audit", "#/admin/audit", t("adm.audit")] : null,
  ].filter(Boolean);
  const current = kind || allowedViews[0][0];
  const content = h("div");
  clear(view, h("h1", {text: t("nav.admin")}), tabs(current, allowedViews), content);
  if (current === "users") return id ? user(content, id) : users(content);
  if (current === "roles") return roles(content);
  return audit(content);
}

async function users(view) {
  const query = hashQuery();
  const page = await api.get("/auth/users", {q: query.q, limit: 200});
  clear(view,
    h("div", {class: "title-row"}, filters([field({label: t("adm.search"), name: "q", value: query.q})], "#/admin/users"),
      session.can("user:write") ? button(t("adm.new_user"), () => newUser()) : null),
    table([
      {label: t("account.username"), value: (u) => link(`#/admin/users/${u.id}`, u.username)},
      {label: t("account.name"), value: (u) => u.display_name},
      {label: t("account.roles"), value: (u) => u.roles.join(", ")},
      {label: t("adm.active"), value: (u) => u.active ? badge(t("adm.yes"), "active") : badge(t("adm.no"), "cancelled")},
      {label: t("account.mfa"), value: (u) => u.mfa_enabled ? t("account.mfa_on") : t("account.mfa_off")},
      {label: t("account.last_login"), value: (u) => dateTime(u.last_login_at)},
    ], page.items, {onRow: (u) => { location.hash = `#/admin/users/${u.id}`; }}));
}

async function newUser() {
  const roleList = await api.get("/auth/roles");
  const made = await modal(t("adm.new_user"), (close) => form([
    field({label: t("account.username"), name: "username", required: true}),
    field({label: t("account.name"), name: "display_name", required: true}),
    field({label: t("adm.email"), name: "email", type: "email"}),
    field({label: t("adm.first_password"), name: "password", type: "password", required: true,
           hint: t("adm.first_password_hint"), attrs: {autocomplete: "new-password"}}),
    h("fieldset", {}, h("legend", {text: t("account.roles")}),
      roleList.map((r) => field({label: `${r.name} — ${r.description}`, name: `role:${r.name}`, type: "checkbox"}))),
  ], t("action.create"), async (values) => {
    close(await api.post("/auth/users", {username: values.username, display_name: values.display_name,
                                         ...(values.email ? {email: values.email} : {}), password: values.password,
                                         roles: picked(values, "role:")}));
  }), {wide: true});
  if (made) location.hash = `#/admin/users/${made.id}`;
}

function picked(values, prefix) {
  return Object.keys(values).filter((k) => k.startsWith(prefix) && values[k]).map((k) => k.slice(prefix.length));
}

// the administrator's own credentials, typed again
function stepUpFields() {
  return [field({label: t("adm.your_password"), name: "step_password", type: "password", required: true,
                 attrs: {autocomplete: "current-password"}}),
          session.me.mfa_enabled ? field({label: t("adm.your_code"), name: "step_totp", required: true,
                                          attrs: {autocomplete: "one-time-code", inputmode: "numeric"}}) : null];
}

function stepUp(values) {
  return {password: values.step_password, ...(values.step_totp ? {totp: values.step_totp} : {})};
}

async function user(view, id) {
  const [u, sessions, tokens, roleList] = await Promise.all([
    api.get(`/auth/users/${id}`), api.get(`/auth/users/${id}/sessions`), api.get(`/auth/users/${id}/api-tokens`),
    session.can("role:read") ? api.get("/auth/roles") : []]);
  const reload = () => user(view, id);
  const write = session.can("user:write");
  const act = (text, path, fields, body, kind = "secondary") => button(text, async () => {
    const done = await modal(text, (close) => form(fields(), text, async (values) =>
      close(await api[path.method || "post"](path.url, body(values)))), {wide: true});
    if (done) {
      notify(t("adm.done"));
      await reload();
    }
  }, {kind});
  clear(view,
    h("h2", {text: `${u.display_name} (${u.username})`}),
    h("div", {class: "card"}, facts([
      [t("account.roles"), u.roles.join(", ")], [t("adm.email"), u.email],
      [t("adm.active"), u.active ? t("adm.yes") : t("adm.no")],
      [t("account.mfa"), u.mfa_enabled ? t("account.mfa_on") : t("account.mfa_off")],
      [t("account.last_login"), dateTime(u.last_login_at)],
      u.must_change_password ? [t("adm.must_change"), dateTime(u.password_expires_at)] : null,
    ]), write ? h("div", {class: "big-actions"},
      act(t("adm.set_roles"), {url: `/auth/users/${id}/roles`, method: "put"}, () => [
        h("fieldset", {}, h("legend", {text: t("account.roles")}), roleList.map((r) => field({
          label: `${r.name} — ${r.description}`, name: `role:${r.name}`, type: "checkbox", value: u.roles.includes(r.name)}))),
        ...stepUpFields()], (values) => ({roles: picked(values, "role:"), step_up: stepUp(values)}), "primary"),
      act(t("adm.reset_password"), {url: `/auth/users/${id}/password-reset`}, () => [
        field({label: t("adm.temporary_password"), name: "password", type: "password", required: true,
               attrs: {autocomplete: "new-password"}}), ...stepUpFields()],
      (values) => ({password: values.password, step_up: stepUp(values)})),
      act(t("adm.unlock"), {url: `/auth/users/${id}/unlock`}, () => [field({label: t("wo.reason"), name: "reason"})],
        (values) => (values.reason ? {reason: values.reason} : {})),
      u.mfa_enabled ? act(t("adm.mfa_reset"), {url: `/auth/users/${id}/mfa-reset`}, () => [
        field({label: t("wo.reason"), name: "reason"}), ...stepUpFields()],
      (values) => ({step_up: stepUp(values), ...(values.reason ? {reason: values.reason} : {})}), "danger") : null,
      act(u.active ? t("adm.deactivate") : t("adm.activate"), {url: `/auth/users/${id}`, method: "patch"}, () => [
        field({label: t("wo.reason"), name: "reason", required: true})],
      (values) => ({active: !u.active, version: u.version, reason: values.reason}), u.active ? "danger" : "primary"))
      : null),
    section(t("account.sessions"), table([
      {label: t("account.started"), value: (s) => dateTime(s.created_at)},
      {label: t("account.last_seen"), value: (s) => dateTime(s.last_seen_at)},
      {label: t("account.address"), value: (s) => s.client_address || ""},
      {label: t("account.client"), value: (s) => s.user_agent || ""},
    ], sessions), write && sessions.length ? h("div", {class: "actions"}, button(t("adm.end_sessions"), async () => {
      await api.delete(`/auth/users/${id}/sessions`);
      await reload();
    }, {kind: "danger"})) : null),
    section(t("account.api_tokens"), table([
      {label: t("account.token_name"), value: (k) => k.name},
      {label: t("account.token_permissions"), value: (k) => k.permissions.join(", ")},
      {label: t("account.token_last_used"), value: (k) => dateTime(k.last_used_at)},
      {label: "", value: (k) => k.revoked_at ? badge(t("account.revoked"), "cancelled") : write ?
        button(t("account.revoke"), async () => {
          await api.delete(`/auth/users/${id}/api-tokens/${k.id}`);
          await reload();
        }, {kind: "danger"}) : ""},
    ], tokens, {empty: t("account.no_tokens")})));
}

async function roles(view) {
  const [roleList, catalogue] = await Promise.all([api.get("/auth/roles"), api.get("/auth/permissions")]);
  const reload = () => roles(view);
  const editor = (role) => async () => {
    const done = await modal(role ? role.name : t("adm.new_role"), (close) => form([
      role ? null : field({label: t("adm.role_name"), name: "name", required: true}),
      field({label: t("adm.description"), name: "description", value: role?.description, wide: true}),
      h("fieldset", {}, h("legend", {text: t("account.token_permissions")}), catalogue.map((p) => field({
        label: `${p.name} — ${p.description}`, name: `perm:${p.name}`, type: "checkbox",
        value: role?.permissions.includes(p.name)}))),
    ], role ? t("adm.save") : t("action.create"), async (values) => {
      const body = {description: values.description, permissions: picked(values, "perm:")};
      close(role ? await api.patch(`/auth/roles/${role.name}`, body) : await api.post("/auth/roles",
                                                                                      {name: values.name, ...body}));
    }), {wide: true});
    if (done) await reload();
  };
  clear(view,
    session.can("role:write") ? h("div", {class: "actions"}, button(t("adm.new_role"), editor(null))) : null,
    table([
      {label: t("adm.role_name"), value: (r) => r.name},
      {label: t("adm.description"), value: (r) => r.description},
      {label: t("adm.kind"), value: (r) => r.builtin ? t("adm.builtin") : t("adm.custom")},
      {label: t("account.token_permissions"), value: (r) => r.permissions.join(", ")},
      {label: "", value: (r) => !r.builtin && session.can("role:write") ? button(t("adm.edit"), editor(r),
                                                                                {kind: "secondary"}) : ""},
    ], roleList));
}

async function audit(view) {
  const query = hashQuery();
  const service = SERVICES.includes(query.service) ? query.service : "auth_service";
  const params = {entity_type: query.entity_type, entity_id: query.entity_id, actor: query.actor, action: query.action,
                  limit: 100};
  const page = await api.get(`/audit/${service}/entries`, params);
  const result = h("div", {"aria-live": "polite"});
  clear(view,
    filters([
      field({label: t("adm.service"), name: "service", type: "select", value: service,
             options: SERVICES.map((s) => [s, s.replace("_service", "")])}),
      field({label: t("adm.actor"), name: "actor", value: query.actor}),
      field({label: t("adm.action"), name: "action", value: query.action}),
      field({label: t("adm.entity_type"), name: "entity_type", value: query.entity_type}),
      field({label: t("adm.entity_id"), name: "entity_id", value: query.entity_id}),
    ], "#/admin/audit"),
    h("div", {class: "actions"}, button(t("adm.verify"), async () => {
      const answer = await api.get(`/audit/${service}/verify`);
      clear(result, answer.ok ? h("p", {class: "notice", role: "status"}, t("adm.chain_ok", {entries: answer.entries}))
        : h("p", {class: "form-error", role: "alert"}, t("adm.chain_broken", {entries: answer.entries,
                                                                                at: JSON.stringify(answer.first_broken)})));
    }, {kind: "secondary"}), result),
    table([
      {label: t("wo.when"), value: (e) => dateTime(e.at)},
      {label: t("adm.actor"), value: (e) => e.actor},
      {label: t("adm.action"), value: (e) => e.action},
      {label: t("adm.entity"), value: (e) => `${e.entity_type} ${e.entity_id}`},
      {label: t("wo.reason"), value: (e) => e.reason || ""},
      {label: t("adm.changes"), value: (e) => h("code", {text: JSON.stringify(e.new_values ?? e.old_values ?? "")
        .slice(0, 300)})},
    ], page.items, {caption: t("adm.audit_caption")}));
}
