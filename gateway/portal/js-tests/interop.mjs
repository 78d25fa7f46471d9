// Drives the browser's crypto modules (../static/js) under Node 20 for the interop tests:
//   node interop.mjs <command> <request.json>
// prints one JSON object on stdout. Large inputs and outputs travel as files named in the
// request. WebCrypto is globalThis.crypto in Node; IndexedDB is replaced by MemoryKeyStore.

import { readFile, writeFile } from "node:fs/promises";
import { createReadStream, createWriteStream } from "node:fs";
import { Readable, Writable } from "node:stream";
import { hexDecode, hexEncode, b64Encode, b64Decode } from "../static/js/b64url.js";
import * as envelope from "../static/js/envelope.js";
import * as keys from "../static/js/keys.js";
import * as jwe from "../static/js/jwe.js";
import { openMetadataItem } from "../static/js/vault-metadata.js";
import { identityFromPkcs8, pemToDer } from "../static/js/recipients.js";

function replay(randomHex) {
  const queue = randomHex.map(hexDecode);
  return (n) => {
    const next = queue.shift();
    if (!next || next.length !== n) throw new Error(`vector randomness: wanted ${n} bytes`);
    return next;
  };
}

const fileSource = (path) => Readable.toWeb(createReadStream(path, { highWaterMark: 1 << 20 }));
async function toFile(stream, path) {
  await stream.pipeTo(Writable.toWeb(createWriteStream(path)));
}
const identityFrom = (req) =>
  identityFromPkcs8(req.private_key_pem ? pemToDer(req.private_key_pem) : hexDecode(req.pkcs8_hex));

