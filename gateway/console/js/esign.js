// One dialog for every signing act (21 CFR 11.50/11.200): it names what is signed and what the
// signature means, takes the credentials again (the whole set at the first signing of a session, the
// password later; the server says which), runs the signed request, and shows the signature as it was
// recorded (printed name, date and time, meaning).
import {session} from "./api.js";
import {dateTime, t, term} from "./i18n.js";
import {field, h, modal, showError} from "./ui.js";

// `action(signature)` makes the signed request and returns its answer; `recorded(answer)` picks the new
// signature out of it (the newest of the meaning when not given)
export function sign({meaning, record, action, recorded, submitText}) {
  return modal(t("esign.title"), (close) => {
    const username = field({label: t("esign.username"), name: "username", value: session.me.username,
                            attrs: {readonly: true, autocomplete: "username"}});
    const password = field({label: t("esign.password"), name: "password", type: "password", required: true,
                            attrs: {autocomplete: "current-password"}});
    const totp = field({label: t("esign.totp"), name: "totp", hint: t("esign.totp_hint"),
                        attrs: {autocomplete: "one-time-code", inputmode: "numeric"}});
    totp.hidden = !session.me.mfa_enabled;
    const submit = h("button", {type: "submit", class: "btn primary"}, submitText || t("esign.sign"));
    const body = h("form", {class: "form esign", novalidate: true},
      h("p", {class: "esign-record"}, h("span", {class: "label", text: t("esign.record")}), " ", record),
      h("p", {class: "esign-meaning"}, h("span", {class: "label", text: t("esign.meaning")}), " ",
        h("strong", {text: term("meaning", meaning)}), " — ", t(`meaning_text.${meaning}`)),
      h("p", {class: "hint", text: t("esign.statement")}),
      h("div", {class: "fields"}, username, password, totp),
      h("div", {class: "actions"}, h("button", {type: "button", class: "btn secondary", onclick: () => close(null)},
        t("action.cancel")), submit));
    body.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      submit.disabled = true;
      try {
        showError(body, null);
        const credentials = {username: session.me.username, password: password.control.value};
        if (totp.control.value.trim()) credentials.totp = totp.control.value.trim();
        const answer = await action(credentials);
        const signature = recorded ? recorded(answer) : newest(answer, meaning);
        body.replaceWith(manifestation(signature, meaning, close, answer));
      } catch (error) {
        if ("totp" in error.details) totp.hidden = false;
        showError(body, error);
      } finally {
        submit.disabled = false;
        password.control.value = "";
      }
    });
    return body;
  });
}

function newest(answer, meaning) {
  const found = [];
  (function walk(value) {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      if (value.signed_at && value.meaning && value.printed_name) found.push(value);
      else Object.values(value).forEach(walk);
    }
  })(answer);
  const mine = found.filter((s) => s.meaning === meaning && s.signer_id === session.me.id);
  return (mine.length ? mine : found).sort((a, b) => a.signed_at.localeCompare(b.signed_at)).pop() || null;
}

function manifestation(signature, meaning, close, answer) {
  const done = h("button", {type: "button", class: "btn primary", onclick: () => close(answer || true)},
    t("action.done"));
  const out = h("div", {class: "esign-done", role: "status"},
    h("p", {class: "signed-mark", text: t("esign.signed")}),
    h("dl", {class: "facts"},
      h("dt", {text: t("esign.signed_by")}),
      h("dd", {text: signature ? `${signature.printed_name} (${signature.username})` :
                                 `${session.me.display_name} (${session.me.username})`}),
      h("dt", {text: t("esign.signed_at")}), h("dd", {text: signature ? dateTime(signature.signed_at) : ""}),
      h("dt", {text: t("esign.meaning")}), h("dd", {text: term("meaning", signature?.meaning || meaning)})),
    h("div", {class: "actions"}, done));
  setTimeout(() => done.focus());
  return out;
}
