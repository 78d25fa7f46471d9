// The DPO console (/dpo): query the audit log, its summary with unusual patterns, export,
// the log's verification status (checked here, in the browser, by auditlog.js) and
// co-signing the latest checkpoint with a key that never leaves this browser.
import { api } from "./session.js";
import { b64Decode, b64Encode } from "./b64url.js";
import {
  InvalidLog,
  cosign,
  cosignatureValid,
  newCosigningKey,
  parseVerifierKey,
  verifyCheckpoint,
  verifyConsistency,
} from "./auditlog.js";

const $ = (id) => document.getElementById(id);
const T = JSON.parse($("page-strings").textContent);
const fmt = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
const STATE_KEY = "ozg-dpo-audit-state"; // {verifier_key, size, root}: last verified here
const EARLIER = 5; // earlier checkpoints checked against the latest on each visit

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "–")));
  return node;
}

async function getJson(path) {
  const response = await api(path);
  if (!response.ok) {
    let detail = `${response.status}`;
    try {
      detail = (await response.json()).detail || detail;
    } catch {
      /* not a problem document */
    }
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

// ------------------------------------------------------------------ verification
let verified = null; // the latest checkpoint as verified: {size, text}

function setStatus(kind, text) {
  const box = $("verify-status");
  box.className = `kern-alert kern-alert--${kind}`;
  box.dataset.state = kind === "success" ? "verified" : kind === "danger" ? "not-verified" : kind;
  $("verify-text").textContent = text;
}

function checkpointRow(size, published, result, ok) {
  const badge = el("span", { class: `kern-badge kern-badge--${ok ? "success" : "danger"}` }, result);
  $("checkpoints").tBodies[0].append(el("tr", { "data-ok": String(ok) }, el("td", {}, size), el("td", {}, published), el("td", {}, badge)));
}

async function verifyLog() {
  verified = null;
  $("cosign").disabled = true;
  $("checkpoints").tBodies[0].replaceChildren();
  $("cosignatures").replaceChildren();
  setStatus("info", T.checking);
  let current = "–";
  try {
    const logKey = await getJson("/v1/audit/log-key");
    $("log-key").textContent = logKey.verifier_key;
    const pinned = JSON.parse(localStorage.getItem(STATE_KEY) || "null");
    if (pinned && pinned.verifier_key !== logKey.verifier_key) throw new InvalidLog("key changed");
    const verifier = await parseVerifierKey(logKey.verifier_key);
    const response = await api("/v1/audit/checkpoint");
    if (response.status === 404) {
      setStatus("info", T.no_checkpoint);
      return;
    }
    const body = await response.json();
    current = String(body.size);
    const latest = await verifyCheckpoint(body.checkpoint, verifier, logKey.origin);
    if (latest.size !== body.size || b64Encode(latest.root) !== body.root) throw new InvalidLog("served fields");
    $("latest-checkpoint").textContent = `${latest.size} · ${body.root}`;
    checkpointRow(latest.size, "", T.signature_ok, true);
    const listed = await getJson(`/v1/audit/checkpoints?limit=${EARLIER + 1}`);
    const earlier = listed.checkpoints.filter((c) => c.size < latest.size).slice(0, EARLIER);
    const targets = earlier.map((c) => ({ size: c.size, published: c.created_at }));
    if (pinned) {
      if (pinned.size > latest.size) throw new InvalidLog("log shrank");
      if (pinned.size === latest.size && pinned.root !== body.root) throw new InvalidLog("fork");
      if (pinned.size < latest.size && !targets.some((t) => t.size === pinned.size)) {
        targets.push({ size: pinned.size, published: T.remembered, root: b64Decode(pinned.root) });
      }
    }
    for (const target of targets) {
      current = String(target.size);
      let root = target.root;
      if (!root) {
        const signed = await getJson(`/v1/audit/checkpoints/${target.size}`);
        root = (await verifyCheckpoint(signed.checkpoint, verifier, logKey.origin)).root;
      }
      const proof = await getJson(`/v1/audit/proofs/consistency?size1=${target.size}&size2=${latest.size}`);
      await verifyConsistency(target.size, latest.size, root, latest.root, proof.proof.map(b64Decode));
      checkpointRow(target.size, target.published, `${T.signature_ok} · ${T.consistent}`, true);
    }
    for (const c of body.cosignatures) {
      const ok = await cosignatureValid(latest.text, c.line, c.verifier_key);
      $("cosignatures").append(el("li", { "data-ok": String(ok) }, `${c.key_name}: ${ok ? T.cosig_valid : T.cosig_invalid}`));
    }
    localStorage.setItem(STATE_KEY, JSON.stringify({ verifier_key: logKey.verifier_key, size: latest.size, root: body.root }));
    verified = { size: latest.size, text: latest.text };
    $("cosign").disabled = !cosignKey;
    setStatus("success", `${T.verified}: ${latest.size}`);
  } catch (error) {
    const why = error instanceof InvalidLog ? (error.what === "key changed" ? T.key_changed : error.what) : error.message;
    checkpointRow(current, "", `${T.failure}: ${why}`, false);
    setStatus("danger", `${T.not_verified}: ${why}`);
  }
}

// ------------------------------------------------------------------ co-signing
let cosignKey = null;

function idb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("ozg-dpo", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("keys");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function stored(value) {
  const db = await idb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("keys", value === undefined ? "readonly" : "readwrite");
    const store = tx.objectStore("keys");
    const request = value === undefined ? store.get("cosign") : store.put(value, "cosign");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function showKey() {
  $("cosign-key-state").textContent = cosignKey ? cosignKey.name : T.no_key;
  $("cosign-verifier-key").textContent = cosignKey ? cosignKey.verifierKey : "";
  $("cosign").disabled = !(cosignKey && verified);
}

$("cosign-key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("cosign-name");
  if (!input.checkValidity()) {
    input.setAttribute("aria-invalid", "true");
    input.reportValidity();
    return;
  }
  input.removeAttribute("aria-invalid");
  try {
    cosignKey = await newCosigningKey(input.value);
  } catch {
    input.setAttribute("aria-invalid", "true");
    return;
  }
  await stored(cosignKey);
  showKey();
});

$("cosign").addEventListener("click", async () => {
  const out = $("cosign-result");
  out.replaceChildren();
  if (!cosignKey || !verified) return;
  const { size, text } = verified;
  const response = await api(`/v1/audit/checkpoints/${size}/dpo-cosignatures`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ signature_line: await cosign(cosignKey, text), verifier_key: cosignKey.verifierKey }),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    out.append(alertBox("danger", `${T.load_failed} ${problem.detail || response.status}`));
    return;
  }
  out.append(alertBox("success", fmt(T.cosigned, { size, name: cosignKey.name })));
  // the log has moved on meanwhile (this console's own queries are recorded): show the
  // co-signatures of the checkpoint just signed, each checked here
  const signed = await getJson(`/v1/audit/checkpoints/${size}`);
  const list = el("ul", { class: "kern-list", id: "cosigned-list" });
  for (const c of signed.cosignatures) {
    const ok = await cosignatureValid(text, c.line, c.verifier_key);
    list.append(el("li", { "data-ok": String(ok) }, `${c.key_name}: ${ok ? T.cosig_valid : T.cosig_invalid}`));
  }
  out.append(list);
});

function alertBox(kind, text) {
  return el("div", { class: `kern-alert kern-alert--${kind}` }, el("div", { class: "kern-alert__body" }, el("p", { class: "kern-body" }, text)));
}

// ------------------------------------------------------------------ query, summary, export
const FILTER = ["action", "authority", "outcome", "purpose", "actor", "data_subject"];
const RULES = ["office_hours", "timezone", "factor"];
let nextCursor = null;
let generation = 0; // answers to an older query are dropped, not shown over a newer one

function filterParams() {
  const form = $("query");
  const params = new URLSearchParams();
  for (const name of ["since", "until"]) {
    const value = form.elements[name].value;
    if (value) params.set(name, new Date(value).toISOString());
  }
  for (const name of FILTER) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function updateExports() {
  for (const format of ["csv", "json"]) {
    const params = filterParams();
    params.set("format", format);
    $(`export-${format}`).href = `/v1/audit/export?${params}`;
  }
}

function entryRow(e) {
  const actor = e.actor_subject || e.actor_client_id;
  return el(
    "tr",
    {},
    el("td", {}, e.at),
    el("td", {}, actor),
    el("td", {}, e.actor_role),
    el("td", {}, e.actor_authority),
    el("td", {}, e.action),
    el("td", {}, e.outcome),
    el("td", {}, e.purpose),
    el("td", {}, e.data_subject),
    el("td", {}, e.resource),
    el("td", { class: "kern-table__cell--numeric" }, e.leaf_index ?? "–"),
  );
}

async function loadEntries(cursor) {
  const mine = generation;
  const params = filterParams();
  params.set("limit", "50");
  if (cursor) params.set("cursor", cursor);
  const page = await getJson(`/v1/audit/entries?${params}`);
  if (mine !== generation) return;
  const body = $("entries").tBodies[0];
  if (!cursor) body.replaceChildren();
  for (const e of page.entries) body.append(entryRow(e));
  if (!cursor && !page.entries.length) body.append(el("tr", {}, el("td", { colspan: "10" }, T.no_entries)));
  nextCursor = page.next_cursor;
  $("more").hidden = !nextCursor;
}

async function loadSummary() {
  const params = filterParams();
  const form = $("query");
  for (const name of RULES) params.set(name, form.elements[name].value.trim());
  const mine = generation;
  const summary = await getJson(`/v1/audit/summary?${params}`);
  if (mine !== generation) return;
  const { rules, many_document_opens: many, outside_office_hours: night } = summary.unusual;
  $("rules-text").textContent = fmt(T.rules, {
    factor: rules.factor,
    actions: rules.document_actions.join(", "),
    min_peers: rules.min_peers,
    roles: rules.staff_roles.join(", "),
    hours: rules.office_hours,
    zone: rules.timezone,
  });
  const box = $("unusual");
  box.replaceChildren();
  const flagged = new Set([...many, ...night].map((x) => x.actor));
  const items = [
    ...many.map((x) => fmt(T.many_opens, { actor: x.actor, count: x.count, peers: x.peers, median: x.peer_median })),
    ...night.map((x) => fmt(T.night, { actor: x.actor, count: x.count, first: x.first })),
  ];
  if (items.length) {
    const list = el("ul", { class: "kern-list", id: "unusual-list" }, ...items.map((t) => el("li", {}, t)));
    box.append(el("div", { class: "kern-alert kern-alert--warning" }, el("div", { class: "kern-alert__body" }, el("p", { class: "kern-body" }, el("strong", {}, T.unusual)), list)));
  } else {
    box.append(alertBox("info", T.nothing_unusual));
  }
  const body = $("summary").tBodies[0];
  body.replaceChildren();
  for (const c of summary.counts.slice(0, 50)) {
    const unusual = flagged.has(c.actor);
    const actorCell = el("td", {}, c.actor);
    if (unusual) actorCell.append(" ", el("span", { class: "kern-badge kern-badge--warning" }, T.unusual));
    body.append(
      el(
        "tr",
        unusual ? { class: "unusual", "data-unusual": "true" } : {},
        actorCell,
        el("td", {}, c.role),
        el("td", {}, c.authority),
        el("td", {}, c.action),
        el("td", {}, c.outcome),
        el("td", { class: "kern-table__cell--numeric" }, c.count),
      ),
    );
  }
}

async function runQuery() {
  generation++;
  const error = $("query-error");
  error.replaceChildren();
  updateExports();
  try {
    await Promise.all([loadEntries(null), loadSummary()]);
  } catch (e) {
    error.append(alertBox("danger", `${T.load_failed} ${e.message}`));
  }
}

$("query").addEventListener("submit", (event) => {
  event.preventDefault();
  runQuery();
});
$("query").addEventListener("input", updateExports);
$("more").addEventListener("click", () => loadEntries(nextCursor).catch((e) => $("query-error").append(alertBox("danger", `${T.load_failed} ${e.message}`))));
$("reverify").addEventListener("click", verifyLog);

cosignKey = (await stored().catch(() => null)) || null;
showKey();
await Promise.all([verifyLog(), runQuery()]);
showKey();
