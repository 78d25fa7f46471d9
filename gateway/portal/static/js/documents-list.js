// The documents list on /documents: names, types, sizes decrypted here from each document's
// metadata record; download (decrypted here, saved through a Blob link), delete with a signed
// receipt, share with the authority of an application and withdraw a share — what
// vault/client/sdk.py does for the command line.
//
// The metadata record is the envelope's last 4112 bytes; the page reads the header and that
// record with two Range requests (docs/vault.md), so listing never downloads a document.
import { api } from "./session.js";
import { b64Encode } from "./b64url.js";
import { createSHA256 } from "./keys.js";
import { TAG_LEN, TRAILER_LEN, bytesOf, decodeMetadata, openStream, readHeader, unlockHeader, wrapFor } from "./envelope.js";
import { parseTrust, validateDestinationKey } from "./authority-key.js";
import { $, saveFile, showError, showStatus, texts } from "./documents-ui.js";

const MAC_LEN = 32;
const FIRST_READ = 8192; // a header with a few stanzas; read more only if needed
const MAX_HEADER = 90_000; // 34 + 64 stanzas of at most 1283 bytes + 32
let identity = null;
let authorities = [];
let pendingDelete = null;

async function range(id, spec) {
  const response = await api(`/v1/vault/documents/${id}/content`, { headers: { Range: spec } });
  if (response.status !== 206 && response.status !== 200) throw new Error("content " + response.status);
  return new Uint8Array(await response.arrayBuffer());
}

/** The parsed header of a document (two reads at most). */
export async function headerOf(doc) {
  const first = await range(doc.id, `bytes=0-${Math.min(FIRST_READ, doc.envelope_size) - 1}`);
  try {
    return await readHeader(first);
  } catch (e) {
    if (first.length >= doc.envelope_size || first.length < FIRST_READ) throw e;
  }
  return readHeader(await range(doc.id, `bytes=0-${Math.min(MAX_HEADER, doc.envelope_size) - 1}`));
}

/** The decrypted metadata record {filename, media_type, size, content_hash} (§6). */
export async function metadataOf(doc, me) {
  const header = await headerOf(doc);
  const key = await unlockHeader(header, me);
  const headerLen = header.unsigned.length + MAC_LEN;
  const chunks = Math.ceil((doc.envelope_size - headerLen - TRAILER_LEN) / (header.chunkSize + TAG_LEN));
  const trailer = (await range(doc.id, `bytes=-${TRAILER_LEN}`)).slice(-TRAILER_LEN);
  const aad = new Uint8Array(header.fixed.length + 8);
  aad.set(header.fixed, 0);
  new DataView(aad.buffer).setBigUint64(header.fixed.length, BigInt(chunks));
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: new Uint8Array(12), additionalData: aad }, key.metadata, trailer);
  return decodeMetadata(new Uint8Array(plain));
}

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
    const key = await unlockHeader(await headerOf(doc), identity);
    stanza = await wrapFor(key, active.jwk);
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
    meta = await metadataOf(doc, identity);
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
