// "My data" (/account/data): the GDPR export shown readable and downloadable (JSON, and a
// self-contained HTML file made here), consents, profile, e-mail notices and erasure with
// the signed receipt. Everything goes through the account API with the session cookie.
import { api } from "./session.js";
import { b64urlDecode, fromUtf8 } from "./b64url.js";

const $ = (id) => document.getElementById(id);
const T = JSON.parse($("page-strings").textContent);
const LABELS = JSON.parse($("attribute-labels").textContent);
const fmt = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
const lang = document.documentElement.lang;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function say(id, kind, text) {
  const box = $(id);
  box.replaceChildren(el("div", { class: `kern-alert kern-alert--${kind}` }, el("div", { class: "kern-alert__body" }, el("p", { class: "kern-body" }, text))));
}

async function call(path, options) {
  const response = await api(path, options);
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.detail || String(response.status));
  }
  return response.status === 204 ? null : response.json();
}

const when = (iso) => (iso ? new Date(iso).toLocaleString(lang) : "–");

// ------------------------------------------------------------------ export
/** A readable rendering of any JSON value: objects as definition lists, lists of flat
 * records as tables, other lists as numbered records; times in local form, and long
 * technical strings (hashes, tokens) shortened: the JSON download has them whole. */
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isFlat = (v) => Object.values(v).every((x) => x === null || typeof x !== "object");
const label = (key) => key.replaceAll("_", " ");
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

function scalar(value) {
  const text = String(value);
  if (typeof value === "string" && TIME.test(text) && !Number.isNaN(Date.parse(text))) {
    return el("time", { datetime: text }, when(text));
  }
  if (typeof value === "string" && text.length > 64 && !/\s/.test(text)) {
    return el("span", {}, `${text.slice(0, 24)}… (${text.length})`);
  }
  return el("span", {}, text);
}

function render(value) {
  if (value === null || value === undefined || value === "") return el("span", {}, T.empty);
  if (Array.isArray(value)) {
    if (!value.length) return el("span", {}, T.empty);
    if (value.every((v) => isObject(v) && isFlat(v))) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v)))];
      const head = el("tr", {}, ...columns.map((c) => el("th", { scope: "col" }, label(c))));
      const rows = value.map((v) => el("tr", {}, ...columns.map((c) => el("td", {}, render(v[c])))));
      return el("table", { class: "kern-table kern-table--small" }, el("thead", {}, head), el("tbody", {}, ...rows));
    }
    return el("ol", { class: "kern-list records" }, ...value.map((v) => el("li", {}, render(v))));
  }
  if (isObject(value)) {
    const dl = el("dl", { class: "facts" });
    for (const [k, v] of Object.entries(value)) dl.append(el("dt", {}, label(k)), el("dd", {}, render(v)));
    return dl;
  }
  return scalar(value);
}

function renderBundle(bundle) {
  const view = el("div", {});
  view.append(el("p", {}, fmt(T.exported_at, { at: when(bundle.exported_at) }), " · ", el("code", {}, bundle.format)));
  const about = bundle.about && (bundle.about[lang] || bundle.about.en);
  if (about) {
    // what we hold about you, why and for how long (Art. 15(1)), from the server's register
    const section = el("section", { "aria-labelledby": "export-about", class: "register-section" });
    section.append(el("h3", { class: "kern-heading-small", id: "export-about" }, about.title));
    for (const p of about.processing) {
      const dl = el("dl", { class: "facts" });
      for (const [key, value] of [["what", p.what.join("; ")], ["why", p.why], ["legal_basis", p.legal_basis],
        ["recipients", p.recipients.join("; ") || T.empty], ["how_long", p.how_long]]) {
        dl.append(el("dt", {}, T[`about_${key}`]), el("dd", {}, value));
      }
      section.append(el("h4", { class: "kern-heading-x-small" }, p.name), dl);
    }
    view.append(section);
  }
  for (const [domain, part] of Object.entries(bundle.domains || {})) {
    const id = `export-${domain}`;
    const section = el("section", { "aria-labelledby": id, class: "register-section" });
    section.append(el("h3", { class: "kern-heading-small", id }, domain));
    const scroll = el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": id }, render(part));
    section.append(scroll);
    view.append(section);
  }
  return view;
}

