// A sealing worker (envelope.js sealStream over a Blob): reads its share of the file and
// seals those chunks (envelope-chunks.js), so that reading and AES-GCM run on every core.
// Messages: {key, fixed, prefix, blob, chunkSize, chunks} once, then {id, first, count};
// answers {id, records} (transferred) or {id, error}.
import { release, sealChunks } from "./envelope-chunks.js";

let job = null;

self.onmessage = async ({ data }) => {
  if (data.blob) {
    job = data;
    return;
  }
  const { id, first, count } = data;
  try {
    const start = first * job.chunkSize;
    const end = Math.min(start + count * job.chunkSize, job.blob.size);
    const plain = new Uint8Array(await job.blob.slice(start, end).arrayBuffer());
    if (plain.length !== end - start) throw new RangeError("the source changed size while it was being sealed");
    const records = await sealChunks(job.key, job.fixed, job.prefix, plain, first, job.chunkSize, job.chunks);
    release(plain);
    self.postMessage({ id, records }, [records.buffer]);
  } catch (e) {
    const range = e instanceof RangeError;
    self.postMessage({ id, range, error: range ? e.message : "the file could not be read" });
  }
};
