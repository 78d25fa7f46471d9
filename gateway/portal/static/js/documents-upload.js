// The upload on /documents: the file is sanitized here (documents-sanitize.js; the user sees
// what was removed and confirms), then sealed while it is sent (envelope.js
// sealStream, to the applicant's own key) and sent in pieces through the resumable upload API
// (docs/vault.md "Chunked uploads"): POST /v1/vault/uploads {size} → PUT each piece with
// Upload-Offset → POST …/finish. A piece stays in memory until the server acknowledged it;
// after a broken connection the page asks the server where to resume (GET) and sends again
// from there, so memory stays at about one piece whatever the file's size.
import { api } from "./session.js";
import { sha256Hasher } from "./keys.js";
import { bytesOf, release, sealStream } from "./envelope.js";
import { $, format, showError, showStatus, texts } from "./documents-ui.js";
import { currentIdentity, refresh } from "./documents-list.js";
import { SanitizeError, sanitizeFile } from "./documents-sanitize.js";

export const PIECE = 4 * 1024 * 1024; // bytes per PUT (the server allows up to chunk_bytes)
const RETRIES = [500, 1000, 2000, 4000, 8000]; // ms before each new attempt

class UploadRefused extends Error {
  constructor(status, problem) {
    super(problem?.detail || `upload refused (${status})`);
    this.status = status;
    this.problem = problem;
  }
}

async function json(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new UploadRefused(response.status, body);
  return body;
}

/** The content hash of a file ("sha-256:<hex>"), read as a stream (each piece freed once hashed). */
async function contentHash(file) {
  const hasher = await sha256Hasher();
  for await (const piece of bytesOf(file)) {
    hasher.update(piece);
    release(piece);
  }
  return hasher.digest();
}

/**
 * Pieces of exactly `size` bytes (the last one shorter) from the sealed stream, in one
 * buffer that is refilled: the caller is done with a piece (fetch copied it) before it asks
 * for the next. Each record of the stream is freed as soon as it was copied.
 */
async function* pieces(stream, size) {
  const buf = new Uint8Array(size);
  let fill = 0;
  for await (const record of bytesOf(stream)) {
    let data = record;
    while (data.length) {
      const take = Math.min(size - fill, data.length);
      buf.set(data.subarray(0, take), fill);
      fill += take;
      data = data.subarray(take);
      if (fill === size) {
        yield buf;
        fill = 0;
      }
    }
    release(record);
  }
  if (fill) yield buf.subarray(0, fill);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Send `piece` at `offset`, resuming after broken connections; returns the new offset. */
async function sendPiece(upload, piece, offset, onRetry) {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await api(`/v1/vault/uploads/${upload.id}`, {
        method: "PUT",
        headers: { "Content-Type": "application/octet-stream", "Upload-Offset": String(offset) },
        body: piece,
      });
      return (await json(response)).offset;
    } catch (e) {
      if (e instanceof UploadRefused && e.status !== 409) throw e;
      if (attempt >= RETRIES.length) throw e;
      onRetry();
      await sleep(RETRIES[attempt]);
      try {
        const state = await json(await api(`/v1/vault/uploads/${upload.id}`));
        if (state.offset === offset + piece.length) return state.offset; // it did arrive
        if (state.offset !== offset) throw new UploadRefused(409, null);
      } catch (probe) {
        if (probe instanceof UploadRefused) throw probe;
      }
    }
  }
}

/**
 * What will be sealed for `file`: PDFs, JPEGs and PNGs sanitized here (documents-sanitize.js:
 * PDFs in memory up to MAX_PDF_BYTES, images streamed at any size), other files as they are.
 * Returns {blob, name, mediaType, removed} (`removed`: {label: count}, or null for a type that
 * is not checked); throws SanitizeError.
 */
export async function prepare(file) {
  const name = file.name.slice(-255) || "document";
  const clean = await sanitizeFile(file);
  if (clean === null) return { blob: file, name, mediaType: file.type || "application/octet-stream", removed: null };
  return { blob: clean.blob, name, mediaType: clean.mediaType, removed: clean.removed };
}

/**
 * Seal `prepared` ({blob, name, mediaType}, see prepare) for `identity` and upload it.
 * `onProgress({sent, total})` after each piece; resolves to the stored document.
 */
