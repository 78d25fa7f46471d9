// /apply/{flow}: the form step by step, checked here with the flow's JSON Schema, the draft
// sealed to the applicant's own vault key, the review, the fee facts shown before they
// are sent, the quote and the sandbox payment (docs/portal.md, "Apply").

import { api } from "./session.js";
import { IndexedDbKeyStore, unlocked } from "./keys.js";
import { openBytes, sealBytes } from "./envelope.js";
import { fromUtf8, utf8 } from "./b64url.js";
import { feeFacts, schemaAt, tokens, validate } from "./apply-schema.js";
import { addItem, collect, fill, removeItem, showErrors, targetOf } from "./apply-dom.js";
import { receipt, route, submit, vaultDocuments } from "./apply-submit.js";

const config = JSON.parse(document.getElementById("apply-config").textContent);
const form = document.getElementById("apply-form");
const summary = document.getElementById("error-summary");
const status = document.getElementById("apply-status");
const sections = [...form.querySelectorAll(".apply-step")];
const back = document.getElementById("step-back");
const next = document.getElementById("step-next");
const save = document.getElementById("save-draft");
const params = new URLSearchParams(location.search);
const lang = config.lang;
const T = config.texts;
const format = (text, values) => text.replace(/%\((\w+)\)s/g, (_m, k) => String(values[k]));
const euros = (cents) => (cents % 100 === 0 ? String(cents / 100) : (cents / 100).toFixed(2).replace(".", lang === "de" ? "," : "."));

const state = { flow: null, identity: null, caseId: params.get("case"), step: 0, quote: null };

function say(text) {
  status.textContent = "";
  requestAnimationFrame(() => { status.textContent = text; });
}

// ------------------------------------------------------------------------ labels
function labelOf(pointer) {
  const parts = tokens(pointer);
  const names = [];
  for (let i = 1; i <= parts.length; i++) {
    const at = "/" + parts.slice(0, i).join("/");
    const node = schemaAt(state.flow.schema, at);
    if (/^\d+$/.test(parts[i - 1])) names.push(format(T.entry, { n: Number(parts[i - 1]) + 1 }));
    else if (i === parts.length || node?.type === "array") {
      const texts = node?.["x-i18n"]?.title || {};
      names.push(texts[lang] || texts.en || node?.title || parts[i - 1]);
    }
  }
  return names.join(", ");
}

function display(pointer, value) {
  const node = schemaAt(state.flow.schema, pointer) || {};
  if (value === undefined || value === "") return T.empty;
  if (typeof value === "boolean") return value ? T.yes : T.no;
  const labels = node["x-i18n"]?.enum?.[String(value)];
  return labels ? labels[lang] || labels.en : String(value);
}

// ------------------------------------------------------------------------ steps
function stepOf(pointer) {
  const i = sections.findIndex((s) => s.dataset.step.startsWith("/") && (pointer === s.dataset.step || pointer.startsWith(s.dataset.step + "/")));
  return i < 0 ? 0 : i;
}

function show(index, focus = true) {
  state.step = index;
  sections.forEach((s, i) => { s.hidden = i !== index; });
  const name = sections[index].dataset.step;
  back.hidden = index === 0;
  next.hidden = name === "fee";
  document.getElementById("step-progress").textContent = format(T.step, { n: index + 1, total: sections.length });
  if (name === "review") renderReview();
  if (name === "fee") renderFee();
  if (focus) sections[index].querySelector("h2").focus();
}

function errorsFor(index) {
  const errors = validate(state.flow.schema, collect(form), lang, config.messages);
  const name = sections[index].dataset.step;
  if (!name.startsWith("/")) return errors; // review, fee: the whole form
  return errors.filter((e) => e.pointer === name || e.pointer.startsWith(name + "/"));
}

function report(errors) {
  const shown = showErrors(form, summary, errors, labelOf);
  if (shown.length) summary.focus();
  return shown.length === 0;
}

