// The audit log's formats, verified on the device (docs/audit-log.md §1 and §3):
// RFC 9162 tree hashing, inclusion and consistency proofs, C2SP signed notes and checkpoints
// with Ed25519 (WebCrypto), verifier keys, and the signature line a DPO co-signs with. The
// DPO console uses it directly, the applicant's access log through auditproof.js.
// Every failed check throws InvalidLog with one fixed message, whatever check failed
// (docs/style: fail closed, one opaque error); `what` says which step, for the page only.
import { b64Decode, b64Encode, concat, equalBytes, utf8 } from "./b64url.js";

export class InvalidLog extends Error {
  constructor(what) {
    super("the audit log did not verify");
    this.name = "InvalidLog";
    this.what = what;
  }
}

const fail = (what) => {
  throw new InvalidLog(what);
};

async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

/** SHA-256(0x00 || leaf bytes) (RFC 9162 §2.1.1). */
export const leafHash = (leaf) => sha256(Uint8Array.of(0), leaf);
/** SHA-256(0x01 || left || right). */
export const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

/** RFC 9162 §2.1.3.2: `leafHashValue` is at `index` of the tree of `size` with `root`. */
export async function verifyInclusion(index, size, leafHashValue, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    fail("inclusion index");
  }
  let fn = index;
  let sn = size - 1;
  let r = leafHashValue;
  for (const p of proof) {
    if (!(p instanceof Uint8Array) || p.length !== 32 || sn === 0) fail("inclusion proof");
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0 || !equalBytes(r, root)) fail("inclusion root");
}

const isPow2 = (n) => n > 0 && Number.isInteger(Math.log2(n)) && 2 ** Math.log2(n) === n;
const half = (n) => Math.floor(n / 2);
const odd = (n) => n % 2 === 1;

/** RFC 9162 §2.1.4.2: does `proof` show that the tree of size2 (root2) extends the tree of
 * size1 (root1)? Sizes are plain numbers (< 2^53), so no 32-bit bit operations. */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1) {
    fail("consistency sizes");
  }
  if (size1 === size2) {
    if (proof.length || !equalBytes(root1, root2)) fail("consistency equal sizes");
    return;
  }
  if (size1 === 0) {
    if (proof.length) fail("consistency from zero");
    return;
  }
  if (!proof.length) fail("consistency empty proof");
  const path = isPow2(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) fail("consistency too long");
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0 || !equalBytes(fr, root1) || !equalBytes(sr, root2)) fail("consistency roots");
}

/** The 4-byte key hash: SHA-256(name || 0x0A || alg || public key)[:4]. */
export async function keyHash(name, alg, publicKey) {
  return (await sha256(utf8(name), Uint8Array.of(0x0a, alg), publicKey)).slice(0, 4);
}

const NAME = /^[^\s+\u2014]+$/;

/** Parse `<name>+<8 hex>+<b64(0x01 || key)>` (Go's note verifier key) and check its hash. */
export async function parseVerifierKey(text) {
  // name and hash contain no "+"; the base64 key may
  const m = typeof text === "string" ? /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text.trim()) : null;
  const parts = m ? m.slice(1) : [];
  if (parts.length !== 3 || !NAME.test(parts[0]) || !/^[0-9a-f]{8}$/.test(parts[1])) {
    fail("verifier key format");
  }
  let raw;
  try {
    raw = b64Decode(parts[2]);
  } catch {
    fail("verifier key base64");
  }
  if (raw.length !== 33 || raw[0] !== 0x01) fail("verifier key algorithm");
  const publicKey = raw.slice(1);
  const hash = await keyHash(parts[0], 0x01, publicKey);
  if (hashHex(hash) !== parts[1]) fail("verifier key hash");
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  return { name: parts[0], keyHash: hash, publicKey, key, text };
}

const hashHex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Split a signed note into its text (up to and including the last "\n" before the blank
 * line) and its signature lines `— <name> <b64(key hash || signature)>`. */
export function parseNote(note) {
  if (typeof note !== "string" || !note.endsWith("\n") || note.includes("\r")) fail("note format");
  const at = note.lastIndexOf("\n\n");
  if (at < 0) fail("note format");
  const text = note.slice(0, at + 1);
  const signatures = [];
  for (const line of note.slice(at + 2).split("\n").slice(0, -1)) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) fail("signature line");
    let raw;
    try {
      raw = b64Decode(m[2]);
    } catch {
      fail("signature base64");
    }
    if (raw.length < 5) fail("signature length");
    signatures.push({ name: m[1], keyHash: raw.slice(0, 4), signature: raw.slice(4), line: line + "\n" });
  }
  if (!signatures.length) fail("unsigned note");
  return { text, signatures };
}

/** Does one of `signatures` verify over `text` under `verifier` (a plain Ed25519 note
 * signature, algorithm 0x01)? */
async function signedBy(text, signatures, verifier) {
  for (const s of signatures) {
    if (s.name !== verifier.name || !equalBytes(s.keyHash, verifier.keyHash)) continue;
    if (s.signature.length !== 64) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, verifier.key, s.signature, utf8(text))) {
      return true;
    }
  }
  return false;
}

/** Verify a checkpoint note signed by `verifier` (from parseVerifierKey) for `origin` (any
 * origin when null); returns {origin, size, root (bytes), text, signatures}. */
export async function verifyCheckpoint(note, verifier, origin = null) {
  const { text, signatures } = parseNote(note);
  if (!(await signedBy(text, signatures, verifier))) fail("checkpoint signature");
  const lines = text.split("\n");
  if (lines.length < 4 || !lines[0] || (origin !== null && lines[0] !== origin)) fail("checkpoint origin");
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) fail("checkpoint size");
  const size = Number(lines[1]);
  if (!Number.isSafeInteger(size)) fail("checkpoint size");
  let root;
  try {
    root = b64Decode(lines[2]);
  } catch {
    fail("checkpoint root");
  }
  if (root.length !== 32) fail("checkpoint root");
  return { origin: lines[0], size, root, text, signatures };
}

/** Whether a co-signature line (a witness's or a DPO's plain Ed25519 note signature)
 * verifies over the checkpoint text under `verifierKey`. Never throws. */
export async function cosignatureValid(text, line, verifierKey) {
  try {
    const verifier = await parseVerifierKey(verifierKey);
    const { signatures } = parseNote(text + "\n" + line);
    return await signedBy(text, signatures, verifier);
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ a DPO's co-signing key
/** A new Ed25519 key pair; the private key cannot leave the browser (non-extractable). */
export async function newCosigningKey(name) {
  if (!NAME.test(name)) throw new TypeError("a key name has no spaces, '+' or '\u2014'");
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const hash = await keyHash(name, 0x01, publicKey);
  const verifierKey = `${name}+${hashHex(hash)}+${b64Encode(concat(Uint8Array.of(1), publicKey))}`;
  return { name, privateKey: pair.privateKey, keyHash: hash, verifierKey };
}

/** The note signature line `— <name> <b64(key hash || Ed25519(text))>` over `text`. */
export async function cosign(key, text) {
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, utf8(text)));
  return `\u2014 ${key.name} ${b64Encode(concat(key.keyHash, signature))}\n`;
}
