// The payload chunks of the vault envelope (docs/envelope.md §5), shared by envelope.js and
// the sealing workers (envelope-worker.js): chunk i of n is AES-256-GCM under the payload key
// with nonce prefix || u32be(i) || final flag, the fixed header part as associated data.

const TAG_LEN = 16;

export function chunkNonce(prefix, index, final) {
  const n = new Uint8Array(12);
  n.set(prefix, 0);
  new DataView(n.buffer).setUint32(7, index);
  n[11] = final ? 1 : 0;
  return n;
}

/**
 * Free the memory of `bytes` (a Uint8Array or ArrayBuffer that only the caller holds) now,
 * by detaching its ArrayBuffer, instead of at V8's next major collection. Every WebCrypto
 * call returns a fresh ArrayBuffer; left to the collector, a 200 MiB seal piles up about
 * 64 MiB of them before V8 looks. A view into a larger buffer is left alone.
 */
export function release(bytes) {
  const buffer = bytes instanceof ArrayBuffer ? bytes : bytes?.buffer;
  if (!(buffer instanceof ArrayBuffer) || typeof buffer.transfer !== "function" || buffer.detached) return;
  if (bytes instanceof ArrayBuffer || (bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength)) {
    buffer.transfer(0);
  }
}

/**
 * Seal `plain` as the chunks `first`, `first + 1`, … (each `chunkSize` bytes, the last one
 * possibly shorter) of a document of `chunks` chunks; returns their records back to back in
 * one buffer. All chunks are encrypted at once (WebCrypto runs them on this thread in turn).
 */
export async function sealChunks(key, fixed, prefix, plain, first, chunkSize, chunks) {
  const count = Math.max(1, Math.ceil(plain.length / chunkSize));
  const out = new Uint8Array(plain.length + count * TAG_LEN);
  const records = [];
  for (let i = 0; i < count; i++) {
    const index = first + i;
    records.push(globalThis.crypto.subtle.encrypt(
      { name: "AES-GCM", iv: chunkNonce(prefix, index, index === chunks - 1), additionalData: fixed },
      key,
      plain.subarray(i * chunkSize, (i + 1) * chunkSize),
    ));
  }
  let o = 0;
  for (const pending of records) {
    const record = new Uint8Array(await pending);
    out.set(record, o);
    o += record.length;
    release(record);
  }
  return out;
}
