// The applicant's vault key in the browser (docs/envelope.md §10, docs/portal-crypto.md).
//
// A P-256 key pair made on the device. The private key leaves the device only wrapped:
// under Argon2id of the passphrase and under HKDF of the recovery code (AES-256-GCM, the
// key id as associated data), in the same JSON as the Python client (vault/client/keys.py).
// Unlocked, it is a non-extractable WebCrypto CryptoKey kept in a KeyStore (IndexedDB in
// the browser; any {get, put, delete} object, e.g. MemoryKeyStore, elsewhere).

import { argon2id, createSHA256 } from "../vendor/hash-wasm/hash-wasm.esm.min.js";
import { b64Decode, b64Encode, toBytes, utf8 } from "./b64url.js";
import { identityFromPkcs8, keyId, publicJwk, systemRandom } from "./recipients.js";

export const ARGON2_DEFAULT = Object.freeze({ m: 65536, t: 3, p: 1 });
export const ARGON2_MINIMUM = Object.freeze({ m: 19456, t: 2, p: 1 }); // OWASP
export const ARGON2_MAXIMUM = Object.freeze({ m: 1048576, t: 16, p: 16 }); // what a page affords
const RECOVERY_INFO = "ozg-vault recovery v1";
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const subtle = () => globalThis.crypto.subtle;

/** The one error of a failed unlock ("wrong passphrase or recovery code"). */
export class WrongSecret extends Error {
  constructor(message = "wrong passphrase or recovery code") {
    super(message);
    this.name = "WrongSecret";
  }
}

export { createSHA256 };

/** An incremental SHA-256 ("sha-256:<hex>" for content_hash) over any byte pieces. */
export async function sha256Hasher() {
  const h = await createSHA256();
  h.init();
  return {
    update: (bytes) => h.update(bytes),
    digest: () => "sha-256:" + h.digest("hex"),
  };
}

// ------------------------------------------------------------------------ recovery code
export function newRecoveryCode(random = systemRandom) {
  const raw = base32Encode(toBytes(random(20)));
  return raw.match(/.{4}/g).join("-");
}

function base32Encode(bytes) {
  let bits = 0;
  let acc = 0;
  let out = "";
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >> bits) & 31];
    }
    acc &= 0xff;
  }
  if (bits) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

/** The 20 bytes of a recovery code: '-' and spaces dropped, upper-cased, base32 (§10). */
export function recoverySecret(code) {
  const s = String(code).replace(/[- ]/g, "").toUpperCase();
  if (s.length !== 32 || /[^A-Z2-7]/.test(s)) throw new WrongSecret("malformed recovery code");
  const out = new Uint8Array(20);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const c of s) {
    acc = (acc << 5) | B32.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= 0xff;
  }
  return out;
}

// ------------------------------------------------------------------------ KEKs
export async function passphraseKek(passphrase, salt, { m, t, p }) {
  const hash = await argon2id({
    password: utf8(passphrase), // UTF-8 as typed: no normalization
    salt,
    parallelism: p,
    iterations: t,
    memorySize: m,
    hashLength: 32,
    outputType: "binary",
  });
  return new Uint8Array(hash);
}

export async function recoveryKek(code, salt) {
  const ikm = await subtle().importKey("raw", recoverySecret(code), "HKDF", false, ["deriveBits"]);
  const bits = await subtle().deriveBits({ name: "HKDF", hash: "SHA-256", salt, info: utf8(RECOVERY_INFO) }, ikm, 256);
  return new Uint8Array(bits);
}

async function aesKey(kek, usage) {
  return subtle().importKey("raw", kek, "AES-GCM", false, [usage]);
}

// Python's json.dumps(sort_keys=True): members sorted, ", " and ": " separators.
function pythonJson(doc) {
  return "{" + Object.keys(doc).sort().map((k) => `${JSON.stringify(k)}: ${JSON.stringify(doc[k])}`).join(", ") + "}";
}

