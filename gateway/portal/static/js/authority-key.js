// An authority's encryption key, validated on the device before anything is encrypted or a
// document key is wrapped to it: the one X.509 reader of the portal. By the rules of
// gateway/fitconnect/keys.py validate_destination_key (a submission's destination key): RSA 4096+,
// key_ops ["wrapKey"], alg RSA-OAEP-256, e AQAB, the announced kid, the x5c chain to one of
// the pinned roots the portal serves (/apply/trust.json; never a root shipped in x5c), every
// certificate in its validity period, a current signed CRL of every issuer (fail closed), and
// the leaf naming exactly this authority (SAN URI urn:ozg-commons:authority:<id>).
// Sharing a vault document (documents-list.js) checks the same, with the vault's minimum of
// 3072 bits (vault/recipients.py MIN_RSA_BITS) and no announced kid.
// Uses @peculiar/x509 (vendor/x509/x509.js, a classic script: window.x509, after
// vendor/x509/reflect-metadata.js).

import { rsaBits } from "./recipients.js";

export const AUTHORITY_URN_PREFIX = "urn:ozg-commons:authority:";
const SAN = "2.5.29.17";
const PRIVATE = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

export class InvalidDestinationKey extends Error {
  constructor(detail) {
    super(detail);
    this.name = "InvalidDestinationKey";
  }
}

const fail = (detail) => { throw new InvalidDestinationKey(detail); };
const lib = () => globalThis.x509 || fail("the certificate library is not loaded");

/** The pinned roots and CRLs as the portal serves them ({anchors: [PEM], crls: [PEM]}). */
export function parseTrust({ anchors = [], crls = [] }) {
  const X = lib();
  return { anchors: anchors.map((p) => new X.X509Certificate(p)), crls: crls.map((p) => new X.X509Crl(p)) };
}

const KEY_USAGE = "2.5.29.15";
const same = (a, b) => {
  const x = new Uint8Array(a.rawData);
  const y = new Uint8Array(b.rawData);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

async function signedBy(cert, issuer) {
  if (cert.issuer !== issuer.subject) return false;
  try {
    return await cert.verify({ publicKey: issuer, signatureOnly: true });
  } catch {
    return false;
  }
}

async function checkRevocation(cert, issuer, crls, now) {
  let current = null;
  for (const crl of crls) {
    if (crl.issuer !== issuer.subject || !crl.nextUpdate || !(crl.thisUpdate <= now && now <= crl.nextUpdate)) continue;
    let valid = false;
    try { valid = await crl.verify({ publicKey: issuer }); } catch { valid = false; }
    if (valid && (!current || crl.thisUpdate > current.thisUpdate)) current = crl;
  }
  if (!current) fail(`no current revocation list of ${issuer.subject}`);
  if (current.findRevoked(cert)) fail(`the certificate ${cert.subject} is revoked`);
}

function namedAuthorities(leaf) {
  const san = leaf.getExtension(SAN);
  if (!san) fail(`the certificate names no authority (SAN URI ${AUTHORITY_URN_PREFIX}<id>)`);
  return san.names.items.filter((n) => n.type === "url" && n.value.startsWith(AUTHORITY_URN_PREFIX)).map((n) => n.value);
}

async function sameKey(leaf, jwk) {
  const key = await leaf.publicKey.export({ name: "RSA-OAEP", hash: "SHA-256" }, ["encrypt"]);
  const exported = await globalThis.crypto.subtle.exportKey("jwk", key);
  return exported.n === jwk.n && exported.e === jwk.e;
}

/** Accept `jwk` as `authority`'s encryption key only if every rule holds; else throw. */
export async function validateDestinationKey(jwk, { authority, expectedKid, trust, now = new Date(), minBits = 4096 }) {
  if (!jwk || typeof jwk !== "object") fail("the key must be a JWK object");
  if (PRIVATE.some((m) => m in jwk)) fail("this is a private key");
  if (jwk.kty !== "RSA") fail("kty must be RSA");
  if (JSON.stringify(jwk.key_ops) !== '["wrapKey"]') fail('key_ops must be exactly ["wrapKey"]');
  if (jwk.alg !== "RSA-OAEP-256") fail("alg must be RSA-OAEP-256");
  if ("use" in jwk && jwk.use !== "enc") fail("use, if given, must be enc");
  if (jwk.e !== "AQAB") fail("e must be AQAB (65537)");
  if (rsaBits(jwk) < minBits) fail(`the RSA modulus must have at least ${minBits} bits`);
  if (expectedKid && jwk.kid !== expectedKid) fail("kid is not the destination's announced key id");
  if (!Array.isArray(jwk.x5c) || !jwk.x5c.length) fail("the key has no x5c chain");
  const X = lib();
  const chain = jwk.x5c.map((b64) => new X.X509Certificate(b64));
  if (!(await sameKey(chain[0], jwk))) fail("the first x5c certificate does not certify this key");
  for (const cert of chain) {
    if (cert.notBefore > now) fail("a certificate in the chain is not yet valid");
    if (cert.notAfter < now) fail("a certificate in the chain has expired");
  }
  const usage = chain[0].getExtension(KEY_USAGE);
  if (usage && !(usage.usages & X.KeyUsageFlags.keyEncipherment)) fail("the certificate's key usage does not allow key encipherment");
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!(await signedBy(chain[i], chain[i + 1]))) fail("the x5c chain is broken (a certificate is not issued by the next)");
  }
  const isAnchor = (cert) => trust.anchors.some((a) => same(a, cert));
  const last = chain.at(-1);
  let root = trust.anchors.find((a) => same(a, last)) || null;
  if (!root) {
    for (const anchor of trust.anchors) if (!root && (await signedBy(last, anchor))) root = anchor;
    if (!root) fail("the chain does not lead to a trusted CA");
    if (!(root.notBefore <= now && now <= root.notAfter)) fail("the trust anchor is not valid now");
  }
  for (let i = 0; i < chain.length && !isAnchor(chain[i]); i++) {
    await checkRevocation(chain[i], chain[i + 1] || root, trust.crls, now);
  }
  const named = namedAuthorities(chain[0]);
  if (named.length !== 1) fail(`the certificate must name exactly one authority (${named.length} found)`);
  if (named[0] !== AUTHORITY_URN_PREFIX + authority) fail("the certificate names another authority");
  return jwk;
}
