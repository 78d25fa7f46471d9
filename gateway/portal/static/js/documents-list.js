// The documents list on /documents: names, types, sizes decrypted here from each document's
// metadata record; download (decrypted here, saved through a Blob link), delete with a signed
// receipt, share with the authority of an application and withdraw a share — what
// vault/client/sdk.py does for the command line.
//
// The names come from the metadata-only read (vault-metadata.js, docs/envelope.md §13):
// one request per page of documents for their headers and metadata records, so listing
// never downloads a document; sharing unwraps the document key from the same header.
import { api } from "./session.js";
import { b64Encode } from "./b64url.js";
import { createSHA256 } from "./keys.js";
import { bytesOf, openStream, wrapFor } from "./envelope.js";
import { documentKeyOf, fetchAllMetadata, fetchMetadata, openMetadataItem } from "./vault-metadata.js";
import { parseTrust, validateDestinationKey } from "./authority-key.js";
import { $, saveFile, showError, showStatus, texts } from "./documents-ui.js";

let identity = null;
let authorities = [];
let pendingDelete = null;
let sealed = new Map(); // document id -> its item of the metadata-only read

// ------------------------------------------------------------------------ actions
async function download(doc) {
  showStatus(texts.working);
  try {
    const response = await api(`/v1/vault/documents/${doc.id}/content`);
    if (!response.ok) throw new Error("content " + response.status);
    const opened = await openStream(response.body, identity, { createSha256: createSHA256 });
    const parts = [];
    for await (const piece of bytesOf(opened.stream)) parts.push(piece);
    const meta = await opened.metadata;
    saveFile(meta.filename, new Blob(parts, { type: meta.media_type }));
    showStatus("");
  } catch {
    showError(texts.unreadable);
  }
}

function askDelete(doc, name) {
  pendingDelete = doc;
  $("delete-dialog-name").textContent = name;
  $("delete-dialog").showModal();
}

async function confirmDelete() {
  const doc = pendingDelete;
  $("delete-dialog").close();
  pendingDelete = null;
  if (!doc) return;
  const response = await api(`/v1/vault/documents/${doc.id}`, { method: "DELETE" });
  if (!response.ok) {
    showError(texts.failed);
    return;
  }
  const receipt = await response.json();
  const text = JSON.stringify(receipt, null, 2);
  $("receipt-text").textContent = text;
  $("receipt-save").onclick = () =>
    saveFile(`${texts.receiptFile}-${doc.id}.json`, new Blob([text + "\n"], { type: "application/json" }));
  await refresh();
  $("receipt").hidden = false;
  $("receipt-heading").focus();
}

let pinned = null; // the pinned roots and CRLs, fetched once per page
async function trust() {
  if (!pinned) {
    const response = await fetch("/apply/trust.json");
    if (!response.ok) throw new Error(`trust: ${response.status}`);
    pinned = parseTrust(await response.json());
  }
  return pinned;
}

