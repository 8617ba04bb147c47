// Sign in: username and password, then what the server asks for: a one-time code (authenticator or
// recovery code), a new password (one an administrator set), or the enrolment of an authenticator
// (a role requires MFA: the QR code, the code that confirms it, the recovery codes shown once).
import {api, session, signIn} from "../api.js";
import {t} from "../i18n.js";
import {clear, field, h, showError} from "../ui.js";

// resolves once someone is signed in with permissions (their tokens are in `session`)
export function signInPage(root, {reason, username} = {}) {
  return new Promise((resolve) => {
    const user = field({label: t("signin.username"), name: "username", required: true, value: username,
                        attrs: {autocomplete: "username", autocapitalize: "none", spellcheck: "false"}});
    const password = field({label: t("signin.password"), name: "password", type: "password", required: true,
                            attrs: {autocomplete: "current-password"}});
    const totp = field({label: t("signin.totp"), name: "totp", hint: t("signin.totp_hint"),
                        attrs: {autocomplete: "one-time-code", inputmode: "numeric"}});
    const newPassword = field({label: t("signin.new_password"), name: "new_password", type: "password",
                               hint: t("signin.new_password_hint"), attrs: {autocomplete: "new-password"}});
    const confirm = field({label: t("signin.confirm_password"), name: "confirm_password", type: "password",
                           attrs: {autocomplete: "new-password"}});
    for (const f of [totp, newPassword, confirm]) f.hidden = true;
    const submit = h("button", {type: "submit", class: "btn primary wide"}, t("signin.submit"));
    const form = h("form", {class: "form signin-form", novalidate: true, "aria-labelledby": "signin-title"},
      reason ? h("p", {class: "notice warning", role: "alert", text: reason}) : null,
      h("div", {class: "fields"}, user, password, totp, newPassword, confirm),
      h("div", {class: "actions"}, submit));
    clear(root, h("main", {class: "signin", id: "main"},
      h("div", {class: "signin-box"}, h("h1", {id: "signin-title", text: t("signin.title")}),
        h("p", {class: "hint", text: t("signin.intro")}), form)));
    (username ? password : user).control.focus();

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      const body = {username: user.control.value.trim(), password: password.control.value};
      if (!totp.hidden && totp.control.value.trim()) body.totp = totp.control.value.trim();
      if (!newPassword.hidden) {
        if (newPassword.control.value !== confirm.control.value) {
          showError(form, {message: t("signin.mismatch"), details: {confirm_password: [t("signin.mismatch")]}});
          return;
        }
        body.new_password = newPassword.control.value;
      }
      submit.disabled = true;
      try {
        showError(form, null);
        const tokens = await signIn(body);
        if (tokens.mfa_enrolment_required) await enrol(root);
        resolve();
      } catch (error) {
        if (error.details?.totp && totp.hidden) {
          totp.hidden = false;
          totp.control.focus();
          showError(form, {message: t("signin.totp_needed"), details: {}});
        } else if (error.details?.reason === "password_change_required") {
          newPassword.hidden = confirm.hidden = false;
          newPassword.control.focus();
          showError(form, {message: t("signin.change_needed"), details: {}});
        } else {
          if (error.status === 429 && error.retryAfter) error.message += ` ${t("signin.retry_after", {seconds: error.retryAfter})}`;
          const {reason: _, ...details} = error.details || {};
          showError(form, {message: error.message, details});
        }
      } finally {
        submit.disabled = false;
      }
    });
  });
}

// the first sign-in of someone whose role requires MFA: their token opens the enrolment only
async function enrol(root) {
  const enrolment = await api.post("/auth/me/mfa/totp");
  await new Promise((done) => {
    const code = field({label: t("mfa.code"), name: "code", required: true,
                        attrs: {autocomplete: "one-time-code", inputmode: "numeric", maxlength: 6}});
    const form = h("form", {class: "form", novalidate: true}, h("div", {class: "fields"}, code),
      h("div", {class: "actions"}, h("button", {type: "submit", class: "btn primary"}, t("mfa.confirm"))));
    clear(root, h("main", {class: "signin", id: "main"}, h("div", {class: "signin-box wide"},
      h("h1", {text: t("mfa.title")}), h("p", {text: t("mfa.intro")}),
      qrImage(enrolment.qr_svg),
      h("p", {class: "hint"}, t("mfa.manual"), " ", h("code", {class: "secret", text: enrolment.secret})),
      form)));
    code.control.focus();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        showError(form, null);
        const answer = await api.post("/auth/me/mfa/totp/confirm", {code: code.control.value.trim()});
        if (answer.tokens) session.accept(answer.tokens);
        showRecoveryCodes(root, answer.recovery_codes, done);
      } catch (error) {
        showError(form, error);
      }
    });
  });
}

export function qrImage(svg) {
  return h("img", {class: "qr", alt: t("mfa.qr_alt"), width: 222, height: 222,
                   src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`});
}

export function showRecoveryCodes(root, codes, done) {
  const stored = field({label: t("mfa.stored"), name: "stored", type: "checkbox"});
  const next = h("button", {type: "button", class: "btn primary", disabled: true, onclick: () => done()},
    t("action.continue"));
  stored.control.addEventListener("change", () => { next.disabled = !stored.control.checked; });
  clear(root, h("main", {class: "signin", id: "main"}, h("div", {class: "signin-box wide"},
    h("h1", {text: t("mfa.recovery_title")}), h("p", {text: t("mfa.recovery_intro")}),
    h("ol", {class: "recovery-codes"}, codes.map((c) => h("li", {}, h("code", {text: c})))),
    stored, h("div", {class: "actions"}, next))));
  stored.control.focus();
}
