// FIT-Connect JWE in the browser (docs/fitconnect.md "JWE"): compact serialization,
// RSA-OAEP-256 key wrap, A256GCM content, protected header exactly
// {"alg":"RSA-OAEP-256","enc":"A256GCM","kid":…,"cty":…}, never zip.
//
// WebCrypto's AES-GCM is one-shot, so encrypt() holds the plaintext, the ciphertext and the
// base64url text in memory: at most MAX_IN_MEMORY bytes of plaintext (as the Python side).

import { b64urlDecode, b64urlEncode, fromUtf8, hexEncode, toBytes, utf8 } from "./b64url.js";
import { keyId, publicJwk, rsaBits, systemRandom } from "./recipients.js";

export const ALG = "RSA-OAEP-256";
export const ENC = "A256GCM";
export const MIN_BITS = 4096;
export const MAX_BITS = 8192;
export const MAX_IN_MEMORY = 64 * 1024 * 1024;
const CTY = /^[A-Za-z0-9!#$&^_.+-]{1,127}\/[A-Za-z0-9!#$&^_.+-]{1,127}$/;
const subtle = () => globalThis.crypto.subtle;

export class InvalidJwe extends Error {
  constructor() {
    super("The JWE cannot be decrypted");
    this.name = "InvalidJwe";
  }
}

/** The destination's RSA key and the kid to name it by (the JWK's, else its thumbprint). */
export async function destinationKey(jwk) {
  if (!jwk || jwk.kty !== "RSA") throw new TypeError("kty must be RSA");
  const bits = rsaBits(jwk);
  if (bits < MIN_BITS || bits > MAX_BITS) throw new RangeError(`the RSA modulus must have ${MIN_BITS} to ${MAX_BITS} bits`);
  const kid = jwk.kid || (await keyId(jwk));
  if (typeof kid !== "string") throw new TypeError("kid must be a string");
  const key = await subtle().importKey(
    "jwk", { ...publicJwk(jwk), alg: "RSA-OAEP-256", ext: true }, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
  return { key, kid };
}

/**
 * Encrypt `plaintext` (bytes or a string, UTF-8) to the destination's public encryption JWK.
 * Returns {compact, tag, kid, cty, plaintextSha512} like gateway.fitconnect.jwe.encrypt; the
 * key should have been validated first (x5c chain to the pinned roots, CRL, authority).
 */
export async function encrypt(plaintext, jwk, cty, { random = systemRandom } = {}) {
  const data = typeof plaintext === "string" ? utf8(plaintext) : toBytes(plaintext);
  if (data.length > MAX_IN_MEMORY) throw new RangeError(`more than ${MAX_IN_MEMORY} bytes`);
  if (typeof cty !== "string" || !CTY.test(cty)) throw new TypeError("cty must be a MIME type such as application/json");
  const { key, kid } = await destinationKey(jwk);
  const headerB64 = b64urlEncode(utf8(JSON.stringify({ alg: ALG, enc: ENC, kid, cty })));
  const cek = toBytes(random(32)).slice();
  const iv = toBytes(random(12)).slice();
  const wrapped = new Uint8Array(await subtle().encrypt({ name: "RSA-OAEP" }, key, cek));
  const aes = await subtle().importKey("raw", cek, "AES-GCM", false, ["encrypt"]);
  cek.fill(0);
  const sealed = new Uint8Array(await subtle().encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(headerB64), tagLength: 128 }, aes, data));
  const ciphertext = sealed.subarray(0, sealed.length - 16);
  const tag = b64urlEncode(sealed.subarray(sealed.length - 16));
  const compact = `${headerB64}.${b64urlEncode(wrapped)}.${b64urlEncode(iv)}.${b64urlEncode(ciphertext)}.${tag}`;
  const plaintextSha512 = hexEncode(new Uint8Array(await subtle().digest("SHA-512", data)));
  return { compact, tag, kid, cty, plaintextSha512 };
}

/**
 * Decrypt a compact JWE with an RSA-OAEP (SHA-256) private CryptoKey (the same rules as the
 * Python side for what is accepted, except zip, which the browser never needs). Every
 * failure is InvalidJwe.
 */
export async function decrypt(compact, privateKey) {
  try {
    const parts = String(compact).split(".");
    if (parts.length !== 5) throw new InvalidJwe();
    const [h, ek, ivB64, ctB64, tagB64] = parts;
    const header = JSON.parse(fromUtf8(b64urlDecode(h)));
    if (!header || header.alg !== ALG || header.enc !== ENC || "zip" in header || "crit" in header) throw new InvalidJwe();
    const iv = b64urlDecode(ivB64);
    const tag = b64urlDecode(tagB64);
    if (iv.length !== 12 || tag.length !== 16) throw new InvalidJwe();
    let cek;
    try {
      cek = new Uint8Array(await subtle().decrypt({ name: "RSA-OAEP" }, privateKey, b64urlDecode(ek)));
    } catch {
      cek = systemRandom(32); // RFC 7516 §11.5: fail at the tag like any tampering
    }
    if (cek.length !== 32) cek = systemRandom(32);
    const aes = await subtle().importKey("raw", cek, "AES-GCM", false, ["decrypt"]);
    const ct = b64urlDecode(ctB64);
    const both = new Uint8Array(ct.length + 16);
    both.set(ct, 0);
    both.set(tag, ct.length);
    const plaintext = new Uint8Array(await subtle().decrypt(
      { name: "AES-GCM", iv, additionalData: utf8(h), tagLength: 128 }, aes, both));
    return { plaintext, header, tag: tagB64 };
  } catch {
    throw new InvalidJwe();
  }
}
