// Node 20 check of static/js/auditlog.js against the RFC 6962 vectors and the C2SP example
// checkpoint of docs/audit-log.md §3; driven by tests/gateway/portal/test_dpo_node.py.
// Prints one JSON object: {"ok": true, ...results}.
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";

if (!globalThis.crypto) globalThis.crypto = webcrypto;
const log = await import("../static/js/auditlog.js");
const { hexDecode } = await import("../static/js/b64url.js");

// request: {vectors: rfc6962.json, generated: [{size1, size2, root1, root2, proof}] (hex),
//           note, verifier_key}
const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { vectors, note, verifier_key: verifierKey } = request;
const roots = vectors.roots.map(hexDecode);
const rootOf = (n) => (n === 0 ? hexDecode(vectors.empty_root) : roots[n - 1]);

async function rejects(fn) {
  try {
    await fn();
    return false;
  } catch (e) {
    return e instanceof log.InvalidLog && e.message === "the audit log did not verify";
  }
}

const out = { ok: true, consistency: 0, tampered_rejected: 0, tampered: 0 };
const cases = [
  ...vectors.consistency.map((c) => ({ ...c, r1: rootOf(c.size1), r2: rootOf(c.size2) })),
  ...request.generated.map((c) => ({ ...c, r1: hexDecode(c.root1), r2: hexDecode(c.root2) })),
];
for (const c of cases) {
  const proof = c.proof.map(hexDecode);
  await log.verifyConsistency(c.size1, c.size2, c.r1, c.r2, proof);
  out.consistency++;
  for (let i = 0; i < proof.length; i++) {
    const bad = proof.map((p) => p.slice());
    bad[i][0] ^= 1;
    out.tampered++;
    if (await rejects(() => log.verifyConsistency(c.size1, c.size2, c.r1, c.r2, bad))) {
      out.tampered_rejected++;
    }
  }
  if (proof.length) {
    out.tampered++;
    if (await rejects(() => log.verifyConsistency(c.size1, c.size2, c.r1, c.r2, proof.slice(1)))) {
      out.tampered_rejected++;
    }
  }
}
const verifier = await log.parseVerifierKey(verifierKey);
const cp = await log.verifyCheckpoint(note, verifier, "PeterNeumann");
out.checkpoint_size = cp.size;
out.checkpoint_root_matches = Buffer.from(cp.root).toString("hex") === vectors.roots[7];
out.wrong_origin_rejected = await rejects(() => log.verifyCheckpoint(note, verifier, "Other"));
out.tampered_note_rejected = await rejects(() => log.verifyCheckpoint(note.replace("\n8\n", "\n9\n"), verifier, "PeterNeumann"));
out.bad_key_rejected = await rejects(() => log.parseVerifierKey(verifierKey.replace("+c74f20a3+", "+c74f20a4+")));
// a co-signing key made here verifies as a co-signature line, and only over its text
const key = await log.newCosigningKey("dpo.example/jane");
const line = await log.cosign(key, cp.text);
out.cosignature_valid = await log.cosignatureValid(cp.text, line, key.verifierKey);
out.cosignature_other_text = await log.cosignatureValid(cp.text.replace("8", "9"), line, key.verifierKey);
out.cosign_line = line;
out.cosign_verifier_key = key.verifierKey;
out.cosign_text = cp.text;
process.stdout.write(JSON.stringify(out));
