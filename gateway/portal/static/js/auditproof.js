// Verifies the audit log on the device (docs/audit-log.md): the log's signed checkpoint
// (C2SP signed note, Ed25519 through WebCrypto), the ozg-audit-leaf/v1 bytes of an entry,
// and its RFC 9162 inclusion proof (SHA-256 through WebCrypto) against the checkpoint's root.
// Every failure throws the same InvalidProof, whatever check failed (as compliance/ does).
import { b64Decode, concat, equalBytes, hexEncode, utf8 } from "./b64url.js";

export const LEAF_MARKER = "ozg-audit-leaf/v1\n";
export const LEAF_FIELDS = [
  "entry_id", "at", "request_id", "actor_role", "actor_authority", "actor_client_id",
  "action", "purpose", "legal_basis", "outcome", "disclosed_after", "commitment",
];
const ALG_ED25519 = 0x01;
const DASH = "\u2014";

export class InvalidProof extends Error {
  constructor() {
    super("the audit log entry does not verify");
    this.name = "InvalidProof";
  }
}

const subtle = () => globalThis.crypto.subtle;
const sha256 = async (...parts) => new Uint8Array(await subtle().digest("SHA-256", concat(...parts)));
const validName = (name) => name.length > 0 && !name.includes("+") && !/\s/.test(name);

function decodeB64(text) {
  try {
    return b64Decode(text);
  } catch {
    throw new InvalidProof();
  }
}

// ------------------------------------------------------------------ tree hashing
export const leafHash = (leaf) => sha256(new Uint8Array([0x00]), leaf);
export const nodeHash = (left, right) => sha256(new Uint8Array([0x01]), left, right);

/** RFC 9162 §2.1.3.2: `leafHashValue` is at `index` of the tree of `size` with `root`. */
export async function verifyInclusion(index, size, leafHashValue, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new InvalidProof();
  }
  let fn = index;
  let sn = size - 1;
  let r = leafHashValue;
  for (const p of proof) {
    if (p.length !== 32 || sn === 0) throw new InvalidProof();
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0 || !equalBytes(r, root)) throw new InvalidProof();
}

// ------------------------------------------------------------------ leaf bytes
/** The fields of an ozg-audit-leaf/v1 (texts, or null when absent; commitment as hex). */
export function decodeLeaf(leaf) {
  const marker = utf8(LEAF_MARKER);
  if (leaf.length < marker.length || !equalBytes(leaf.subarray(0, marker.length), marker)) {
    throw new InvalidProof();
  }
  const view = new DataView(leaf.buffer, leaf.byteOffset, leaf.byteLength);
  let pos = marker.length;
  const fields = {};
  for (const name of LEAF_FIELDS) {
    if (pos >= leaf.length) throw new InvalidProof();
    const tag = leaf[pos];
    pos += 1;
    if (tag === 0x00) {
      fields[name] = null;
      continue;
    }
    if (tag !== 0x01 || pos + 4 > leaf.length) throw new InvalidProof();
    const length = view.getUint32(pos);
    pos += 4;
    if (pos + length > leaf.length) throw new InvalidProof();
    const bytes = leaf.subarray(pos, pos + length);
    pos += length;
    if (name === "commitment") {
      if (length !== 32) throw new InvalidProof();
      fields[name] = hexEncode(bytes);
    } else {
      try {
        fields[name] = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        throw new InvalidProof();
      }
    }
  }
  if (pos !== leaf.length) throw new InvalidProof();
  return fields;
}

// ------------------------------------------------------------------ signed notes
/** `<name>+<8 hex key hash>+<b64(0x01 || Ed25519 public key)>` -> {name, keyHash, publicKey}. */
export async function parseVerifierKey(vkey) {
  const text = String(vkey).trim();
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) throw new InvalidProof();
  const parts = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  if (!validName(parts[0]) || !/^[0-9a-fA-F]{8}$/.test(parts[1])) {
    throw new InvalidProof();
  }
  const raw = decodeB64(parts[2]);
  if (raw.length !== 33 || raw[0] !== ALG_ED25519) throw new InvalidProof();
  const name = parts[0];
  const keyHash = (await sha256(utf8(name), new Uint8Array([0x0a]), raw)).subarray(0, 4);
  if (hexEncode(keyHash) !== parts[1].toLowerCase()) throw new InvalidProof();
  let publicKey;
  try {
    publicKey = await subtle().importKey("raw", raw.subarray(1), { name: "Ed25519" }, false, ["verify"]);
  } catch {
    throw new InvalidProof();
  }
  return { name, keyHash, publicKey };
}