async function share(doc, authority) {
  showStatus(texts.working);
  const keyResponse = await api(`/v1/vault/authorities/${encodeURIComponent(authority)}/key`);
  if (!keyResponse.ok) {
    showError(texts.keyInvalid);
    return;
  }
  const active = await keyResponse.json();
  let stanza;
  try {
    // the chain to the pinned roots, the CRLs, and the certificate naming this authority
    await validateDestinationKey(active.jwk, { authority, trust: await trust(), minBits: 3072 });
    const item = sealed.get(doc.id) || (await fetchMetadata(api, doc.id));
    if (!item) throw new Error("gone");
    stanza = await wrapFor(await documentKeyOf(item, identity), active.jwk);
  } catch {
    showError(texts.keyInvalid);
    return;
  }
  const response = await api(`/v1/vault/documents/${doc.id}/shares/${encodeURIComponent(authority)}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ stanza: b64Encode(stanza.encode()) }),
  });
  if (!response.ok) {
    showError(texts.failed);
    return;
  }
  showStatus("");
  await refresh();
}

async function withdraw(doc, authority) {
  const response = await api(`/v1/vault/documents/${doc.id}/shares/${encodeURIComponent(authority)}`, { method: "DELETE" });
  if (!response.ok) showError(texts.failed);
  await refresh();
}

// ------------------------------------------------------------------------ rendering
const lang = () => document.documentElement.lang || "de";

export function formatSize(bytes) {
  const units = [["gigabyte", 1e9], ["megabyte", 1e6], ["kilobyte", 1e3]];
  for (const [unit, factor] of units) {
    if (bytes >= factor) {
      return new Intl.NumberFormat(lang(), { style: "unit", unit, maximumFractionDigits: 1 }).format(bytes / factor);
    }
  }
  return new Intl.NumberFormat(lang(), { style: "unit", unit: "byte" }).format(bytes);
}

function cell(content, className = "") {
  const td = document.createElement("td");
  td.className = "kern-table__cell " + className;
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

function button(label, onClick, extraLabel) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "kern-btn kern-btn--tertiary kern-btn--small";
  const span = document.createElement("span");
  span.className = "kern-label";
  span.textContent = label;
  b.append(span);
  if (extraLabel) b.setAttribute("aria-label", `${label}: ${extraLabel}`);
  b.addEventListener("click", onClick);
  return b;
}

function shareControls(doc, name) {
  const box = document.createElement("div");
  for (const authority of doc.shared_with) {
    const line = document.createElement("p");
    line.append(`${authority} `, button(texts.withdraw, () => withdraw(doc, authority), `${name}, ${authority}`));
    box.append(line);
  }
  if (!doc.shared_with.length) box.append(texts.notShared);
  const free = authorities.filter((a) => !doc.shared_with.includes(a));
  if (free.length) {
    const select = document.createElement("select");
    select.className = "kern-form-input__select";
    select.id = `share-${doc.id}`;
    select.setAttribute("aria-label", `${texts.shareFor}: ${name}`);
    for (const a of free) select.append(new Option(a, a));
    const line = document.createElement("p");
    line.append(select, " ", button(texts.share, () => share(doc, select.value), name));
    box.append(line);
  }
  return box;
}

async function row(doc) {
  const tr = document.createElement("tr");
  tr.className = "kern-table__row";
  tr.dataset.documentId = doc.id;
  let meta = null;
  try {
    const item = sealed.get(doc.id);
    meta = item ? await openMetadataItem(item, identity) : null;
  } catch {
    meta = null;
  }
  const name = meta ? meta.filename : texts.unreadable;
  const when = new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(doc.created_at));
  const actions = document.createElement("div");
  if (meta) actions.append(button(texts.download, () => download(doc), name), " ");
  actions.append(button(texts.delete, () => askDelete(doc, name), name));
  const first = document.createElement("th");
  first.scope = "row";
  first.className = "kern-table__cell";
  first.textContent = name;
  tr.append(
    first,
    cell(meta ? meta.media_type : ""),
    cell(meta ? formatSize(meta.size) : "", "kern-table__cell--numeric"),
    cell(when),
    cell(shareControls(doc, name)),
    cell(actions),
  );
  return tr;
}

async function loadAuthorities() {
  const response = await api("/v1/cases");
  if (!response.ok) return [];
  const cases = await response.json();
  return [...new Set(cases.map((c) => c.authority).filter(Boolean))].sort();
}

export async function refresh() {
  const response = await api("/v1/vault/documents");
  if (!response.ok) {
    showError(texts.failed);
    return;
  }
  const docs = await response.json();
  try {
    sealed = docs.length ? await fetchAllMetadata(api) : new Map();
  } catch {
    showError(texts.failed);
    return;
  }
  authorities = await loadAuthorities();
  const rows = await Promise.all(docs.map(row));
  $("documents-rows").replaceChildren(...rows);
  $("documents-table").hidden = rows.length === 0;
  $("documents-empty").hidden = rows.length !== 0;
}

/** Show the list for the unlocked `me` ({kid, privateKey}). */
export async function showDocuments(me) {
  identity = me;
  if (!$("delete-confirm").dataset.bound) {
    $("delete-confirm").dataset.bound = "1";
    $("delete-confirm").addEventListener("click", confirmDelete);
    $("delete-cancel").addEventListener("click", () => $("delete-dialog").close());
  }
  await refresh();
}

export const currentIdentity = () => identity;
