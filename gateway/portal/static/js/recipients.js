// Recipient stanzas (docs/envelope.md §4): the document key (DEK) wrapped for one
// recipient, with WebCrypto only.
//
//   alg 1  RSA-OAEP-256    (authorities; RSA 3072..8192 bits)
//   alg 2  ECDH-ES+A256KW  on P-256 (applicants), Concat KDF (RFC 7518 §4.6.2), AES-KW
//
// A recipient is a public JWK; an identity (who opens) is {kid, publicJwk, privateKey}
// where privateKey is a (normally non-extractable) CryptoKey: ECDH P-256 or RSA-OAEP SHA-256.

import {
  b64urlDecode,
  b64urlEncode,
  bigIntFromBytes,
  bigIntToBytes,
  concat,
  fromUtf8,
  toBytes,
  utf8,
} from "./b64url.js";

export const ALG_RSA_OAEP_256 = 1;
export const ALG_ECDH_ES_A256KW = 2;
export const DEK_LEN = 32;
export const MIN_RSA_BITS = 3072;
export const MAX_RSA_BITS = 8192;
const EPK_LEN = 65;
const WRAPPED_LEN = DEK_LEN + 8;
// The order of the P-256 group (docs/envelope.md §1).
export const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const subtle = () => globalThis.crypto.subtle;
export const systemRandom = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** The one error every failure to open raises; its message never varies. */
export class InvalidEnvelope extends Error {
  constructor() {
    super("The envelope cannot be opened");
    this.name = "InvalidEnvelope";
  }
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a public RSA or P-256 JWK. */
export async function keyId(jwk) {
  let canonical;
  if (jwk.kty === "RSA") {
    canonical = `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`;
  } else if (jwk.kty === "EC" && jwk.crv === "P-256") {
    canonical = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
  } else {
    throw new TypeError("only RSA and P-256 keys are supported");
  }
  for (const part of canonical.match(/"[^"]*"/g)) {
    if (!/^"[A-Za-z0-9_:.-]*"$/.test(part)) throw new TypeError("malformed JWK member");
  }
  return b64urlEncode(new Uint8Array(await subtle().digest("SHA-256", utf8(canonical))));
}

/** The public members of a JWK (what keyId and the server see). */
export function publicJwk(jwk) {
  if (jwk.kty === "RSA") return { e: jwk.e, kty: "RSA", n: jwk.n };
  if (jwk.kty === "EC" && jwk.crv === "P-256") return { crv: "P-256", kty: "EC", x: jwk.x, y: jwk.y };
  throw new TypeError("only RSA and P-256 keys are supported");
}

export function rsaBits(jwk) {
  const n = b64urlDecode(jwk.n);
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  return i === n.length ? 0 : (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]));
}

export class Stanza {
  constructor(alg, kid, body) {
    this.alg = alg;
    this.kid = kid;
    this.body = toBytes(body);
  }

  encode() {
    const kid = utf8(this.kid);
    const out = new Uint8Array(4 + kid.length + this.body.length);
    out[0] = this.alg;
    out[1] = kid.length;
    out.set(kid, 2);
    new DataView(out.buffer).setUint16(2 + kid.length, this.body.length);
    out.set(this.body, 4 + kid.length);
    return out;
  }

  /** Parse one stanza at `offset` of `data`; returns [stanza, offset after it]. */
  static parse(data, offset = 0) {
    if (offset + 2 > data.length) throw new InvalidEnvelope();
    const alg = data[offset];
    const kidLen = data[offset + 1];
    let o = offset + 2;
    if (!kidLen || o + kidLen + 2 > data.length) throw new InvalidEnvelope();
    let kid;
    try {
      kid = fromUtf8(data.subarray(o, o + kidLen));
    } catch {
      throw new InvalidEnvelope();
    }
    o += kidLen;
    const bodyLen = (data[o] << 8) | data[o + 1];
    o += 2;
    if (o + bodyLen > data.length) throw new InvalidEnvelope();
    if (alg === ALG_ECDH_ES_A256KW) {
      if (bodyLen !== EPK_LEN + WRAPPED_LEN) throw new InvalidEnvelope();
    } else if (alg === ALG_RSA_OAEP_256) {
      if (bodyLen < MIN_RSA_BITS / 8 || bodyLen > MAX_RSA_BITS / 8) throw new InvalidEnvelope();
    } else {
      throw new InvalidEnvelope();
    }
    return [new Stanza(alg, kid, data.slice(o, o + bodyLen)), o + bodyLen];
  }

  static decode(data) {
    const bytes = toBytes(data);
    const [stanza, end] = Stanza.parse(bytes, 0);
    if (end !== bytes.length) throw new InvalidEnvelope();
    return stanza;
  }
}

// ------------------------------------------------------------------------ key import
/** A recipient (public JWK) as a CryptoKey for wrapping; checks the key's shape. */
export async function importRecipient(jwk) {
  const pub = publicJwk(jwk);
  if (pub.kty === "RSA") {
    const bits = rsaBits(pub);
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new RangeError(`RSA recipient keys need ${MIN_RSA_BITS}..${MAX_RSA_BITS} bits`);
    }
    const key = await subtle().importKey(
      "jwk", { ...pub, alg: "RSA-OAEP-256", ext: true }, { name: "RSA-OAEP", hash: "SHA-256" }, true, ["encrypt"]);
    return { alg: ALG_RSA_OAEP_256, kid: await keyId(pub), key, jwk: pub };
  }
  const key = await subtle().importKey("jwk", { ...pub, ext: true }, { name: "ECDH", namedCurve: "P-256" }, true, []);
  return { alg: ALG_ECDH_ES_A256KW, kid: await keyId(pub), key, jwk: pub };
}

