// The route a submission goes to, checked on the device (gateway/authorities/routing.py).
// The destination key's check lives in authority-key.js (re-exported here for apply-submit.js).

import { rsaBits } from "./recipients.js";

export { AUTHORITY_URN_PREFIX, InvalidDestinationKey, parseTrust, validateDestinationKey } from "./authority-key.js";

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
