// /messages and /messages/{id}: the applicant's mailbox (GET /v1/me/messages). A sealed body
// (body_format "ozg-envelope": a decision letter, a request for documents) is opened here
// with the vault key on this device (envelope.js); the server only ever has the ciphertext.
// A request for documents offers the upload right there: the file is sealed to the
// applicant's own key, uploaded to the vault, shared with the case's authority (a detached
// stanza wrapped here) and linked to the case (POST /v1/cases/{id}/documents).
import { api } from "./session.js";
import { b64Encode, b64urlDecode, fromUtf8 } from "./b64url.js";
import { openBytes, readHeader, sealBytes, unlockHeader, wrapFor } from "./envelope.js";
import {
  authorityName, downloadLink, el, showLocked, status, texts, vaultIdentity, when,
} from "./cases-common.js";

async function json(path, options) {
  const response = await api(path, options);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

const sender = (m) => (m.sender_authority ? authorityName(m.sender_authority) : texts.operator);

// ------------------------------------------------------------------ the list
async function showList(list) {
  const messages = await json("/v1/me/messages");
  status(messages.length ? "" : texts.none_messages);
  list.replaceChildren(...messages.map((m) => el("li", { class: m.read_at ? null : "unread" },
    el("h2", { class: "kern-heading-small" },
      el("a", { class: "kern-link", href: `/messages/${encodeURIComponent(m.id)}`, text: m.title })),
    el("p", {}, `${texts.category[m.category] || m.category} · ${texts.from}: ${sender(m)} · ${when(m.sent_at)}`,
      m.read_at ? null : ` · ${texts.unread}`),
  )));
}

// ------------------------------------------------------------------ one message
async function openSealed(message, identity) {
  const { metadata, plaintext } = await openBytes(b64urlDecode(message.body), identity);
  const body = document.getElementById("message-body");
  if (metadata.media_type.startsWith("text/")) {
    body.textContent = fromUtf8(plaintext);
  } else {
    const where = document.getElementById("message-download");
    where.replaceChildren(downloadLink(plaintext, metadata.filename, metadata.media_type,
      `${texts.download_letter}: ${metadata.filename}`));
    where.hidden = false;
  }
  return metadata;
}

async function showMessage(article) {
  const id = article.dataset.messageId;
  const m = await json(`/v1/me/messages/${encodeURIComponent(id)}`);
  document.getElementById("message-title").textContent = m.title;
  document.getElementById("message-from").textContent = sender(m);
  document.getElementById("message-sent").textContent = when(m.sent_at);
  document.getElementById("message-category").textContent = texts.category[m.category] || m.category;
  const about = document.getElementById("message-case");
  about.replaceChildren(m.case_ref
    ? el("a", { class: "kern-link", href: `/cases/${encodeURIComponent(m.case_ref)}`, text: m.case_ref })
    : "–");
  article.hidden = false;
  status("");
  let identity = null;
  if (m.body_format === "ozg-envelope") {
    const note = document.getElementById("message-sealed");
    note.textContent = texts.sealed;
    note.hidden = false;
    identity = await vaultIdentity();
    if (!identity) {
      showLocked();
    } else {
      try {
        await openSealed(m, identity);
        note.textContent = `${texts.sealed} ${texts.opened}`;
      } catch {
        status(texts.open_failed);
      }
    }
  } else {
    document.getElementById("message-body").textContent = m.body;
  }
  if (m.category === "request-for-documents" && m.case_ref) await offerAnswer(m, identity);
}

// ------------------------------------------------------------------ answering a request
async function offerAnswer(message, identity) {
  const c = await json(`/v1/cases/${encodeURIComponent(message.case_ref)}`);
  const request = c.document_requests.find((r) => r.message_id === message.id);
  if (!request) return;
  const section = document.getElementById("answer");
  const say = (text) => (document.getElementById("answer-status").textContent = text);
  section.hidden = false;
  const form = document.getElementById("answer-form");
  if (request.answered_at || c.state !== "action_required") {
    form.hidden = true;
    return say(texts.upload_answered);
  }
  if (!identity) {
    form.hidden = true;
    return showLocked();
  }
  document.getElementById("answer-type").replaceChildren(
    ...request.document_types.map((t) => el("option", { value: t, text: t })));
  form.onsubmit = async (event) => {
    event.preventDefault();
    const file = document.getElementById("answer-file").files[0];
    if (!file) return say(texts.upload_missing);
    const type = document.getElementById("answer-type").value;
    try {
      await sendDocument(c, file, type, identity);
      form.hidden = true;
      say(texts.upload_done);
    } catch {
      say(texts.upload_failed);
    }
  };
}

async function sendDocument(c, file, documentType, identity) {
  const own = await json("/v1/vault/keys/me");
  const sealed = await sealBytes(new Uint8Array(await file.arrayBuffer()), [own.public_jwk], {
    filename: file.name.slice(-255),
    mediaType: file.type || "application/octet-stream",
  });
  const doc = await json("/v1/vault/documents", {
    method: "POST",
    headers: { "Content-Type": "application/octet-stream" },
    body: sealed,
  });
  const key = await json(`/v1/vault/authorities/${encodeURIComponent(c.authority)}/key`);
  const documentKey = await unlockHeader(await readHeader(sealed), identity);
  const stanza = await wrapFor(documentKey, key.jwk);
  await json(`/v1/vault/documents/${encodeURIComponent(doc.id)}/shares/${encodeURIComponent(c.authority)}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ stanza: b64Encode(stanza.encode()) }),
  });
  await json(`/v1/cases/${encodeURIComponent(c.id)}/documents`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ documents: [{ document_id: doc.id, document_type: documentType }] }),
  });
}

const list = document.getElementById("messages");
const article = document.getElementById("message");
(list ? showList(list) : showMessage(article)).catch(() => status(texts.failed));
