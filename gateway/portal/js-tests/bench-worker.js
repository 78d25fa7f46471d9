// The benchmark's WebCrypto-only stage in a worker (benchmarks/bench_browser_seal.py): seals
// `jobs` jobs of 16 chunks of 64 KiB from one buffer in memory (no file read), as
// envelope-worker.js seals a job of the file. Not served by the portal.
import { release, sealChunks } from "../static/js/envelope-chunks.js";

self.onmessage = async ({ data: { jobs, chunkSize } }) => {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  const plain = crypto.getRandomValues(new Uint8Array(16 * chunkSize).subarray(0, 65536)).buffer;
  const job = new Uint8Array(plain);
  const fixed = new Uint8Array(32);
  const prefix = new Uint8Array(7);
  for (let i = 0; i < jobs; i++) release(await sealChunks(key, fixed, prefix, job, i * 16, chunkSize, jobs * 16));
  self.postMessage("done");
};
