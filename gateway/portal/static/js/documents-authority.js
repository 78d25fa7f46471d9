// Before the browser wraps a document key to an authority: the authority key's first x5c
// certificate must certify exactly this key and name this authority
// (urn:ozg-commons:authority:<id> as its one such URI), as vault.pki.check_jwk_binding does
// for the Python client without trust anchors. Needs /static/vendor/x509/x509.js
// (window.x509, @peculiar/x509).
import { b64Decode, equalBytes } from "./b64url.js";

const PREFIX = "urn:ozg-commons:authority:";

export class UntrustedAuthorityKey extends Error {
  constructor(message) {
    super(message);
    this.name = "UntrustedAuthorityKey";
  }
}

/** Resolves if `jwk` is `authority`'s key by its certificate; throws UntrustedAuthorityKey. */
export async function checkAuthorityKey(jwk, authority) {
  if (!jwk || jwk.kty !== "RSA" || !Array.isArray(jwk.x5c) || !jwk.x5c.length) {
    throw new UntrustedAuthorityKey("authority keys are RSA keys with an x5c chain");
  }
  const { X509Certificate, SubjectAlternativeNameExtension } = window.x509;
  let leaf;
  try {
    leaf = new X509Certificate(b64Decode(jwk.x5c[0]));
  } catch {
    throw new UntrustedAuthorityKey("the first x5c certificate cannot be read");
  }
  const key = await crypto.subtle.importKey(
    "jwk", { kty: "RSA", n: jwk.n, e: jwk.e, ext: true }, { name: "RSA-OAEP", hash: "SHA-256" }, true, ["encrypt"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", key));
  if (!equalBytes(spki, new Uint8Array(leaf.publicKey.rawData))) {
    throw new UntrustedAuthorityKey("the first x5c certificate does not certify this key");
  }
  const san = leaf.getExtension(SubjectAlternativeNameExtension);
  const uris = (san ? san.names.items : [])
    .filter((n) => n.type === "url" && n.value.startsWith(PREFIX))
    .map((n) => n.value);
  if (uris.length !== 1 || uris[0] !== PREFIX + authority) {
    throw new UntrustedAuthorityKey(`the certificate is not issued for authority '${authority}'`);
  }
}
