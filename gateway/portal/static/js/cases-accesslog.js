// /access-log: who accessed the applicant's data (GET /v1/me/access-log), in plain language.
// Each entry is verified here (auditproof.js): the checkpoint's signature under the log key
// this device pinned the first time, the entry's leaf against what the page shows, and the
// leaf's inclusion proof against the signed root. The document's name comes from the
// document's metadata record (the metadata-only read, vault-metadata.js), decrypted on this
// device; the server never knows it, and nothing of the content is fetched for it.
import { api } from "./session.js";
import { fetchMetadata, openMetadataItem } from "./vault-metadata.js";
import { InvalidProof, verifyCheckpoint, verifyEntry } from "./auditproof.js";
import {
  actions, authorityName, el, inLanguage, showLocked, status, texts, vaultIdentity, when,
} from "./cases-common.js";

const PIN = "ozg-audit-log-key";
const list = document.getElementById("access-log");
const more = document.getElementById("more");
let identity;
let checkpointFor = null; // the note verified last, and its checkpoint

/** The log key: pinned in this browser on first use; a different one later fails. */
function pinned(verifierKey) {
  const known = localStorage.getItem(PIN);
  if (known === null) localStorage.setItem(PIN, verifierKey);
  return known === null || known === verifierKey;
}

async function checkpointOf(body) {
  if (!body.checkpoint || !pinned(body.verifier_key)) return null;
  if (checkpointFor && checkpointFor.note === body.checkpoint) return checkpointFor.checkpoint;
  try {
    const checkpoint = await verifyCheckpoint(body.checkpoint, body.verifier_key);
    checkpointFor = { note: body.checkpoint, checkpoint };
    return checkpoint;
  } catch (e) {
    if (e instanceof InvalidProof) return null;
    throw e;
  }
}

async function documentName(id) {
  const key = `ozg-document-name:${id}`;
  const cached = sessionStorage.getItem(key);
  if (cached !== null) return cached;
  if (!identity) return null;
  const item = await fetchMetadata(api, id);
  if (!item) return null;
  try {
    const metadata = await openMetadataItem(item, identity);
    sessionStorage.setItem(key, metadata.filename);
    return metadata.filename;
  } catch {
    return null;
  }
}

function who(fields) {
  if (fields.actor_role === "applicant") return texts.you;
  if (fields.actor_authority === "operator" || (!fields.actor_authority && !fields.actor_client_id)) {
    return texts.operator;
  }
  const name = fields.actor_authority ? authorityName(fields.actor_authority) : fields.actor_client_id;
  const role = texts.role[fields.actor_role] || fields.actor_role;
  return `${name}, ${role}`;
}

function mark(kind) {
  const label = { verified: texts.verified, failed: texts.not_verified, pending: texts.pending }[kind];
  const help = { verified: texts.verified_help, failed: texts.not_verified_help, pending: "" }[kind];
  return el("p", {},
    el("span", { class: `mark mark--${kind}`, "data-verification": kind, text: `${kind === "verified" ? "✓" : kind === "failed" ? "✗" : "…"} ${label}` }),
    help ? ` ${help}` : null);
}

async function entryItem(entry, checkpoint) {
  let fields = null;
  let verification = "pending";
  if (entry.leaf_index !== null && entry.inclusion_proof !== null) {
    verification = "failed";
    if (checkpoint) {
      try {
        fields = await verifyEntry(entry, checkpoint);
        verification = "verified";
      } catch (e) {
        if (!(e instanceof InvalidProof)) throw e;
      }
    }
  }
  // What is shown is the verified leaf's; an unverified entry is shown as the server sent it.
  const shown = fields || {
    at: entry.at, actor_role: entry.role, actor_authority: ["ozg-commons", "you"].includes(entry.who) ? null : entry.who,
    actor_client_id: null, action: entry.action, purpose: entry.why.purpose,
    legal_basis: entry.why.legal_basis, outcome: entry.outcome.code,
  };
  const action = actions[shown.action];
  const what = action ? inLanguage({ en: action.en, de: action.de }) : inLanguage(entry.what);
  const name = entry.document_id ? await documentName(entry.document_id) : null;
  const outcome = inLanguage({ en: entry.outcome.en, de: entry.outcome.de });
  return el("li", { class: "access-log__entry", "data-verification": verification },
    el("p", { class: "access-log__who" }, el("strong", { text: who(shown) }), " – ", what,
      name ? [" ", `(${texts.document}: `, el("em", { class: "document-name", text: name }), ")"] : null),
    el("p", {}, `${texts.when}: `, el("time", { datetime: shown.at, text: when(shown.at) })),
    el("p", { text: `${texts.why}: ${shown.purpose} (${shown.legal_basis})` }),
    el("p", { text: `${texts.result}: ${outcome}` }),
    mark(verification),
  );
}

async function load(cursor) {
  list.setAttribute("aria-busy", "true");
  try {
    await loadPage(cursor);
  } finally {
    list.removeAttribute("aria-busy");
  }
}

async function loadPage(cursor) {
  const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
  const response = await api(`/v1/me/access-log${query}`);
  if (!response.ok) throw new Error(String(response.status));
  const body = await response.json();
  const checkpoint = await checkpointOf(body);
  if (body.checkpoint && !pinned(body.verifier_key)) status(texts.key_changed);
  else status(body.entries.length || list.children.length ? "" : texts.none_entries);
  const key = document.getElementById("log-key");
  key.textContent = `${texts.log_key}: ${body.verifier_key}`;
  key.hidden = false;
  for (const entry of body.entries) list.append(await entryItem(entry, checkpoint));
  more.hidden = !body.next_cursor;
  more.onclick = () => load(body.next_cursor).catch(() => status(texts.failed));
}

identity = await vaultIdentity();
if (!identity) showLocked();
load(null).catch(() => status(texts.failed));
