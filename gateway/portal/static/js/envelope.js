// The vault envelope, version 1, in the browser (specification: docs/envelope.md).
//
// Safe API:
//   sealStream(source, recipients, options) -> {documentId, stream, envelopeSize(n)}
//   sealBytes(data, recipients, options)    -> Uint8Array
//   openStream(source, identity, options)   -> {header, stream, metadata: Promise}
//   openBytes(envelope, identity, options)  -> {metadata, plaintext}
//   readHeader / unlockHeader / wrapFor     (sharing: a detached stanza for an authority)
// `source` is a Uint8Array, a Blob/File, a ReadableStream or an async iterable of
// Uint8Array; memory stays a few chunks whatever its size. Every failure to open raises
// InvalidEnvelope with one fixed message.

import { concat, equalBytes, fromUtf8, hexEncode, toBytes, utf8 } from "./b64url.js";
import { chunkNonce, release, sealSlices } from "./envelope-chunks.js";
import {
  DEK_LEN,
  InvalidEnvelope,
  Stanza,
  importRecipient,
  systemRandom,
  unwrap,
  wrap,
} from "./recipients.js";

export { InvalidEnvelope } from "./recipients.js";
export { release } from "./envelope-chunks.js";

export const MAGIC = utf8("OZGV");
export const VERSION = 1;
export const FIXED_LEN = 32;
export const MAC_LEN = 32;
export const TAG_LEN = 16;
export const NONCE_PREFIX_LEN = 7;
export const DEFAULT_CHUNK_SIZE = 65536;
export const MIN_CHUNK_SIZE = 4096;
export const MAX_CHUNK_SIZE = 1048576;
export const MAX_RECIPIENTS = 64;
export const METADATA_LEN = 4096;
export const TRAILER_LEN = METADATA_LEN + TAG_LEN;
export const DEFAULT_MAX_SIZE = 500_000_000;
export const MAX_FILENAME_CHARS = 255;
const IN_FLIGHT = 8; // chunks being encrypted at once while sealing on this thread
const MAX_WORKERS = 4;

const subtle = () => globalThis.crypto.subtle;

// ------------------------------------------------------------------------ sources
/** An async iterator of Uint8Array over any supported source. */
export async function* bytesOf(source) {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    yield toBytes(source);
  } else if (typeof Blob !== "undefined" && source instanceof Blob) {
    yield* bytesOf(source.stream());
  } else if (source && typeof source.getReader === "function") {
    const reader = source.getReader();
    let finished = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          finished = true;
          return;
        }
        yield toBytes(value);
      }
    } finally {
      // a consumer that stops early cancels the stream, as a ReadableStream's own async
      // iterator does: a sealing stream then ends its workers and drops its queue
      if (!finished) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  } else if (source && typeof source[Symbol.asyncIterator] === "function") {
    for await (const piece of source) yield toBytes(piece);
  } else if (source && typeof source[Symbol.iterator] === "function") {
    for (const piece of source) yield toBytes(piece);
  } else {
    throw new TypeError("source must be bytes, a Blob, a ReadableStream or an iterable of bytes");
  }
}

/** Reads exact amounts from an async iterator of byte pieces. */
class ByteReader {
  constructor(source) {
    this.it = bytesOf(source)[Symbol.asyncIterator]();
    this.pieces = [];
    this.have = 0;
    this.eof = false;
  }

  /** Up to `n` bytes into a new Uint8Array; fewer only at the end of the source. */
  async read(n) {
    while (this.have < n && !this.eof) {
      const { value, done } = await this.it.next();
      if (done) this.eof = true;
      else if (value.length) {
        this.pieces.push(value);
        this.have += value.length;
      }
    }
    const take = Math.min(n, this.have);
    const out = new Uint8Array(take);
    let o = 0;
    while (o < take) {
      const p = this.pieces[0];
      const k = Math.min(p.length, take - o);
      out.set(k === p.length ? p : p.subarray(0, k), o);
      o += k;
      if (k === p.length) this.pieces.shift();
      else this.pieces[0] = p.subarray(k);
    }
    this.have -= take;
    return out;
  }

  async exact(n) {
    const out = await this.read(n);
    if (out.length !== n) throw new InvalidEnvelope();
    return out;
  }
}

// ------------------------------------------------------------------------ format
function isValidChunkSize(c) {
  return Number.isInteger(c) && (c & (c - 1)) === 0 && c >= MIN_CHUNK_SIZE && c <= MAX_CHUNK_SIZE;
}