async function forward() {
  const errors = errorsFor(state.step);
  if (!report(errors)) {
    if (!sections[state.step].dataset.step.startsWith("/")) show(stepOf(errors[0].pointer), false);
    return;
  }
  if (state.identity) await saveDraft(false);
  show(state.step + 1);
}

summary.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-error-for]");
  if (!link) return;
  event.preventDefault();
  show(stepOf(link.dataset.errorFor), false);
  const target = targetOf(form, link.dataset.errorFor);
  (target?.matches("input, select") ? target : target?.querySelector("input, select, button"))?.focus();
});

// ------------------------------------------------------------------------ review
function renderReview() {
  const data = collect(form);
  const review = document.getElementById("review");
  review.replaceChildren();
  for (const section of sections.filter((s) => s.dataset.step.startsWith("/"))) {
    const heading = document.createElement("h3");
    heading.className = "kern-heading-small";
    heading.textContent = section.querySelector("h2").textContent;
    const list = document.createElement("dl");
    list.className = "facts";
    for (const input of section.querySelectorAll("[data-pointer]")) {
      const dt = document.createElement("dt");
      dt.textContent = labelOf(input.dataset.pointer);
      const dd = document.createElement("dd");
      dd.lang = form.lang;
      dd.textContent = display(input.dataset.pointer, tokens(input.dataset.pointer).reduce((v, t) => v?.[t], data));
      list.append(dt, dd);
    }
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "kern-btn kern-btn--tertiary kern-btn--x-small";
    edit.innerHTML = '<span class="kern-label"></span>';
    edit.firstChild.textContent = `${T.change}: ${heading.textContent}`;
    edit.addEventListener("click", () => show(sections.indexOf(section)));
    review.append(heading, list, edit);
  }
}

// ------------------------------------------------------------------------ draft
async function ensureCase() {
  if (state.caseId) return state.caseId;
  const response = await api("/v1/cases", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ flow_id: config.flow }),
  });
  if (!response.ok) throw new Error(`start: ${response.status}`);
  state.caseId = (await response.json()).id;
  const url = new URL(location.href);
  url.searchParams.set("case", state.caseId);
  history.replaceState(null, "", url);
  return state.caseId;
}

async function saveDraft(announce = true) {
  if (!state.identity) {
    document.getElementById("apply-locked").hidden = false;
    return false;
  }
  try {
    const caseId = await ensureCase();
    const sealed = await sealBytes(utf8(JSON.stringify(collect(form))), [state.identity.publicJwk], {
      filename: "draft.json",
      mediaType: "application/json",
    });
    const response = await api(`/v1/cases/${caseId}/draft`, {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream" },
      body: sealed,
    });
    if (!response.ok) throw new Error(`draft: ${response.status}`);
    if (announce) say(T.saved);
    return true;
  } catch (error) {
    console.warn("draft:", error.message);
    say(T.failed);
    return false;
  }
}

async function findDraftCase() {
  const response = await api("/v1/cases");
  if (!response.ok) return null;
  const drafts = (await response.json()).filter((c) => c.flow_id === config.flow && c.state === "draft");
  return drafts.length ? drafts[0].id : null;
}

async function resume() {
  state.caseId = state.caseId || (await findDraftCase());
  if (!state.caseId) return;
  const response = await api(`/v1/cases/${state.caseId}/draft`);
  if (!response.ok) return;
  try {
    const sealed = new Uint8Array(await response.arrayBuffer());
    const { plaintext } = await openBytes(sealed, state.identity);
    fill(form, JSON.parse(fromUtf8(plaintext)));
  } catch (error) {
    console.warn("draft:", error.message);
    return say(T.unreadable);
  }
  const url = new URL(location.href);
  url.searchParams.set("case", state.caseId);
  history.replaceState(null, "", url);
  say(T.resumed);
}

