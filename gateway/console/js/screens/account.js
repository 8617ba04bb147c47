// My account: password, the authenticator (enrol, new recovery codes, turn off), my sessions and my
// API tokens (shown once when made).
import {api, session} from "../api.js";
import {dateTime, t} from "../i18n.js";
import {badge, button, clear, facts, field, form, h, modal, notify, section, table} from "../ui.js";
import {qrImage} from "./signin.js";

export async function render(view) {
  const [me, sessions, tokens] = await Promise.all([api.get("/auth/me"), api.get("/auth/me/sessions"),
                                                    api.get("/auth/me/api-tokens")]);
  session.me = me;
  const reload = () => render(view);
  clear(view, h("h1", {text: t("account.title")}),
    h("div", {class: "card"}, facts([
      [t("account.name"), me.display_name], [t("account.username"), me.username],
      [t("account.roles"), me.roles.join(", ")],
      [t("account.mfa"), me.mfa_enabled ? badge(t("account.mfa_on"), "active") : badge(t("account.mfa_off"))],
      [t("account.last_login"), dateTime(me.last_login_at)],
    ])),
    section(t("account.password"), passwordForm()),
    section(t("account.mfa"), mfaActions(me, reload)),
    section(t("account.sessions"), table([
      {label: t("account.started"), value: (s) => dateTime(s.created_at)},
      {label: t("account.last_seen"), value: (s) => dateTime(s.last_seen_at)},
      {label: t("account.address"), value: (s) => s.client_address || ""},
      {label: t("account.client"), value: (s) => s.user_agent || ""},
      {label: "", value: (s) => s.current ? badge(t("account.this_session"), "active") :
        button(t("account.end_session"), async () => {
          await api.delete(`/auth/me/sessions/${s.id}`);
          await reload();
        }, {kind: "secondary"})},
    ], sessions)),
    section(t("account.api_tokens"), tokenList(tokens, reload),
      session.can("api_token:write") ? h("div", {class: "actions"}, button(t("account.new_token"),
        () => newToken(me, reload))) : null));
}

function passwordForm() {
  return form([
    field({label: t("account.current_password"), name: "current_password", type: "password", required: true,
           attrs: {autocomplete: "current-password"}}),
    field({label: t("signin.new_password"), name: "new_password", type: "password", required: true,
           hint: t("signin.new_password_hint"), attrs: {autocomplete: "new-password"}}),
    field({label: t("signin.confirm_password"), name: "confirm_password", type: "password", required: true,
           attrs: {autocomplete: "new-password"}}),
  ], t("account.change_password"), async (values, el) => {
    if (values.new_password !== values.confirm_password) {
      throw {message: t("signin.mismatch"), details: {confirm_password: [t("signin.mismatch")]}};
    }
    await api.post("/auth/me/password", {current_password: values.current_password,
                                         new_password: values.new_password});
    el.reset();
    notify(t("account.password_changed"));
  });
}

function mfaActions(me, reload) {
  if (!me.mfa_enabled) {
    return button(t("account.enrol"), async () => {
      const enrolment = await api.post("/auth/me/mfa/totp");
      const codes = await modal(t("mfa.title"), (close) => h("div", {}, h("p", {text: t("mfa.intro")}),
        qrImage(enrolment.qr_svg),
        h("p", {class: "hint"}, t("mfa.manual"), " ", h("code", {class: "secret", text: enrolment.secret})),
        form([field({label: t("mfa.code"), name: "code", required: true,
                     attrs: {autocomplete: "one-time-code", inputmode: "numeric"}})], t("mfa.confirm"),
        async (values) => close((await api.post("/auth/me/mfa/totp/confirm", {code: values.code})).recovery_codes))));
      if (codes) await showCodes(codes);
      await reload();
    });
  }
  return h("div", {class: "big-actions"},
    button(t("account.new_codes"), async () => {
      const codes = await modal(t("account.new_codes"), (close) => form([field({label: t("mfa.code"), name: "code",
        required: true, attrs: {autocomplete: "one-time-code", inputmode: "numeric"}})], t("action.continue"),
      async (values) => close((await api.post("/auth/me/mfa/recovery-codes", {code: values.code})).recovery_codes)));
      if (codes) await showCodes(codes);
    }, {kind: "secondary"}),
    me.mfa_required ? h("p", {class: "hint", text: t("account.mfa_required")}) :
      button(t("account.mfa_disable"), async () => {
        const done = await modal(t("account.mfa_disable"), (close) => form([
          field({label: t("signin.password"), name: "password", type: "password", required: true}),
          field({label: t("signin.totp"), name: "code", required: true})], t("account.mfa_disable"),
        async (values) => close(await api.post("/auth/me/mfa/disable", values))));
        if (done) await reload();
      }, {kind: "danger"}));
}

function showCodes(codes) {
  return modal(t("mfa.recovery_title"), (close) => h("div", {}, h("p", {text: t("mfa.recovery_intro")}),
    h("ol", {class: "recovery-codes"}, codes.map((c) => h("li", {}, h("code", {text: c})))),
    h("div", {class: "actions"}, button(t("action.done"), () => close(true)))));
}

function tokenList(tokens, reload) {
  return table([
    {label: t("account.token_name"), value: (k) => k.name},
    {label: t("account.token_permissions"), value: (k) => k.permissions.join(", ")},
    {label: t("account.token_expires"), value: (k) => dateTime(k.expires_at)},
    {label: t("account.token_last_used"), value: (k) => dateTime(k.last_used_at)},
    {label: "", value: (k) => k.revoked_at ? badge(t("account.revoked"), "cancelled") :
      button(t("account.revoke"), async () => {
        await api.delete(`/auth/me/api-tokens/${k.id}`);
        await reload();
      }, {kind: "danger"})},
  ], tokens, {empty: t("account.no_tokens")});
}

async function newToken(me, reload) {
  const made = await modal(t("account.new_token"), (close) => form([
    field({label: t("account.token_name"), name: "name", required: true}),
    h("fieldset", {}, h("legend", {text: t("account.token_permissions")}),
      me.permissions.map((p) => field({label: p, name: `perm:${p}`, type: "checkbox"}))),
  ], t("action.create"), async (values) => {
    const permissions = Object.keys(values).filter((k) => k.startsWith("perm:") && values[k]).map((k) => k.slice(5));
    close(await api.post("/auth/me/api-tokens", {name: values.name, permissions}));
  }), {wide: true});
  if (!made) return;
  await modal(t("account.token_made"), (close) => h("div", {}, h("p", {text: t("account.token_once")}),
    h("p", {}, h("code", {class: "secret", text: made.token})),
    h("div", {class: "actions"}, button(t("action.done"), () => close(true)))));
  await reload();
}