// PKCS#8 of a P-256 private key without the optional public key: this prefix || d (32).
const P256_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01,
  0x01, 0x04, 0x20,
]);

/**
 * An identity from a PKCS#8 DER private key (P-256 or RSA), imported non-extractable.
 * The public JWK is taken from a short-lived extractable import.
 */
export async function identityFromPkcs8(der, { extractable = false } = {}) {
  const bytes = toBytes(der);
  const ec = { name: "ECDH", namedCurve: "P-256" };
  const rsa = { name: "RSA-OAEP", hash: "SHA-256" };
  let algorithm = ec;
  let usages = ["deriveBits"];
  let probe;
  try {
    probe = await subtle().importKey("pkcs8", bytes, ec, true, usages);
  } catch {
    algorithm = rsa;
    usages = ["decrypt"];
    probe = await subtle().importKey("pkcs8", bytes, rsa, true, usages);
  }
  const jwk = publicJwk(await subtle().exportKey("jwk", probe));
  const privateKey = extractable ? probe : await subtle().importKey("pkcs8", bytes, algorithm, false, usages);
  return { kid: await keyId(jwk), publicJwk: jwk, privateKey };
}

/** PKCS#8 DER from PEM text (`-----BEGIN PRIVATE KEY-----`). */
export function pemToDer(pem) {
  const m = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new SyntaxError("expected a PKCS#8 PEM private key");
  const b64 = m[1].replace(/\s+/g, "");
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// ------------------------------------------------------------------------ ECDH-ES+A256KW
async function concatKdf(z) {
  // One SHA-256 block suffices for 32 bytes: SHA-256(u32(1) || Z || OtherInfo).
  const alg = utf8("ECDH-ES+A256KW");
  const otherInfo = new Uint8Array(4 + alg.length + 12);
  const view = new DataView(otherInfo.buffer);
  view.setUint32(0, alg.length);
  otherInfo.set(alg, 4);
  view.setUint32(4 + alg.length, 0); // PartyUInfo: empty
  view.setUint32(8 + alg.length, 0); // PartyVInfo: empty
  view.setUint32(12 + alg.length, 256); // SuppPubInfo: key length in bits
  const input = concat(Uint8Array.of(0, 0, 0, 1), z, otherInfo);
  return new Uint8Array(await subtle().digest("SHA-256", input));
}

async function ephemeralKey(random) {
  // The scalar from 40 random bytes, reduced into [1, q-1] (docs/envelope.md §9).
  const d = (bigIntFromBytes(random(40)) % (P256_ORDER - 1n)) + 1n;
  const der = concat(P256_PKCS8_PREFIX, bigIntToBytes(d, 32));
  const priv = await subtle().importKey("pkcs8", der, { name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const jwk = await subtle().exportKey("jwk", priv);
  const epk = concat(Uint8Array.of(4), b64urlDecode(jwk.x), b64urlDecode(jwk.y));
  return { priv, epk };
}

async function kwKey(kek, usage) {
  return subtle().importKey("raw", kek, { name: "AES-KW" }, false, [usage]);
}

/** Wrap `dek` (32 bytes) for a recipient from importRecipient(); returns a Stanza. */
export async function wrap(dek, recipient, random = systemRandom) {
  if (dek.length !== DEK_LEN) throw new RangeError("the DEK has 32 bytes");
  if (recipient.alg === ALG_RSA_OAEP_256) {
    const body = new Uint8Array(await subtle().encrypt({ name: "RSA-OAEP" }, recipient.key, dek));
    return new Stanza(ALG_RSA_OAEP_256, recipient.kid, body);
  }
  const { priv, epk } = await ephemeralKey(random);
  const z = new Uint8Array(await subtle().deriveBits({ name: "ECDH", public: recipient.key }, priv, 256));
  const kek = await kwKey(await concatKdf(z), "wrapKey");
  const dekKey = await subtle().importKey("raw", dek, { name: "AES-GCM" }, true, ["encrypt"]);
  const wrapped = new Uint8Array(await subtle().wrapKey("raw", dekKey, kek, { name: "AES-KW" }));
  return new Stanza(ALG_ECDH_ES_A256KW, recipient.kid, concat(epk, wrapped));
}

/** Recover the DEK from `stanza` with `identity.privateKey`; InvalidEnvelope otherwise. */
export async function unwrap(stanza, identity) {
  const key = identity.privateKey;
  try {
    let dek;
    if (stanza.alg === ALG_RSA_OAEP_256 && key.algorithm.name === "RSA-OAEP") {
      dek = new Uint8Array(await subtle().decrypt({ name: "RSA-OAEP" }, key, stanza.body));
    } else if (stanza.alg === ALG_ECDH_ES_A256KW && key.algorithm.name === "ECDH") {
      const epk = await subtle().importKey(
        "raw", stanza.body.subarray(0, EPK_LEN), { name: "ECDH", namedCurve: "P-256" }, false, []);
      const z = new Uint8Array(await subtle().deriveBits({ name: "ECDH", public: epk }, key, 256));
      const kek = await kwKey(await concatKdf(z), "unwrapKey");
      const dekKey = await subtle().unwrapKey(
        "raw", stanza.body.subarray(EPK_LEN), kek, { name: "AES-KW" }, { name: "AES-GCM" }, true, ["encrypt"]);
      dek = new Uint8Array(await subtle().exportKey("raw", dekKey));
    } else {
      throw new InvalidEnvelope();
    }
    if (dek.length !== DEK_LEN) throw new InvalidEnvelope();
    return dek;
  } catch {
    throw new InvalidEnvelope();
  }
}