// ------------------------------------------------------------------------ fee
function renderFee() {
  const facts = feeFacts(state.flow, collect(form));
  const list = document.getElementById("fee-facts");
  list.replaceChildren();
  for (const [name, value] of Object.entries(facts)) {
    const spec = state.flow.fee.facts[name];
    const dt = document.createElement("dt");
    dt.textContent = labelOf(spec.from);
    const dd = document.createElement("dd");
    const code = document.createElement("code");
    code.textContent = `${name} = ${JSON.stringify(value)}`;
    dd.append(code);
    list.append(dt, dd);
  }
  state.facts = facts;
}

async function chooseAuthority(caseId) {
  const ars = collect(form).address?.ars;
  const leika = state.flow.leika.split(":").at(-1);
  const response = await api(`/v1/routes?leikaKey=${encodeURIComponent(leika)}&ars=${encodeURIComponent(ars || "")}`);
  const routes = response.ok ? (await response.json()).routes || [] : [];
  if (!routes.length) throw new Error("no authority for this address");
  state.route = routes[0];
  const authority = routes[0].customParameters?.authorityId;
  const chosen = await api(`/v1/cases/${caseId}/authority`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ authority }),
  });
  if (!chosen.ok) throw new Error(`authority: ${chosen.status}`);
  return authority;
}

async function getQuote() {
  try {
    if (!(await saveDraft(false))) return;
    const caseId = state.caseId;
    await chooseAuthority(caseId);
    const response = await api(`/v1/cases/${caseId}/fee-facts`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ facts: state.facts, waiver_requested: false }),
    });
    if (!response.ok) throw new Error(`fee facts: ${response.status}`);
    state.quote = (await response.json()).quote;
    const quote = document.getElementById("fee-quote");
    quote.textContent = format(T.quote, { amount: euros(state.quote.amount_due_cents) });
    quote.hidden = false;
    document.getElementById("pay").hidden = state.quote.amount_due_cents === 0;
    say(quote.textContent);
    if (state.quote.amount_due_cents === 0) await offerDocuments(); // nothing to pay
  } catch (error) {
    console.warn("fee quote:", error.message);
    say(T.failed);
  }
}

async function pay() {
  const returnUrl = new URL(location.href);
  returnUrl.searchParams.set("case", state.caseId);
  returnUrl.searchParams.set("paid", "1");
  const response = await api("/v1/payments", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": `case-${state.caseId}-${state.quote.id}` },
    body: JSON.stringify({ quote_id: state.quote.id, return_url: returnUrl.href }),
  });
  if (!response.ok) return say(T.failed);
  const payment = await response.json();
  sessionStorage.setItem(`ozg-apply-payment-${state.caseId}`, payment.id);
  location.assign(payment.payment_url);
}

async function paymentCameBack() {
  const id = sessionStorage.getItem(`ozg-apply-payment-${state.caseId}`);
  const url = new URL(location.href);
  url.searchParams.delete("paid"); // a later reload does not link the payment again
  history.replaceState(null, "", url);
  if (!id) return;
  const response = await api(`/v1/payments/${id}`);
  const payment = response.ok ? await response.json() : null;
  const fee = sections.findIndex((s) => s.dataset.step === "fee");
  show(fee);
  if (!payment || payment.state !== "booked") return say(T.not_paid);
  const linked = await api(`/v1/cases/${state.caseId}/payment`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ payment_id: id }),
  });
  if (!linked.ok) return say(T.failed);
  await showPaid(id);
}

/** The fee step once the case's payment is linked: paid, and on to the documents. */
async function showPaid(paymentId) {
  state.paymentId = paymentId;
  const quote = document.getElementById("fee-quote");
  quote.textContent = T.paid;
  quote.hidden = false;
  document.getElementById("get-quote").hidden = true;
  say(T.paid);
  await offerDocuments();
}

/** A reload of a case whose fee was paid before: the submission step is offered again. */
async function resumePaid() {
  const response = await api(`/v1/cases/${state.caseId}`);
  if (!response.ok) return;
  const found = await response.json();
  if (found.state !== "draft" || !found.payment_id) return;
  show(sections.findIndex((s) => s.dataset.step === "fee")); // what is left: the submission
  await showPaid(found.payment_id);
}