function standalone(view) {
  // a file that opens anywhere, without scripts or the portal's styles
  const style = "body{font-family:sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}" +
    "th,td{border:1px solid #999;padding:.25rem .5rem;text-align:start;vertical-align:top}dt{font-weight:600}";
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${T.export_title}</title>` +
    `<style>${style}</style></head><body><h1>${T.export_title}</h1>${view.innerHTML}</body></html>`;
}

let exportUrls = [];
$("export").addEventListener("click", async () => {
  try {
    const bundle = await call("/v1/me/export");
    const view = renderBundle(bundle);
    $("export-view").replaceChildren(view);
    $("export-view").hidden = false;
    for (const url of exportUrls) URL.revokeObjectURL(url);
    const json = URL.createObjectURL(new Blob([JSON.stringify(bundle, null, 2)], { type: "application/json" }));
    const html = URL.createObjectURL(new Blob([standalone(view)], { type: "text/html" }));
    exportUrls = [json, html];
    $("export-json").href = json;
    $("export-html").href = html;
    $("export-downloads").hidden = false;
    $("export-status").replaceChildren();
  } catch (e) {
    say("export-status", "danger", `${T.failed} ${e.message}`);
  }
});

// ------------------------------------------------------------------ consents
const purposeText = (purpose) => document.querySelector(`[data-purpose-text="${CSS.escape(purpose)}"]`)?.textContent || purpose;
let authorityNames = {};

async function loadAuthorities() {
  const { authorities } = await call("/v1/authorities");
  const select = $("consent-authority");
  for (const a of authorities) {
    authorityNames[a.id] = a.name[lang] || a.name.en || a.id;
    select.append(el("option", { value: a.id }, authorityNames[a.id]));
  }
}

async function loadConsents() {
  const consents = await call("/v1/me/consents");
  const body = $("consents").tBodies[0];
  body.replaceChildren();
  if (!consents.length) body.append(el("tr", {}, el("td", { colspan: "5" }, T.no_consents)));
  for (const c of consents) {
    const action = el("td", {});
    if (!c.withdrawn_at) {
      const button = el("button", { class: "kern-btn kern-btn--tertiary kern-btn--x-small", type: "button" }, el("span", { class: "kern-label" }, T.withdraw));
      button.setAttribute("aria-label", `${T.withdraw}: ${purposeText(c.purpose)}`);
      button.addEventListener("click", () => withdraw(c.id));
      action.append(button);
    }
    body.append(
      el(
        "tr",
        { "data-consent": c.purpose, "data-state": c.withdrawn_at ? "withdrawn" : "active" },
        el("td", {}, purposeText(c.purpose)),
        el("td", {}, authorityNames[c.recipient_authority] || c.recipient_authority || "–"),
        el("td", {}, when(c.given_at)),
        el("td", {}, c.withdrawn_at ? fmt(T.withdrawn_at, { at: when(c.withdrawn_at) }) : T.active),
        action,
      ),
    );
  }
}

async function withdraw(id) {
  try {
    await call(`/v1/me/consents/${encodeURIComponent(id)}/withdraw`, { method: "POST" });
    await loadConsents();
    say("consent-status", "success", T.withdrawn);
  } catch (e) {
    say("consent-status", "danger", `${T.failed} ${e.message}`);
  }
}

$("consent-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const body = {
    purpose: form.elements.purpose.value,
    legal_basis: form.dataset.basis,
    recipient_authority: form.elements.authority.value || null,
    text_version: form.dataset.version,
  };
  try {
    await call("/v1/me/consents", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    await loadConsents();
    say("consent-status", "success", T.given);
  } catch (e) {
    say("consent-status", "danger", `${T.failed} ${e.message}`);
  }
});

// ------------------------------------------------------------------ profile and notices
async function loadProfile() {
  const me = await call("/v1/me");
  const body = $("profile").tBodies[0];
  body.replaceChildren();
  if (!me.attributes.length) body.append(el("tr", {}, el("td", { colspan: "3" }, T.no_attributes)));
  for (const a of me.attributes) {
    body.append(
      el("tr", { "data-attribute": a.name }, el("td", {}, LABELS[a.name] || a.name), el("td", {}, a.value), el("td", {}, a.source === "idp" ? T.source_idp : T.source_applicant)),
    );
  }
  $("notices").checked = Boolean(me.email_notifications);
}

$("attribute-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("attribute-value");
  if (!input.value.trim()) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  input.removeAttribute("aria-invalid");
  try {
    const name = encodeURIComponent($("attribute-name").value);
    await call(`/v1/me/attributes/${name}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ value: input.value.trim() }) });
    await loadProfile();
    say("attribute-status", "success", T.saved);
  } catch (e) {
    say("attribute-status", "danger", `${T.failed} ${e.message}`);
  }
});

