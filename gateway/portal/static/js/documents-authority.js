// Before the browser wraps a document key to an authority: the authority key's first x5c
// certificate must certify exactly this key and name this authority
// (urn:ozg-commons:authority:<id> as its one such URI), as vault.pki.check_jwk_binding does
// for the Python client without trust anchors. A small DER reader (the certificate's
// subjectPublicKeyInfo and subjectAltName only) — the vendored @peculiar/x509 UMD build needs
// a Reflect metadata polyfill that is not vendored.
import { b64Decode, equalBytes, fromUtf8 } from "./b64url.js";

const PREFIX = "urn:ozg-commons:authority:";
const SAN_OID = Uint8Array.of(0x55, 0x1d, 0x11); // 2.5.29.17

export class UntrustedAuthorityKey extends Error {
  constructor(message) {
    super(message);
    this.name = "UntrustedAuthorityKey";
  }
}

/** One DER element at `offset`: {tag, start (of the content), end, raw (whole element)}. */
function element(der, offset) {
  if (offset + 2 > der.length) throw new UntrustedAuthorityKey("truncated certificate");
  const tag = der[offset];
  let length = der[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count < 1 || count > 4 || start + count > der.length) throw new UntrustedAuthorityKey("bad length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
    start += count;
  }
  const end = start + length;
  if (end > der.length) throw new UntrustedAuthorityKey("truncated certificate");
  return { tag, start, end, raw: der.subarray(offset, end) };
}

function children(der, parent) {
  const out = [];
  for (let o = parent.start; o < parent.end; ) {
    const child = element(der, o);
    out.push(child);
    o = child.end;
  }
  return out;
}

/** {spki, uris} of a DER certificate. */
export function certificateFacts(der) {
  const cert = element(der, 0);
  const [tbs] = children(der, cert);
  const fields = children(der, tbs);
  const at = fields[0].tag === 0xa0 ? 1 : 0; // [0] version is optional
  const spki = fields[at + 5];
  if (!spki || spki.tag !== 0x30) throw new UntrustedAuthorityKey("no subject public key");
  const uris = [];
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions) {
    const [list] = children(der, extensions);
    for (const ext of children(der, list)) {
      const parts = children(der, ext);
      const oid = der.subarray(parts[0].start, parts[0].end);
      if (parts[0].tag !== 0x06 || !equalBytes(oid, SAN_OID)) continue;
      const value = parts[parts.length - 1]; // OCTET STRING holding GeneralNames
      const names = element(der, value.start);
      for (const name of children(der, names)) {
        if (name.tag === 0x86) uris.push(fromUtf8(der.subarray(name.start, name.end))); // [6] URI
      }
    }
  }
  return { spki: spki.raw, uris };
}

/** Resolves if `jwk` is `authority`'s key by its certificate; throws UntrustedAuthorityKey. */
export async function checkAuthorityKey(jwk, authority) {
  if (!jwk || jwk.kty !== "RSA" || !Array.isArray(jwk.x5c) || !jwk.x5c.length) {
    throw new UntrustedAuthorityKey("authority keys are RSA keys with an x5c chain");
  }
  let facts;
  try {
    facts = certificateFacts(b64Decode(jwk.x5c[0]));
  } catch {
    throw new UntrustedAuthorityKey("the first x5c certificate cannot be read");
  }
  const key = await crypto.subtle.importKey(
    "jwk", { kty: "RSA", n: jwk.n, e: jwk.e, ext: true }, { name: "RSA-OAEP", hash: "SHA-256" }, true, ["encrypt"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", key));
  if (!equalBytes(spki, facts.spki)) {
    throw new UntrustedAuthorityKey("the first x5c certificate does not certify this key");
  }
  const named = facts.uris.filter((u) => u.startsWith(PREFIX));
  if (named.length !== 1 || named[0] !== PREFIX + authority) {
    throw new UntrustedAuthorityKey(`the certificate is not issued for authority '${authority}'`);
  }
}