function fixedPart(documentId, chunkSize, noncePrefix) {
  const f = new Uint8Array(FIXED_LEN);
  f.set(MAGIC, 0);
  f[4] = VERSION;
  f.set(documentId, 5);
  new DataView(f.buffer).setUint32(21, chunkSize);
  f.set(noncePrefix, 25);
  return f;
}

export function uuidToString(b) {
  const h = hexEncode(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function uuidToBytes(text) {
  const h = String(text).replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new SyntaxError("not a UUID");
  return Uint8Array.from(h.match(/../g), (x) => parseInt(x, 16));
}

function unsignedHeader(fixed, stanzas) {
  const count = new Uint8Array(2);
  new DataView(count.buffer).setUint16(0, stanzas.length);
  return concat(fixed, count, ...stanzas.map((s) => s.encode()));
}

function metadataAad(fixed, chunks) {
  const aad = new Uint8Array(FIXED_LEN + 8);
  aad.set(fixed, 0);
  new DataView(aad.buffer).setBigUint64(FIXED_LEN, BigInt(chunks));
  return aad;
}

function maxChunks(maxSize, chunkSize) {
  return Math.min(2 ** 32, Math.max(1, Math.ceil(maxSize / chunkSize)));
}

/** The metadata record's plaintext: u16 len || JSON || zero padding to 4096 (§6). */
export function encodeMetadata({ filename, mediaType, size, contentHash = null }) {
  const json = JSON.stringify({
    content_hash: contentHash,
    filename,
    media_type: mediaType,
    size,
  });
  const doc = utf8(json);
  if (doc.length > METADATA_LEN - 2) throw new RangeError("metadata too long (filename or media type)");
  const out = new Uint8Array(METADATA_LEN);
  new DataView(out.buffer).setUint16(0, doc.length);
  out.set(doc, 2);
  return out;
}

export function decodeMetadata(plain) {
  const len = (plain[0] << 8) | plain[1];
  if (len > METADATA_LEN - 2) throw new InvalidEnvelope();
  for (let i = 2 + len; i < plain.length; i++) if (plain[i]) throw new InvalidEnvelope();
  let doc;
  try {
    doc = JSON.parse(fromUtf8(plain.subarray(2, 2 + len)));
  } catch {
    throw new InvalidEnvelope();
  }
  if (
    !doc || typeof doc !== "object" || Array.isArray(doc) ||
    typeof doc.filename !== "string" || typeof doc.media_type !== "string" ||
    !Number.isSafeInteger(doc.size) || doc.size < 0 ||
    !(doc.content_hash === null || typeof doc.content_hash === "string")
  ) {
    throw new InvalidEnvelope();
  }
  return { filename: doc.filename, media_type: doc.media_type, size: doc.size, content_hash: doc.content_hash };
}

/** The three keys of a document (§3), from its DEK and fixed header part. */
class DocumentKey {
  static async derive(dek, fixed) {
    const ikm = await subtle().importKey("raw", dek, "HKDF", false, ["deriveBits"]);
    const bits = (info) =>
      subtle().deriveBits({ name: "HKDF", hash: "SHA-256", salt: fixed, info: utf8(info) }, ikm, 256);
    const [p, m, h] = await Promise.all([
      bits("ozg-vault v1 payload"),
      bits("ozg-vault v1 metadata"),
      bits("ozg-vault v1 header"),
    ]);
    const k = new DocumentKey();
    k.dek = dek;
    k.fixed = fixed;
    k.payload = await subtle().importKey("raw", p, "AES-GCM", false, ["encrypt", "decrypt"]);
    k.metadata = await subtle().importKey("raw", m, "AES-GCM", false, ["encrypt", "decrypt"]);
    k.header = await subtle().importKey("raw", h, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return k;
  }

  async mac(unsigned) {
    return new Uint8Array(await subtle().sign("HMAC", this.header, unsigned));
  }
}

// ------------------------------------------------------------------------ header
/** Parse (without authenticating) the header at the start of `reader` (§7 step 1). */
async function parseHeader(reader) {
  const fixed = await reader.exact(FIXED_LEN);
  if (!equalBytes(fixed.subarray(0, 4), MAGIC) || fixed[4] !== VERSION) throw new InvalidEnvelope();
  const chunkSize = new DataView(fixed.buffer, fixed.byteOffset).getUint32(21);
  if (!isValidChunkSize(chunkSize)) throw new InvalidEnvelope();
  const countBytes = await reader.exact(2);
  const count = (countBytes[0] << 8) | countBytes[1];
  if (count < 1 || count > MAX_RECIPIENTS) throw new InvalidEnvelope();
  const stanzas = [];
  const raw = [];
  for (let i = 0; i < count; i++) {
    const head = await reader.exact(2);
    const kid = await reader.exact(head[1]);
    const lenBytes = await reader.exact(2);
    const body = await reader.exact((lenBytes[0] << 8) | lenBytes[1]);
    const bytes = concat(head, kid, lenBytes, body);
    raw.push(bytes);
    stanzas.push(Stanza.decode(bytes));
  }
  if (new Set(stanzas.map((s) => s.kid)).size !== stanzas.length) throw new InvalidEnvelope();
  const mac = await reader.exact(MAC_LEN);
  return {
    fixed,
    documentId: uuidToString(fixed.subarray(5, 21)),
    chunkSize,
    noncePrefix: fixed.slice(25, 32),
    stanzas,
    mac,
    unsigned: concat(fixed, countBytes, ...raw),
  };
}

/** The header of an envelope (unauthenticated): {documentId, chunkSize, stanzas, …}. */
export async function readHeader(source) {
  try {
    return await parseHeader(new ByteReader(source));
  } catch (e) {
    throw e instanceof InvalidEnvelope ? e : new InvalidEnvelope();
  }
}

/**
 * Unwrap the DEK for `identity` ({kid, privateKey}) from its stanza in the header, or from
 * `stanza` (a detached one: Stanza or its bytes), and verify the header MAC (§5).
 */
export async function unlockHeader(header, identity, stanza = null) {
  try {
    let s = stanza instanceof Stanza ? stanza : stanza ? Stanza.decode(stanza) : null;
    if (!s) s = header.stanzas.find((x) => x.kid === identity.kid) || null;
    if (!s || s.kid !== identity.kid) throw new InvalidEnvelope();
    const key = await DocumentKey.derive(await unwrap(s, identity), header.fixed);
    if (!equalBytes(await key.mac(header.unsigned), header.mac)) throw new InvalidEnvelope();
    return key;
  } catch {
    throw new InvalidEnvelope();
  }
}

/** A detached stanza giving `recipientJwk` access to the document (sharing, §4). */
export async function wrapFor(documentKey, recipientJwk, random = systemRandom) {
  return wrap(documentKey.dek, await importRecipient(recipientJwk), random);
}

// ------------------------------------------------------------------------ seal
/** The envelope's length for a header of `headerLen` bytes and `size` plaintext bytes. */
export function envelopeSize(headerLen, size, chunkSize = DEFAULT_CHUNK_SIZE) {
  const chunks = Math.max(1, Math.ceil(size / chunkSize));
  return headerLen + size + chunks * TAG_LEN + TRAILER_LEN;
}

/**
 * How many sealing workers sealStream starts for a Blob by default: one per core beyond two
 * (the page's thread and the browser's reading of the file keep two busy), at most four;
 * 0 (seal on the page's thread) on two cores or fewer, and where there are no workers.
 */
export function defaultWorkers() {
  if (typeof Worker === "undefined" || typeof Blob === "undefined") return 0;
  const cores = globalThis.navigator?.hardwareConcurrency || 2;
  return Math.min(MAX_WORKERS, Math.max(0, cores - 2));
}

/**
 * Seal `source` for `recipients` (public JWKs: P-256 or RSA). Returns
 * `{documentId, header, stream, envelopeSize(size)}` where `stream` is a ReadableStream of
 * the envelope's bytes, produced as it is read (backpressure: a consumer that reads slowly
 * keeps memory at a few chunks; one that is done with a piece may free it at once with
 * `release(piece)`, each piece is its own). A Blob/File is read in slices of 4 MiB, each
 * sealed at once, on this thread or by `workers` Web Workers in parallel (envelope-worker.js,
 * one slice each in flight and one more); any other source is sealed as it streams.
 * Options: filename, mediaType (required), contentHash ("sha-256:<hex>" of exactly the bytes
 * sealed, or null, or a promise of either: it is needed only for the metadata record at the
 * end), size (if known: a source of another length fails), chunkSize, maxSize, workers
 * (default `defaultWorkers()`),
 * random (tests), onProgress(bytes).
 */
export async function sealStream(source, recipients, options) {
  const {
    filename,
    mediaType,
    contentHash = null,
    size = null,
    chunkSize = DEFAULT_CHUNK_SIZE,
    maxSize = DEFAULT_MAX_SIZE,
    workers = defaultWorkers(),
    random = systemRandom,
    onProgress = null,
  } = options || {};
  if (!Array.isArray(recipients) || recipients.length < 1 || recipients.length > MAX_RECIPIENTS) {
    throw new RangeError(`an envelope needs 1..${MAX_RECIPIENTS} recipients`);
  }
  if (!isValidChunkSize(chunkSize)) throw new RangeError("chunk size must be a power of two in 4 KiB..1 MiB");
  if (typeof filename !== "string" || !filename || [...filename].length > MAX_FILENAME_CHARS) {
    throw new RangeError(`filename must have 1..${MAX_FILENAME_CHARS} characters`);
  }
  if (typeof mediaType !== "string") throw new TypeError("mediaType is required");
  checkContentHash(contentHash);
  if (size !== null && !(Number.isSafeInteger(size) && size >= 0 && size <= maxSize)) {
    throw new RangeError(`document larger than the limit of ${maxSize} bytes`);
  }
  const early = typeof contentHash === "string" ? contentHash : null;
  encodeMetadata({ filename, mediaType, size: maxSize, contentHash: early }); // fail early if too long
  if (contentHash !== null && typeof contentHash !== "string") contentHash.catch(() => {}); // awaited at the end
  const imported = await Promise.all(recipients.map((r) => importRecipient(r)));
  const dek = toBytes(random(DEK_LEN)).slice();
  const docId = toBytes(random(16)).slice();
  docId[6] = (docId[6] & 0x0f) | 0x40; // UUID version 4
  docId[8] = (docId[8] & 0x3f) | 0x80; // RFC 4122 variant
  const prefix = toBytes(random(NONCE_PREFIX_LEN)).slice();
  const fixed = fixedPart(docId, chunkSize, prefix);
  const key = await DocumentKey.derive(dek, fixed);
  const stanzas = [];
  for (const r of imported) stanzas.push(await wrap(dek, r, random)); // in order: vectors
  if (new Set(stanzas.map((s) => s.kid)).size !== stanzas.length) throw new RangeError("duplicate recipient");
  const unsigned = unsignedHeader(fixed, stanzas);
  const header = concat(unsigned, await key.mac(unsigned));
  const limit = maxChunks(maxSize, chunkSize);
  const tooLarge = () => new RangeError(`document larger than the limit of ${maxSize} bytes`);
  const changed = () => new RangeError("the source changed size while it was being sealed");

  async function metadataRecord(total, chunks) {
    const hash = await contentHash;
    checkContentHash(hash);
    const plain = encodeMetadata({ filename, mediaType, contentHash: hash, size: total });
    return new Uint8Array(await subtle().encrypt(
      { name: "AES-GCM", iv: new Uint8Array(12), additionalData: metadataAad(fixed, chunks) }, key.metadata, plain));
  }

  async function* here() {
    const reader = new ByteReader(source);
    const inFlight = []; // promises of records, in order
    let index = 0;
    let total = 0;
    let pending = await reader.read(chunkSize);
    for (;;) {
      const next = pending.length === chunkSize ? await reader.read(chunkSize) : new Uint8Array(0);
      const final = next.length === 0;
      total += pending.length;
      if (total > maxSize || index >= limit) throw tooLarge();
      if (size !== null && (total > size || (final && total !== size))) throw changed();
      if (onProgress && pending.length) onProgress(pending.length);
      const record = subtle().encrypt(
        { name: "AES-GCM", iv: chunkNonce(prefix, index, final), additionalData: fixed }, key.payload, pending);
      release(pending); // encrypt took its copy (ByteReader's buffers are its own)
      inFlight.push(record.then((ct) => new Uint8Array(ct)));
      index += 1;
      while (inFlight.length >= (final ? 1 : IN_FLIGHT)) yield await inFlight.shift();
      if (final) break;
      pending = next;
    }
    yield await metadataRecord(total, index);
  }

  async function* inSlices() {
    const total = source.size;
    if (size !== null && size !== total) throw changed();
    if (total > maxSize) throw tooLarge();
    const chunks = Math.max(1, Math.ceil(total / chunkSize));
    if (chunks > limit) throw tooLarge();
    yield* sealSlices({ key: key.payload, fixed, prefix, blob: source, chunkSize, chunks }, workers, onProgress);
    yield await metadataRecord(total, chunks);
  }

  async function* records() {
    yield header.slice(); // the caller's to release; `header` stays intact
    yield* typeof Blob !== "undefined" && source instanceof Blob ? inSlices() : here();
  }

  return {
    documentId: uuidToString(docId),
    header,
    stream: iteratorStream(records()),
    envelopeSize: (n) => envelopeSize(header.length, n, chunkSize),
  };
}

function checkContentHash(hash) {
  if (hash === null || typeof hash === "string" || typeof hash?.then === "function") return;
  throw new TypeError("contentHash must be a string, null or a promise of either");
}

/** A ReadableStream pulling from an async iterator (one piece per pull: backpressure). */
export function iteratorStream(iterator) {
  return new ReadableStream({
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  }, { highWaterMark: 0 });
}

/** Read a whole stream into one Uint8Array (tests and small documents). */
export async function collect(stream) {
  const parts = [];
  for await (const piece of bytesOf(stream)) parts.push(piece);
  return concat(...parts);
}

export async function sealBytes(data, recipients, options) {
  const { stream } = await sealStream(toBytes(data), recipients, options);
  return collect(stream);
}

// ------------------------------------------------------------------------ open
/**
 * Open the envelope in `source` for `identity` ({kid, privateKey}, see keys.js). Returns
 * `{header, stream, metadata}`: `stream` yields plaintext chunk by chunk as each chunk's
 * tag verifies; `metadata` resolves after the last byte (reject: discard what was read).
 * Options: stanza (a detached stanza), maxSize, checkContentHash (verifies a "sha-256:"
 * content_hash incrementally; needs createSha256, e.g. from keys.js's hash-wasm).
 */
export async function openStream(source, identity, options = {}) {
  const { stanza = null, maxSize = DEFAULT_MAX_SIZE, createSha256 = null } = options;
  const reader = new ByteReader(source);
  let header;
  let key;
  try {
    header = await parseHeader(reader);
    key = await unlockHeader(header, identity, stanza);
  } catch {
    throw new InvalidEnvelope();
  }
  let settle;
  const metadata = new Promise((resolve, reject) => (settle = { resolve, reject }));
  metadata.catch(() => {}); // the stream's error is what callers see first

  async function* chunks() {
    const record = header.chunkSize + TAG_LEN;
    const need = record + TRAILER_LEN + 1; // more than this many left: not the last chunk
    const limit = maxChunks(maxSize, header.chunkSize);
    const hasher = createSha256 ? await createSha256() : null;
    let buf = await reader.read(need);
    let index = 0;
    let written = 0;
    for (;;) {
      const final = buf.length < need;
      const length = final ? buf.length - TRAILER_LEN : record;
      if (index >= limit || length < TAG_LEN || (final && length === TAG_LEN && index > 0)) throw new InvalidEnvelope();
      let plain;
      try {
        plain = new Uint8Array(await subtle().decrypt(
          { name: "AES-GCM", iv: chunkNonce(header.noncePrefix, index, final), additionalData: header.fixed },
          key.payload, buf.subarray(0, length)));
      } catch {
        throw new InvalidEnvelope();
      }
      written += plain.length;
      if (written > maxSize) throw new InvalidEnvelope();
      if (hasher) hasher.update(plain);
      index += 1;
      if (final) {
        let metaPlain;
        try {
          metaPlain = new Uint8Array(await subtle().decrypt(
            { name: "AES-GCM", iv: new Uint8Array(12), additionalData: metadataAad(header.fixed, index) },
            key.metadata, buf.subarray(length)));
        } catch {
          throw new InvalidEnvelope();
        }
        const meta = decodeMetadata(metaPlain);
        if (meta.size !== written) throw new InvalidEnvelope();
        if (hasher && typeof meta.content_hash === "string" && meta.content_hash.startsWith("sha-256:")) {
          if (meta.content_hash !== "sha-256:" + hasher.digest("hex")) throw new InvalidEnvelope();
        }
        if (plain.length) yield plain;
        settle.resolve(meta);
        return;
      }
      if (plain.length) yield plain;
      const more = await reader.read(record);
      const rest = buf.subarray(record);
      buf = more.length ? concat(rest, more) : rest;
    }
  }

  async function* guarded() {
    try {
      yield* chunks();
    } catch (e) {
      const err = e instanceof InvalidEnvelope ? e : new InvalidEnvelope();
      settle.reject(err);
      throw err;
    }
  }

  return {
    header: { documentId: header.documentId, chunkSize: header.chunkSize, stanzas: header.stanzas },
    stream: iteratorStream(guarded()),
    metadata,
  };
}

export async function openBytes(envelope, identity, options = {}) {
  const opened = await openStream(toBytes(envelope), identity, options);
  const plaintext = await collect(opened.stream);
  return { metadata: await opened.metadata, plaintext };
}
