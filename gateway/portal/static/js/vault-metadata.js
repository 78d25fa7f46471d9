// The metadata-only read (docs/envelope.md §13, "ozg-vault metadata v1"): a document's
// header and metadata record, never its content, from GET /v1/vault/documents/metadata (a
// page of the caller's documents) or GET /v1/vault/documents/{id}/metadata (one). The
// name, type and size are decrypted here; the server records one
// vault.document.metadata_read per document. What vault/client/sdk.py does for the CLI.
// The fetches take the page's `api` (session.js), so that the module also runs in Node.
import { b64Decode } from "./b64url.js";
import { InvalidEnvelope, MAC_LEN, TAG_LEN, TRAILER_LEN, decodeMetadata, readHeader, unlockHeader } from "./envelope.js";

export const METADATA_FORMAT = "ozg-vault metadata v1";
const PAGE = 100; // the server's largest page

function decoded(item) {
  try {
    if (item.format !== METADATA_FORMAT || typeof item.id !== "string") throw new InvalidEnvelope();
    if (!Number.isSafeInteger(item.envelope_size)) throw new InvalidEnvelope();
    return {
      id: item.id.toLowerCase(),
      envelopeSize: item.envelope_size,
      header: b64Decode(item.header),
      record: b64Decode(item.metadata_record),
      stanza: item.stanza === null ? null : b64Decode(item.stanza),
    };
  } catch {
    throw new InvalidEnvelope();
  }
}

/** The item's header, parsed: exactly one header, of the document the item names (§13). */
async function headerOf(parts) {
  const header = await readHeader(parts.header);
  if (header.unsigned.length + MAC_LEN !== parts.header.length || header.documentId !== parts.id) {
    throw new InvalidEnvelope();
  }
  return header;
}

/** The number of chunks an envelope of `size` bytes has after a header of `headerLen` (§7). */
function chunksOf(header, headerLen, size) {
  const body = size - headerLen - TRAILER_LEN;
  const record = header.chunkSize + TAG_LEN;
  if (body < TAG_LEN) throw new InvalidEnvelope();
  let full = Math.floor(body / record);
  let last = body % record;
  if (last === 0) {
    full -= 1;
    last = record;
  }
  if (last < TAG_LEN || (last === TAG_LEN && full > 0)) throw new InvalidEnvelope();
  return full + 1;
}

/** The document key of an item (its header checked and its MAC verified), for sharing. */
export async function documentKeyOf(item, me) {
  const parts = decoded(item);
  return unlockHeader(await headerOf(parts), me, parts.stanza);
}

/** The decrypted metadata {filename, media_type, size, content_hash} of an item (§6, §13). */
export async function openMetadataItem(item, me) {
  const parts = decoded(item);
  const header = await headerOf(parts);
  const key = await unlockHeader(header, me, parts.stanza);
  if (parts.record.length !== TRAILER_LEN) throw new InvalidEnvelope();
  const chunks = chunksOf(header, parts.header.length, parts.envelopeSize);
  const aad = new Uint8Array(header.fixed.length + 8);
  aad.set(header.fixed, 0);
  new DataView(aad.buffer).setBigUint64(header.fixed.length, BigInt(chunks));
  let plain;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: new Uint8Array(12), additionalData: aad }, key.metadata, parts.record);
  } catch {
    throw new InvalidEnvelope();
  }
  return decodeMetadata(new Uint8Array(plain));
}

/** Every item of the caller's documents, page by page: a Map from document id to item. */
export async function fetchAllMetadata(api) {
  const items = new Map();
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: String(PAGE), ...(cursor ? { cursor } : {}) });
    const response = await api(`/v1/vault/documents/metadata?${query}`);
    if (!response.ok) throw new Error("metadata " + response.status);
    const page = await response.json();
    for (const item of page.documents) items.set(item.id, item);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** The item of one document, or null (deleted, not the caller's). */
export async function fetchMetadata(api, id) {
  const response = await api(`/v1/vault/documents/${encodeURIComponent(id)}/metadata`);
  return response.ok ? response.json() : null;
}
