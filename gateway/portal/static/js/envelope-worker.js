// A sealing worker (envelope.js sealStream over a Blob): reads its share of the file and
// seals those chunks (envelope-chunks.js sealSlice), so that reading and AES-GCM can run on
// more cores than the page's. Messages: {key, fixed, prefix, blob, chunkSize, chunks} once,
// then {id, first, count}; answers {id, records} (transferred) or {id, error, range}.
import { sealSlice } from "./envelope-chunks.js";

let job = null;

self.onmessage = async ({ data }) => {
  if (data.blob) {
    job = data;
    return;
  }
  const { id, first, count } = data;
  try {
    const records = await sealSlice(job, first, count);
    self.postMessage({ id, records }, [records.buffer]);
  } catch (e) {
    const range = e instanceof RangeError;
    self.postMessage({ id, range, error: range ? e.message : "the file could not be read" });
  }
};