const commands = {
  async vectors(req) {
    const doc = JSON.parse(await readFile(req.path, "utf8"));
    const results = [];
    for (const v of doc.vectors) {
      const identity = await identityFrom(v);
      const stanza = v.stanza_hex ? hexDecode(v.stanza_hex) : null;
      const { metadata, plaintext } = await envelope.openBytes(hexDecode(v.envelope_hex), identity, {
        stanza,
        createSha256: keys.createSHA256,
      });
      const r = {
        name: v.name,
        kid: identity.kid,
        opened: hexEncode(plaintext) === v.plaintext_hex,
        metadata,
      };
      if (v.deterministic && !v.stanza_hex) {
        const shareJwk = identity.publicJwk;
        const sealed = await envelope.sealBytes(hexDecode(v.plaintext_hex), [shareJwk], {
          filename: v.metadata.filename,
          mediaType: v.metadata.media_type,
          contentHash: v.metadata.content_hash,
          chunkSize: v.chunk_size,
          random: replay(v.random_hex),
        });
        r.reproduced = hexEncode(sealed) === v.envelope_hex;
      }
      if (v.stanza_hex) {
        const owner = doc.vectors.find((x) => x.name === "three-chunks");
        const header = await envelope.readHeader(hexDecode(v.envelope_hex));
        const key = await envelope.unlockHeader(header, await identityFrom(owner));
        const s = await envelope.wrapFor(key, identity.publicJwk, replay(v.random_hex));
        r.reproduced = hexEncode(s.encode()) === v.stanza_hex;
      }
      results.push(r);
    }
    return { results };
  },

  async tamper(req) {
    // Every bit-flip position given must fail with the one error and its one message.
    const env = await readFile(req.envelope_path);
    const identity = await identityFrom(req);
    const messages = new Set();
    for (const pos of req.positions) {
      const bad = new Uint8Array(env);
      bad[pos] ^= 1;
      try {
        await envelope.openBytes(bad, identity);
        messages.add("OPENED");
      } catch (e) {
        messages.add(`${e.name}: ${e.message}`);
      }
    }
    for (const cut of req.truncations) {
      try {
        await envelope.openBytes(new Uint8Array(env).subarray(0, cut), identity);
        messages.add("OPENED");
      } catch (e) {
        messages.add(`${e.name}: ${e.message}`);
      }
    }
    return { messages: [...messages] };
  },

  async seal(req) {
    const sealed = await envelope.sealStream(fileSource(req.plaintext_path), req.recipients, {
      filename: req.filename,
      mediaType: req.media_type,
      contentHash: req.content_hash ?? null,
      chunkSize: req.chunk_size ?? envelope.DEFAULT_CHUNK_SIZE,
      size: req.size ?? null,
    });
    await toFile(sealed.stream, req.out_path);
    return { document_id: sealed.documentId, envelope_size: req.size == null ? null : sealed.envelopeSize(req.size) };
  },

  async open(req) {
    const identity = await identityFrom(req);
    const opened = await envelope.openStream(fileSource(req.envelope_path), identity, {
      stanza: req.stanza_b64 ? b64Decode(req.stanza_b64) : null,
      createSha256: req.check_hash ? keys.createSHA256 : null,
    });
    await toFile(opened.stream, req.out_path);
    return { metadata: await opened.metadata, document_id: opened.header.documentId };
  },

  async share(req) {
    // The owner's device: read the header, unwrap, wrap to the authority (docs/vault.md).
    const header = await envelope.readHeader(fileSource(req.envelope_path));
    const key = await envelope.unlockHeader(header, await identityFrom(req));
    const stanza = await envelope.wrapFor(key, req.authority_jwk);
    return { stanza: b64Encode(stanza.encode()), kid: stanza.kid };
  },

  async "metadata-vectors"(req) {
    const doc = JSON.parse(await readFile(req.path, "utf8"));
    const results = [];
    for (const v of doc.vectors) {
      const identity = await identityFrom(v);
      try {
        results.push({ name: v.name, opened: true, metadata: await openMetadataItem(v.item, identity) });
      } catch (e) {
        results.push({ name: v.name, opened: false, error: e.name });
      }
    }
    return { results };
  },

  async "key-vectors"(req) {
    const doc = JSON.parse(await readFile(req.path, "utf8"));
    const results = [];
    for (const v of doc.vectors) {
      const secrets = v.passphrase ? { passphrase: v.passphrase } : { recoveryCode: v.recovery_code };
      const identity = await keys.unwrapPrivateKey(v.wrapped, v.kid, secrets);
      const salt = hexDecode(v.random_hex[0]);
      const kek = v.passphrase
        ? await keys.passphraseKek(v.passphrase, salt, v.wrapped_parsed)
        : await keys.recoveryKek(v.recovery_code, salt);
      const der = hexDecode(v.private_key_pkcs8_hex);
      const rewrapped = v.passphrase
        ? await keys.wrapWithPassphrase(der, v.kid, v.passphrase, v.wrapped_parsed, replay(v.random_hex))
        : await keys.wrapWithRecoveryCode(der, v.kid, v.recovery_code, replay(v.random_hex));
      let wrongRefused = false;
      try {
        await keys.unwrapPrivateKey(v.wrapped, v.kid, v.passphrase ? { passphrase: v.passphrase + "x" } : { recoveryCode: "AAAA-" + v.recovery_code.slice(5) });
      } catch (e) {
        wrongRefused = e instanceof keys.WrongSecret;
      }
      results.push({
        name: v.name,
        kid: identity.kid,
        extractable: identity.privateKey.extractable,
        kek: hexEncode(kek) === v.kek_hex,
        reproduced: rewrapped === v.wrapped,
        wrong_refused: wrongRefused,
        secret_hex: v.recovery_code ? hexEncode(keys.recoverySecret(v.recovery_code.toLowerCase().replace(/-/g, " "))) : null,
      });
    }
    return { results };
  },

  async keygen(req) {
    const made = await keys.createVaultKey(req.passphrase, { params: req.params });
    const store = new keys.MemoryKeyStore();
    const stored = { kid: made.kid, public_jwk: made.publicJwk, ...made.register };
    const again = await keys.unlock(stored, { passphrase: req.passphrase, store });
    const viaCode = await keys.unlock(stored, { recoveryCode: made.recoveryCode });
    const kept = await keys.unlocked(store);
    // Something sealed to the new key opens with the unlocked one.
    const env = await envelope.sealBytes(new TextEncoder().encode("hallo"), [made.publicJwk], { filename: "a.txt", mediaType: "text/plain" });
    const opened = await envelope.openBytes(env, kept);
    return {
      ...made.register,
      kid: made.kid,
      recovery_code: made.recoveryCode,
      unlocked_kid: again.kid,
      recovery_kid: viaCode.kid,
      stored_extractable: kept.privateKey.extractable,
      round_trip: new TextDecoder().decode(opened.plaintext),
    };
  },

  async unlock(req) {
    // Unlock on "another device" from GET /keys/me, then open an envelope with the key.
    const identity = await keys.unlock(req.stored, { passphrase: req.passphrase ?? null, recoveryCode: req.recovery_code ?? null });
    const { metadata, plaintext } = await envelope.openBytes(await readFile(req.envelope_path), identity);
    let changed = null;
    if (req.new_passphrase) {
      changed = await keys.changePassphrase(req.stored, req.new_passphrase, {
        passphrase: req.passphrase ?? null,
        recoveryCode: req.recovery_code ?? null,
        params: req.params,
      });
    }
    return { kid: identity.kid, extractable: identity.privateKey.extractable, metadata, plaintext_hex: hexEncode(plaintext), changed };
  },

  async "jwe-encrypt"(req) {
    const data = await readFile(req.plaintext_path);
    return jwe.encrypt(new Uint8Array(data), req.jwk, req.cty);
  },

  async "jwe-decrypt"(req) {
    const identity = await identityFrom(req);
    const { plaintext, header, tag } = await jwe.decrypt(req.compact, identity.privateKey);
    return { plaintext_hex: hexEncode(plaintext), header, tag };
  },
};

const [command, requestPath] = process.argv.slice(2);
try {
  const req = JSON.parse(await readFile(requestPath, "utf8"));
  const result = await commands[command](req);
  process.stdout.write(JSON.stringify({ ok: true, ...result }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: `${e.name}: ${e.message}`, stack: e.stack }));
}
