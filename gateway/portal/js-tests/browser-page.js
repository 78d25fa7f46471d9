// The test page's glue: exposes the modules to Playwright (tests/gateway/portal/
// test_crypto_browser.py, benchmarks/bench_browser_seal.py). Not served by the portal.
import { hexDecode, hexEncode } from "../static/js/b64url.js";
import * as envelope from "../static/js/envelope.js";
import * as keys from "../static/js/keys.js";
import { identityFromPkcs8 } from "../static/js/recipients.js";

const store = new keys.IndexedDbKeyStore("ozg-vault-test");

window.ozgTest = {
  async seal(plainHex, jwk) {
    const env = await envelope.sealBytes(hexDecode(plainHex), [jwk], { filename: "Übersicht.pdf", mediaType: "application/pdf" });
    return hexEncode(env);
  },
  async open(envHex, pkcs8Hex) {
    const identity = await identityFromPkcs8(hexDecode(pkcs8Hex));
    const { metadata, plaintext } = await envelope.openBytes(hexDecode(envHex), identity, { createSha256: keys.createSHA256 });
    return { metadata, plainHex: hexEncode(plaintext) };
  },
  async createAndStore(passphrase, params) {
    const made = await keys.createVaultKey(passphrase, { params });
    await store.put("vault-key", made.identity);
    return { kid: made.kid, register: made.register, recoveryCode: made.recoveryCode };
  },
  async openWithStored(envHex) {
    const identity = await keys.unlocked(store);
    let exported = "refused";
    try {
      await crypto.subtle.exportKey("pkcs8", identity.privateKey);
      exported = "exported";
    } catch {}
    const { metadata, plaintext } = await envelope.openBytes(hexDecode(envHex), identity);
    return { kid: identity.kid, extractable: identity.privateKey.extractable, exported, metadata, plainHex: hexEncode(plaintext) };
  },
  async lock() {
    await keys.lock(store);
    return (await keys.unlocked(store)) === null;
  },
  async sealFile(jwk, workers) {
    const file = document.getElementById("file").files[0];
    const sealed = await envelope.sealStream(file, [jwk], { filename: file.name, mediaType: "image/png", size: file.size, workers });
    return hexEncode(await envelope.collect(sealed.stream));
  },
  // The benchmark: seal the chosen file, discard the output, sample the JS heap.
  async benchSeal(jwk, chunkSize = 65536, workers = undefined) {
    const file = document.getElementById("file").files[0];
    const peak = { heap: 0 };
    const sample = () => {
      const used = performance.memory ? performance.memory.usedJSHeapSize : 0;
      if (used > peak.heap) peak.heap = used;
    };
    const timer = setInterval(sample, 20);
    const t0 = performance.now();
    const sealed = await envelope.sealStream(file, [jwk], { filename: file.name, mediaType: "image/png", size: file.size, chunkSize, workers });
    let total = 0;
    let n = 0;
    await sealed.stream.pipeTo(new WritableStream({
      write(chunk) {
        total += chunk.length;
        envelope.release(chunk); // as the upload does once a piece is copied
        if (++n % 16 === 0) sample();
      },
    }));
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(timer);
    sample();
    return { seconds, total, size: file.size, heapPeak: peak.heap, expected: sealed.envelopeSize(file.size) };
  },
  // The benchmark's stages over the chosen file's size: reading the file alone (4 MiB
  // slices, `inFlight` at once, as sealStream reads a File) and AES-GCM alone over bytes in
  // memory (64 KiB chunks: on this thread 8 in flight, or in `workers` workers).
  async benchRead(inFlight) {
    const file = document.getElementById("file").files[0];
    const t0 = performance.now();
    const queue = [];
    let offset = 0;
    let total = 0;
    while (offset < file.size || queue.length) {
      while (queue.length < inFlight && offset < file.size) {
        queue.push(file.slice(offset, offset + 4194304).arrayBuffer());
        offset += 4194304;
      }
      const piece = await queue.shift();
      total += piece.byteLength;
      envelope.release(piece);
    }
    return { seconds: (performance.now() - t0) / 1000, total };
  },
  async benchCrypto(workers, chunkSize = 65536) {
    const size = document.getElementById("file").files[0].size;
    const jobs = Math.ceil(size / (16 * chunkSize));
    const t0 = performance.now();
    if (workers > 0) {
      const pool = Array.from({ length: workers }, () => new Worker(new URL("./bench-worker.js", import.meta.url), { type: "module" }));
      await Promise.all(pool.map((w, i) => new Promise((resolve) => {
        w.onmessage = resolve;
        w.postMessage({ jobs: Math.floor(jobs / workers) + (i < jobs % workers ? 1 : 0), chunkSize });
      })));
      pool.forEach((w) => w.terminate());
    } else {
      const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
      const chunk = crypto.getRandomValues(new Uint8Array(chunkSize));
      const iv = new Uint8Array(12);
      const queue = [];
      let issued = 0;
      const count = jobs * 16;
      while (issued < count || queue.length) {
        while (queue.length < 8 && issued < count) {
          queue.push(crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: iv }, key, chunk));
          issued += 1;
        }
        envelope.release(await queue.shift());
      }
    }
    return { seconds: (performance.now() - t0) / 1000, total: jobs * 16 * chunkSize };
  },
};
document.getElementById("status").textContent = "ready";