async function wrapDer(der, kid, kdf, kek, salt, nonce, params) {
  const ct = new Uint8Array(await subtle().encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: utf8(kid) }, await aesKey(kek, "encrypt"), der));
  return pythonJson({ v: 1, kdf, ...params, salt: b64Encode(salt), nonce: b64Encode(nonce), ct: b64Encode(ct) });
}

export async function wrapWithPassphrase(der, kid, passphrase, params = ARGON2_DEFAULT, random = systemRandom) {
  checkParams(params);
  const salt = toBytes(random(16)).slice();
  const nonce = toBytes(random(12)).slice();
  const kek = await passphraseKek(passphrase, salt, params);
  return wrapDer(der, kid, "argon2id", kek, salt, nonce, { m: params.m, t: params.t, p: params.p });
}

export async function wrapWithRecoveryCode(der, kid, code, random = systemRandom) {
  const salt = toBytes(random(16)).slice();
  const nonce = toBytes(random(12)).slice();
  return wrapDer(der, kid, "hkdf-sha256", await recoveryKek(code, salt), salt, nonce, {});
}

function checkParams(params) {
  const { m, t, p } = params;
  if (![m, t, p].every(Number.isSafeInteger)) throw new WrongSecret("malformed Argon2id parameters");
  if (m < ARGON2_MINIMUM.m || t < ARGON2_MINIMUM.t || p < 1) {
    throw new WrongSecret("Argon2id parameters below the minimum; refusing");
  }
  if (m > ARGON2_MAXIMUM.m || t > ARGON2_MAXIMUM.t || p > ARGON2_MAXIMUM.p) {
    throw new WrongSecret("Argon2id parameters above what this device affords; refusing");
  }
}

/**
 * The PKCS#8 DER inside a wrapped form (§10), for re-wrapping: opened with the passphrase
 * or the recovery code. Never stored; callers drop it after use.
 */
export async function unwrapDer(wrapped, kid, { passphrase = null, recoveryCode = null } = {}) {
  let doc;
  try {
    doc = JSON.parse(wrapped);
  } catch {
    throw new WrongSecret();
  }
  if (!doc || doc.v !== 1) throw new WrongSecret();
  let kek;
  let salt;
  let nonce;
  let ct;
  try {
    [salt, nonce, ct] = ["salt", "nonce", "ct"].map((k) => b64Decode(doc[k]));
  } catch {
    throw new WrongSecret();
  }
  if (doc.kdf === "argon2id" && passphrase !== null) {
    const params = { m: doc.m, t: doc.t, p: doc.p };
    checkParams(params);
    kek = await passphraseKek(passphrase, salt, params);
  } else if (doc.kdf === "hkdf-sha256" && recoveryCode !== null) {
    kek = await recoveryKek(recoveryCode, salt);
  } else {
    throw new WrongSecret("this wrapped key needs the other secret");
  }
  try {
    return new Uint8Array(await subtle().decrypt(
      { name: "AES-GCM", iv: nonce, additionalData: utf8(kid) }, await aesKey(kek, "decrypt"), ct));
  } catch {
    throw new WrongSecret();
  }
}

/** Unlock: the identity {kid, publicJwk, privateKey} with a non-extractable private key. */
export async function unwrapPrivateKey(wrapped, kid, secrets) {
  const der = await unwrapDer(wrapped, kid, secrets);
  let identity;
  try {
    identity = await identityFromPkcs8(der);
  } catch {
    throw new WrongSecret();
  } finally {
    der.fill(0);
  }
  if (identity.kid !== kid || identity.privateKey.algorithm.name !== "ECDH") {
    throw new WrongSecret("the wrapped key does not match its key id");
  }
  return identity;
}

/**
 * Make the vault key here. Returns what the server gets (`register`: the body of
 * PUT /v1/vault/keys/me), the recovery code (show once) and the unlocked identity.
 */
