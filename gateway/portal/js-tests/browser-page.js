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
};
document.getElementById("status").textContent = "ready";
