// The destination's encryption key, validated on the device before anything is encrypted
// to it, by the rules of gateway/fitconnect/keys.py validate_destination_key: RSA 4096+,
// key_ops ["wrapKey"], alg RSA-OAEP-256, e AQAB, the announced kid, the x5c chain to one of
// the pinned roots the portal serves (/apply/trust.json; never a root shipped in x5c), every
// certificate in its validity period, a current signed CRL of every issuer (fail closed), and
// the leaf naming exactly this authority (SAN URI urn:ozg-commons:authority:<id>).
// Uses @peculiar/x509 (vendor/x509/x509.js, a classic script: window.x509).

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
export async function validateDestinationKey(jwk, { authority, expectedKid, trust, now = new Date() }) {
  if (!jwk || typeof jwk !== "object") fail("the key must be a JWK object");
  if (PRIVATE.some((m) => m in jwk)) fail("this is a private key");
  if (jwk.kty !== "RSA") fail("kty must be RSA");
  if (JSON.stringify(jwk.key_ops) !== '["wrapKey"]') fail('key_ops must be exactly ["wrapKey"]');
  if (jwk.alg !== "RSA-OAEP-256") fail("alg must be RSA-OAEP-256");
  if ("use" in jwk && jwk.use !== "enc") fail("use, if given, must be enc");
  if (jwk.e !== "AQAB") fail("e must be AQAB (65537)");
  if (rsaBits(jwk) < 4096) fail("the RSA modulus must have at least 4096 bits");
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

// ------------------------------------------------------------------------ the route
// A route's destinationSignature (gateway/authorities/routing.py): a compact JWS, header
// exactly {alg: PS512, typ, kid}, signed with the deployment's routing key (GET
// /v1/routes/keys), naming the destination, the LeiKa key, a region holding the ARS, this
// host and this issuer.
export const LEIKA_PREFIX = "urn:de:fim:leika:leistung:";
export const ARS_URN_PREFIX = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:";
const ARS_LEVELS = [2, 3, 5, 9, 12];

function significant(code) {
  for (const level of ARS_LEVELS) if (level <= code.length && /^0*$/.test(code.slice(level))) return code.slice(0, level);
  return code;
}

function inRegion(ars, region) {
  if (region.length === 8) return ars.length === 12 && ars.slice(0, 5) + ars.slice(9) === region;
  return ars.startsWith(significant(region));
}

export class InvalidDestinationSignature extends Error {
  constructor() {
    super("the route's destinationSignature does not verify");
    this.name = "InvalidDestinationSignature";
  }
}

const b64 = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

/** Verify `token` against the routing JWKS `keys`; returns the claims or throws. */
export async function verifyDestinationSignature(token, keys, { destinationId, leika, ars, submissionHost, issuer }) {
  try {
    const [head, body, signature] = token.split(".");
    const header = JSON.parse(new TextDecoder().decode(b64(head)));
    const claims = JSON.parse(new TextDecoder().decode(b64(body)));
    if (Object.keys(header).sort().join() !== "alg,kid,typ" || header.alg !== "PS512") throw new Error();
    const jwk = keys.find((k) => k.kid === header.kid);
    if (!jwk || jwk.kty !== "RSA" || rsaBits(jwk) < 4096) throw new Error();
    const key = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e, ext: true },
      { name: "RSA-PSS", hash: "SHA-512" }, false, ["verify"]);
    const ok = await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 64 }, key, b64(signature),
      new TextEncoder().encode(`${head}.${body}`));
    if (!ok || claims.destinationId !== destinationId) throw new Error();
    if (claims.submissionHost !== submissionHost || claims.iss !== issuer) throw new Error();
    const want = leika.startsWith(LEIKA_PREFIX) ? leika : LEIKA_PREFIX + leika;
    const served = claims.services.some((s) => s.leistungIDs.includes(want)
      && s.gebietIDs.some((g) => inRegion(ars, g.replace(ARS_URN_PREFIX, ""))));
    if (!served) throw new Error();
    return claims;
  } catch {
    throw new InvalidDestinationSignature();
  }
}
