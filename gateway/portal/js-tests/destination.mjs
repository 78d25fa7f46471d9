// Drives the portal's authority-key check (../static/js/authority-key.js) under Node 20 for
// the parity tests with gateway/fitconnect validate_destination_key and the vault's
// validate_authority_jwk (tests/gateway/portal/test_apply_destination_node.py):
//   node destination.mjs <request.json>  ->  {results: [null | "refusal text", ...]}
// request: {trust: {anchors: [PEM], crls: [PEM]}, now,
//           cases: [{jwk, authority, expectedKid, minBits}]}

import { readFile } from "node:fs/promises";
import { runInThisContext } from "node:vm";

// Both are classic scripts in the page: run them as such (x509.js sets the global x509).
for (const script of ["../static/vendor/x509/reflect-metadata.js", "../static/vendor/x509/x509.js"]) {
  runInThisContext(await readFile(new URL(script, import.meta.url), "utf8"));
}
const { parseTrust, validateDestinationKey } = await import("../static/js/authority-key.js");

const req = JSON.parse(await readFile(process.argv[2], "utf8"));
const trust = parseTrust(req.trust);
const results = [];
for (const { jwk, authority, expectedKid, minBits } of req.cases) {
  try {
    await validateDestinationKey(jwk, { authority, expectedKid, trust, now: new Date(req.now), minBits });
    results.push(null);
  } catch (error) {
    results.push(`${error.name}: ${error.message}`);
  }
}
process.stdout.write(JSON.stringify({ results }));
