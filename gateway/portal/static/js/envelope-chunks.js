// The payload chunks of the vault envelope (docs/envelope.md §5), shared by envelope.js and
// the sealing workers (envelope-worker.js): chunk i of n is AES-256-GCM under the payload key
// with nonce prefix || u32be(i) || final flag, the fixed header part as associated data. The
// chunks are independent, so a Blob is sealed in slices of JOB_BYTES (sealSlices): on the
// page's thread, or by a pool of workers, the records put back in order.

const TAG_LEN = 16;
const JOB_BYTES = 4194304; // plaintext read in one slice and sealed at once

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

/**
 * One sealing job (`job`: {key, fixed, prefix, blob, chunkSize, chunks}): read the chunks
 * `first` .. `first + count - 1` of the Blob in one slice and seal them (sealChunks).
 */
export async function sealSlice(job, first, count) {
  const start = first * job.chunkSize;
  const end = Math.min(start + count * job.chunkSize, job.blob.size);
  const plain = new Uint8Array(await job.blob.slice(start, end).arrayBuffer());
  if (plain.length !== end - start) throw new RangeError("the source changed size while it was being sealed");
  const records = await sealChunks(job.key, job.fixed, job.prefix, plain, first, job.chunkSize, job.chunks);
  release(plain);
  return records;
}

/** Seals jobs on this thread: {seal(first, count) -> Promise of records, end()}. */
function pageSealer(job) {
  return { seal: (first, count) => sealSlice(job, first, count), end() {} };
}

/** Seals jobs in a pool of `count` workers, each given the next job in turn. */
function workerSealer(job, count) {
  const pool = [];
  const waiting = new Map(); // job id -> {resolve, reject}
  let broken = null;
  let id = 0;
  const fail = (error) => {
    broken = error;
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  for (let i = 0; i < count; i++) {
    const worker = new Worker(new URL("./envelope-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      const settle = waiting.get(data.id);
      waiting.delete(data.id);
      if (!settle) return;
      if (data.records) settle.resolve(data.records);
      else settle.reject(data.range ? new RangeError(data.error) : new Error(data.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      fail(new Error("a sealing worker failed"));
    };
    worker.onmessageerror = () => fail(new Error("a sealing worker failed"));
    worker.postMessage(job);
    pool.push(worker);
  }
  return {
    seal(first, n) {
      const mine = id++;
      const records = new Promise((resolve, reject) => {
        if (broken) reject(broken);
        else waiting.set(mine, { resolve, reject });
      });
      pool[mine % count].postMessage({ id: mine, first, count: n });
      return records;
    },
    end() {
      for (const worker of pool) worker.terminate();
    },
  };
}

/**
 * The chunk records of `job.blob` ({key, fixed, prefix, blob, chunkSize, chunks}), sealed in
 * jobs of JOB_BYTES by `workers` workers (0: on this thread), yielded in order.
 */
export async function* sealSlices(job, workers, onProgress) {
  const sealer = workers > 0 ? workerSealer(job, workers) : pageSealer(job);
  const perJob = Math.max(1, Math.floor(JOB_BYTES / job.chunkSize));
  const ahead = workers > 0 ? workers + 1 : 2; // one per worker and one more, or one read while one seals
  const queue = [];
  let first = 0;
  try {
    while (first < job.chunks || queue.length) {
      while (queue.length < ahead && first < job.chunks) {
        const n = Math.min(perJob, job.chunks - first);
        const records = Promise.resolve(sealer.seal(first, n));
        records.catch(() => {}); // awaited in order below; a later one may fail first
        queue.push({ records, plain: Math.min(n * job.chunkSize, job.blob.size - first * job.chunkSize) });
        first += n;
      }
      const { records, plain } = queue.shift();
      const bytes = await records;
      if (onProgress && plain) onProgress(plain);
      yield bytes;
    }
  } finally {
    sealer.end();
  }
}