function splitNote(note) {
  const at = note.lastIndexOf("\n\n");
  if (at < 0) throw new InvalidProof();
  const text = note.slice(0, at + 1);
  const sigs = note.slice(at + 2);
  if (!sigs.endsWith("\n") || !text.endsWith("\n") || text.includes("\n\n") || note.includes("\r")) {
    throw new InvalidProof();
  }
  const lines = sigs.slice(0, -1).split("\n").map((line) => {
    const parts = line.split(" ");
    if (parts.length !== 3 || parts[0] !== DASH || !validName(parts[1])) throw new InvalidProof();
    const raw = decodeB64(parts[2]);
    if (raw.length < 5) throw new InvalidProof();
    return { name: parts[1], keyHash: raw.subarray(0, 4), signature: raw.subarray(4) };
  });
  return { text, lines };
}

/** The checkpoint {origin, size, root} of `note` if the key `vkey` signed it. */
export async function verifyCheckpoint(note, vkey) {
  if (typeof note !== "string") throw new InvalidProof();
  const verifier = await parseVerifierKey(vkey);
  const { text, lines } = splitNote(note);
  let signed = false;
  for (const line of lines) {
    if (line.name !== verifier.name || !equalBytes(line.keyHash, verifier.keyHash)) continue;
    if (line.signature.length !== 64) continue;
    if (await subtle().verify({ name: "Ed25519" }, verifier.publicKey, line.signature, utf8(text))) {
      signed = true;
      break;
    }
  }
  if (!signed) throw new InvalidProof();
  const [origin, sizeText, rootText] = text.split("\n");
  if (!origin || !/^(0|[1-9][0-9]*)$/.test(sizeText || "")) throw new InvalidProof();
  const size = Number(sizeText);
  const root = decodeB64(rootText || "");
  if (!Number.isSafeInteger(size) || root.length !== 32) throw new InvalidProof();
  return { origin, size, root };
}

// ------------------------------------------------------------------ access-log entries
/**
 * Verify one entry of GET /v1/me/access-log against a verified checkpoint: its leaf bytes
 * hash into the signed tree at `leaf_index`, and every field shown to the applicant is the
 * leaf's own. Returns the decoded leaf (what the page shows), else throws InvalidProof.
 */
export async function verifyEntry(entry, checkpoint) {
  if (!entry || typeof entry.leaf !== "string" || !Array.isArray(entry.inclusion_proof)) {
    throw new InvalidProof();
  }
  const leaf = decodeB64(entry.leaf);
  const fields = decodeLeaf(leaf);
  // compliance.views.actor_name: "you" for the applicant's own actions
  const who = fields.actor_role === "applicant" ? "you" : fields.actor_authority || fields.actor_client_id || "ozg-commons";
  const shown = [
    [entry.at, fields.at],
    [entry.role, fields.actor_role],
    [entry.who, who],
    [entry.action, fields.action],
    [entry.outcome && entry.outcome.code, fields.outcome],
    [entry.why && entry.why.purpose, fields.purpose],
    [entry.why && entry.why.legal_basis, fields.legal_basis],
  ];
  if (shown.some(([a, b]) => a !== b)) throw new InvalidProof();
  const proof = entry.inclusion_proof.map((p) => (typeof p === "string" ? decodeB64(p) : null));
  if (proof.includes(null)) throw new InvalidProof();
  await verifyInclusion(entry.leaf_index, checkpoint.size, await leafHash(leaf), proof, checkpoint.root);
  return fields;
}