$("notices-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await call("/v1/me/notifications", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email_notifications: $("notices").checked }) });
    say("notices-status", "success", T.saved);
  } catch (e) {
    say("notices-status", "danger", `${T.failed} ${e.message}`);
  }
});

// ------------------------------------------------------------------ erasure
function jwsPayload(jws) {
  return JSON.parse(fromUtf8(b64urlDecode(jws.split(".")[1])));
}

async function verifyReceipt(jws) {
  // ES256 or EdDSA over "<header>.<payload>" with a key of GET /v1/receipts/keys
  const [h, p, s] = jws.split(".");
  const header = JSON.parse(fromUtf8(b64urlDecode(h)));
  const { keys } = await fetch("/v1/receipts/keys").then((r) => r.json());
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk) return false;
  const algs = { ES256: [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }], EdDSA: [{ name: "Ed25519" }, { name: "Ed25519" }] };
  const alg = algs[header.alg];
  if (!alg) return false;
  const key = await crypto.subtle.importKey("jwk", jwk, alg[0], false, ["verify"]);
  return crypto.subtle.verify(alg[1], key, b64urlDecode(s), new TextEncoder().encode(`${h}.${p}`));
}

function showReceipt(answer) {
  const claims = answer.claims || jwsPayload(answer.receipt);
  const facts = $("receipt-facts");
  facts.replaceChildren();
  for (const [k, v] of Object.entries(claims)) facts.append(el("dt", {}, k), el("dd", {}, render(v)));
  $("receipt-jws").textContent = answer.receipt;
  $("receipt-download").href = URL.createObjectURL(new Blob([JSON.stringify(answer, null, 2)], { type: "application/json" }));
  $("receipt").hidden = false;
  $("receipt-heading").focus();
}

$("erase-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("erase-confirm");
  const error = $("erase-error");
  if (input.value.trim() !== T.confirm_word) {
    error.textContent = T.confirm_wrong;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    $("erase-field").classList.add("kern-form-input--error");
    input.focus();
    return;
  }
  error.hidden = true;
  input.removeAttribute("aria-invalid");
  $("erase-field").classList.remove("kern-form-input--error");
  try {
    const answer = await call("/v1/me", { method: "DELETE", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ confirm: "erase my account" }) });
    $("erase-form").hidden = true;
    say("erase-status", "success", T.erased);
    showReceipt(answer);
    if (await verifyReceipt(answer.receipt).catch(() => false)) {
      $("erase-status").append(el("p", { id: "receipt-valid" }, T.receipt_valid));
    }
  } catch (e) {
    say("erase-status", "danger", `${T.failed} ${e.message}`);
  }
});

await Promise.all([loadAuthorities().catch(() => {}), loadProfile()]).catch((e) => say("attribute-status", "danger", `${T.failed} ${e.message}`));
await loadConsents().catch((e) => say("consent-status", "danger", `${T.failed} ${e.message}`));