export async function uploadFile(prepared, identity, { onProgress = () => {}, onRetry = () => {}, pieceSize = PIECE } = {}) {
  const { blob, name, mediaType } = prepared;
  const sealed = await sealStream(blob, [identity.publicJwk], {
    filename: name,
    mediaType,
    contentHash: contentHash(blob), // read alongside the sealing workers; needed at the end
    size: blob.size,
  });
  const total = sealed.envelopeSize(blob.size);
  const upload = await json(await api("/v1/vault/uploads", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ size: total }),
  }));
  const size = Math.min(pieceSize, upload.piece_bytes);
  let offset = 0;
  try {
    for await (const piece of pieces(sealed.stream, size)) {
      offset = await sendPiece(upload, piece, offset, onRetry);
      onProgress({ sent: offset, total });
    }
    return await json(await api(`/v1/vault/uploads/${upload.id}/finish`, { method: "POST" }));
  } catch (e) {
    await api(`/v1/vault/uploads/${upload.id}`, { method: "DELETE" }).catch(() => {});
    throw e;
  }
}

function progressText(sent, total, started) {
  const percent = Math.floor((sent / total) * 100);
  const elapsed = (performance.now() - started) / 1000;
  const left = sent ? Math.max(0, Math.round((elapsed / sent) * (total - sent))) : null;
  const parts = [format(texts.percent, { percent })];
  if (left !== null && sent < total) parts.push(format(texts.timeLeft, { seconds: left }));
  return { percent, text: parts.join(", ") };
}

function removedText(label, count) {
  let text = texts[`removed:${label}`];
  const action = /^(\w+) action$/.exec(label);
  const png = /^PNG (.{4}) chunk$/.exec(label);
  if (!text && action) text = format(texts["removed:action"], { kind: action[1] });
  if (!text && png) text = format(texts["removed:png"], { kind: png[1] });
  return `${text || label}: ${count}`;
}

/** Show what sanitizing removed and wait for the user's answer (true: upload). */
function confirmReport(prepared) {
  const list = $("sanitize-list");
  list.replaceChildren();
  const removed = prepared.removed ? Object.entries(prepared.removed) : [];
  const lines = removed.map(([label, count]) => removedText(label, count));
  for (const line of lines.sort((a, b) => a.localeCompare(b, document.documentElement.lang))) {
    const item = document.createElement("li");
    item.textContent = line;
    list.append(item);
  }
  $("sanitize-summary").textContent =
    prepared.removed === null ? texts["sanitize-unchecked"] : removed.length ? texts["sanitize-removed"] : texts["sanitize-nothing"];
  $("sanitize-report").hidden = false;
  $("sanitize-heading").focus();
  return new Promise((resolve) => {
    const answer = (value) => () => {
      $("sanitize-report").hidden = true;
      $("sanitize-confirm").onclick = $("sanitize-cancel").onclick = null;
      resolve(value);
    };
    $("sanitize-confirm").onclick = answer(true);
    $("sanitize-cancel").onclick = answer(false);
  });
}

async function submit(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  const identity = currentIdentity();
  if (!file || !identity) return;
  $("upload-start").disabled = true;
  showStatus("");
  try {
    let prepared;
    try {
      prepared = await prepare(file);
    } catch (e) {
      showError(e instanceof SanitizeError ? texts[`sanitize-${e.code}`] || texts.failed : texts.failed);
      return;
    }
    if (!(await confirmReport(prepared))) {
      $("upload-start").focus();
      return;
    }
    await send(prepared, identity);
  } finally {
    $("upload-start").disabled = false;
  }
}

async function send(prepared, identity) {
  const bar = $("upload-bar");
  const started = performance.now();
  $("upload-progress").hidden = false;
  bar.value = 0;
  $("upload-progress-text").textContent = progressText(0, 1, started).text;
  try {
    await uploadFile(prepared, identity, {
      onProgress: ({ sent, total }) => {
        const p = progressText(sent, total, started);
        bar.value = p.percent;
        $("upload-progress-text").textContent = p.text;
      },
      onRetry: () => ($("upload-progress-text").textContent = texts.retrying),
    });
    $("upload-form").reset();
    $("upload-progress").hidden = true;
    showStatus(texts.uploaded);
    await refresh();
  } catch (e) {
    $("upload-progress").hidden = true;
    const type = e.problem?.type || "";
    showError(type.endsWith("quota-exceeded") ? texts.quota : e.status === 413 ? texts.tooLarge : texts.failed);
  }
}

export function setUpUpload() {
  $("upload-form").addEventListener("submit", submit);
}