export async function createVaultKey(passphrase, { params = ARGON2_DEFAULT, random = systemRandom } = {}) {
  const pair = await subtle().generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const der = new Uint8Array(await subtle().exportKey("pkcs8", pair.privateKey));
  const jwk = publicJwk(await subtle().exportKey("jwk", pair.publicKey));
  const kid = await keyId(jwk);
  const recoveryCode = newRecoveryCode(random);
  try {
    const register = {
      public_jwk: jwk,
      wrapped_by_passphrase: await wrapWithPassphrase(der, kid, passphrase, params, random),
      wrapped_by_recovery: await wrapWithRecoveryCode(der, kid, recoveryCode, random),
    };
    const identity = await identityFromPkcs8(der); // non-extractable from here on
    return { kid, publicJwk: jwk, register, recoveryCode, identity };
  } finally {
    der.fill(0);
  }
}

/**
 * A new passphrase for the key in `stored` (the body of GET /v1/vault/keys/me), proven by
 * the old passphrase or the recovery code. Returns the body of PATCH /v1/vault/keys/me.
 */
export async function changePassphrase(stored, newPassphrase, { passphrase = null, recoveryCode = null, params = ARGON2_DEFAULT, random = systemRandom } = {}) {
  const wrapped = passphrase !== null ? stored.wrapped_by_passphrase : stored.wrapped_by_recovery;
  const der = await unwrapDer(wrapped, stored.kid, { passphrase, recoveryCode });
  try {
    const check = await identityFromPkcs8(der);
    if (check.kid !== stored.kid) throw new WrongSecret("the wrapped key does not match its key id");
    return { kid: stored.kid, wrapped_by_passphrase: await wrapWithPassphrase(der, stored.kid, newPassphrase, params, random) };
  } finally {
    der.fill(0);
  }
}

/** Unlock on this (or another) device from GET /v1/vault/keys/me, and keep it in `store`. */
export async function unlock(stored, { passphrase = null, recoveryCode = null, store = null } = {}) {
  const wrapped = passphrase !== null ? stored.wrapped_by_passphrase : stored.wrapped_by_recovery;
  const identity = await unwrapPrivateKey(wrapped, stored.kid, { passphrase, recoveryCode });
  if (store) await keep(store, identity);
  return identity;
}

/** Keep an unlocked identity (e.g. the one createVaultKey returns) in `store`. */
export async function keep(store, identity) {
  await store.put("vault-key", identity);
}

export async function lock(store) {
  await store.delete("vault-key");
}

export async function unlocked(store) {
  return (await store.get("vault-key")) || null;
}

// ------------------------------------------------------------------------ storage
/** In memory (Node, tests): the same interface as IndexedDbKeyStore. */
export class MemoryKeyStore {
  constructor() {
    this.map = new Map();
  }
  async get(name) {
    return this.map.get(name);
  }
  async put(name, value) {
    this.map.set(name, value);
  }
  async delete(name) {
    this.map.delete(name);
  }
}

/**
 * IndexedDB (the browser): records are structured clones, so a non-extractable CryptoKey
 * is stored as such; its bytes never become readable to script.
 */
export class IndexedDbKeyStore {
  constructor(dbName = "ozg-vault", storeName = "keys", indexedDB = globalThis.indexedDB) {
    this.dbName = dbName;
    this.storeName = storeName;
    this.idb = indexedDB;
  }

  open() {
    return new Promise((resolve, reject) => {
      const req = this.idb.open(this.dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(this.storeName);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async run(mode, fn) {
    const db = await this.open();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(this.storeName, mode);
        const req = fn(tx.objectStore(this.storeName));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  get(name) {
    return this.run("readonly", (s) => s.get(name));
  }
  put(name, value) {
    return this.run("readwrite", (s) => s.put(value, name));
  }
  delete(name) {
    return this.run("readwrite", (s) => s.delete(name));
  }
}
