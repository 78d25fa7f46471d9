// Drives static/js/auditproof.js under Node 20 for tests/gateway/portal/test_cases_auditproof.py:
//   node auditproof.mjs <request.json>
// The request holds the cases to check; the answer (stdout, JSON) says for each whether it
// verified, and what the verifier decoded.
import { readFile } from "node:fs/promises";
import { hexDecode, hexEncode } from "../static/js/b64url.js";
import * as proof from "../static/js/auditproof.js";

async function outcome(work) {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (!(e instanceof proof.InvalidProof)) throw e;
    return { ok: false, error: e.message };
  }
}

const checks = {
  inclusion: (c) =>
    proof.verifyInclusion(c.index, c.size, hexDecode(c.leaf_hash), c.proof.map(hexDecode), hexDecode(c.root)),
  leafHash: async (c) => hexEncode(await proof.leafHash(hexDecode(c.leaf))),
  decodeLeaf: async (c) => proof.decodeLeaf(hexDecode(c.leaf)),
  checkpoint: async (c) => {
    const cp = await proof.verifyCheckpoint(c.note, c.verifier_key);
    return { origin: cp.origin, size: cp.size, root: hexEncode(cp.root) };
  },
  entry: async (c) => {
    const cp = await proof.verifyCheckpoint(c.note, c.verifier_key);
    return proof.verifyEntry(c.entry, cp);
  },
};

const request = JSON.parse(await readFile(process.argv[2], "utf8"));
const results = [];
for (const c of request.cases) results.push(await outcome(() => checks[c.check](c)));
process.stdout.write(JSON.stringify({ results }));
