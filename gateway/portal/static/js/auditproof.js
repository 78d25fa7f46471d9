// Verifies the applicant's access-log entries on the device (docs/audit-log.md): the
// ozg-audit-leaf/v1 bytes of an entry, its RFC 9162 inclusion proof against the log's signed
// checkpoint, and that what the page shows is the leaf's own. The tree and signed-note
// checks are auditlog.js's (the DPO console's too). Every failure throws the same
// InvalidProof, whatever check failed (as compliance/ does).
import { b64Decode, equalBytes, hexEncode, utf8 } from "./b64url.js";
import * as log from "./auditlog.js";

export const LEAF_MARKER = "ozg-audit-leaf/v1\n";
export const LEAF_FIELDS = [
  "entry_id", "at", "request_id", "actor_role", "actor_authority", "actor_client_id",
  "action", "purpose", "legal_basis", "outcome", "disclosed_after", "commitment",
];

export class InvalidProof extends Error {
  constructor() {
    super("the audit log entry does not verify");
    this.name = "InvalidProof";
  }
}

/** `work`'s result; any failure of the log's checks becomes the one InvalidProof. */
async function opaque(work) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidProof || error instanceof log.InvalidLog) throw new InvalidProof();
    throw error;
  }
}

function decodeB64(text) {
  try {
    return b64Decode(text);
  } catch {
    throw new InvalidProof();
  }
}

export const { leafHash, nodeHash } = log;

/** RFC 9162 §2.1.3.2 (auditlog.js), throwing InvalidProof. */
export const verifyInclusion = (index, size, leafHashValue, proof, root) =>
  opaque(() => log.verifyInclusion(index, size, leafHashValue, proof, root));

/** `<name>+<8 hex key hash>+<b64(0x01 || Ed25519 public key)>` -> {name, keyHash, key, ...}. */
export const parseVerifierKey = (vkey) => opaque(() => log.parseVerifierKey(String(vkey)));

/** The checkpoint {origin, size, root} of `note` if the key `vkey` signed it. */
export async function verifyCheckpoint(note, vkey) {
  return opaque(async () => {
    const { origin, size, root } = await log.verifyCheckpoint(note, await log.parseVerifierKey(String(vkey)));
    return { origin, size, root };
  });
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