// ------------------------------------------------------------------------ submit
const selects = () => [...document.querySelectorAll("[data-document-type]")];

async function offerDocuments() {
  const panel = document.getElementById("submit-panel");
  panel.hidden = false;
  state.documents = await vaultDocuments(state.identity);
  for (const select of selects()) {
    select.replaceChildren(select.options[0]); // "(none)"; offered again, not twice
    for (const doc of state.documents) {
      const option = document.createElement("option");
      option.value = doc.id;
      option.textContent = doc.filename;
      select.append(option);
    }
  }
  if (!state.documents.length) say(T.no_documents);
}

async function sendApplication() {
  const missing = selects().filter((s) => s.dataset.required === "true" && !s.value);
  if (missing.length) {
    const label = document.querySelector(`label[for="${missing[0].id}"]`).textContent.trim();
    missing[0].focus();
    return say(format(T.missing, { type: label }));
  }
  const go = document.getElementById("submit-go");
  go.disabled = true;
  say(T.submitting);
  try {
    const data = collect(form);
    const chosen = await route(state.flow, data.address?.ars);
    const byId = new Map(state.documents.map((d) => [d.id, d]));
    const sent = await submit({
      caseId: state.caseId, flow: state.flow, form: data, identity: state.identity, lang, paymentId: state.paymentId,
      destinationId: chosen.destinationId, authority: chosen.customParameters?.authorityId,
      documents: selects().filter((s) => s.value).map((s) => ({ document: byId.get(s.value), type: s.dataset.documentType })),
    });
    showReceipt(await receipt(state.caseId, sent.parts), sent);
    go.hidden = true;
    say(T.submitted);
  } catch (error) {
    console.warn("submit:", error.message);
    go.disabled = false;
    const known = { receipt: T.receipt_mismatch, "attachment too large": T.too_large };
    say(["InvalidDestinationKey", "InvalidDestinationSignature"].includes(error.name) ? T.bad_key : known[error.step] || T.failed);
  }
}

function showReceipt(signed, sent) {
  const facts = document.getElementById("receipt-facts");
  facts.replaceChildren();
  for (const [name, value] of [["submission", sent.submissionId], ["sha512", signed.claims.submission_sha512]]) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    const code = document.createElement("code");
    code.textContent = value;
    dd.append(code);
    facts.append(dt, dd);
  }
  const link = document.getElementById("receipt-download");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(signed, null, 2)], { type: "application/json" }));
  document.getElementById("receipt").hidden = false;
}

// ------------------------------------------------------------------------ start
form.addEventListener("click", (event) => {
  const add = event.target.closest("[data-add-item]");
  if (add) addItem(form, add.dataset.addItem);
  const remove = event.target.closest("[data-remove-item]");
  if (remove) removeItem(form, remove.closest(".apply-list__item"));
});
form.addEventListener("submit", (event) => event.preventDefault());
back.addEventListener("click", () => show(Math.max(0, state.step - 1)));
next.addEventListener("click", forward);
save.addEventListener("click", () => saveDraft(true));
document.getElementById("get-quote").addEventListener("click", getQuote);
document.getElementById("pay").addEventListener("click", pay);
document.getElementById("submit-go").addEventListener("click", sendApplication);

async function start() {
  const response = await fetch(`/v1/flows/${encodeURIComponent(config.flow)}`);
  if (!response.ok) throw new Error(`flow: ${response.status}`);
  state.flow = await response.json();
  state.identity = await unlocked(new IndexedDbKeyStore());
  document.getElementById("apply-locked").hidden = state.identity !== null;
  show(0, false);
  if (state.identity) await resume();
  if (params.get("paid") && state.caseId) await paymentCameBack();
  else if (state.identity && state.caseId) await resumePaid();
  form.dataset.ready = "true";
}

start().catch((error) => {
  console.warn("apply:", error.message);
  say(T.failed);
});
