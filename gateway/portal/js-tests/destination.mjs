// Drives the apply page's destination-key check (../static/js/apply-destination.js) under
// Node 20 for the parity test with gateway/fitconnect validate_destination_key
// (tests/gateway/portal/test_apply_node.py):
//   node destination.mjs <request.json>  ->  {results: [null | "refusal text", ...]}
// request: {trust: {anchors: [PEM], crls: [PEM]}, now, cases: [{jwk, authority, expectedKid}]}

import { readFile } from "node:fs/promises";
import { runInThisContext } from "node:vm";

// Both are classic scripts in the page: run them as such (x509.js sets the global x509).
for (const script of ["../static/vendor/x509/reflect-metadata.js", "../static/vendor/x509/x509.js"]) {
  runInThisContext(await readFile(new URL(script, import.meta.url), "utf8"));
}
const { parseTrust, validateDestinationKey } = await import("../static/js/apply-destination.js");

const req = JSON.parse(await readFile(process.argv[2], "utf8"));
const trust = parseTrust(req.trust);
const results = [];
for (const { jwk, authority, expectedKid } of req.cases) {
  try {
    await validateDestinationKey(jwk, { authority, expectedKid, trust, now: new Date(req.now) });
    results.push(null);
  } catch (error) {
    results.push(`${error.name}: ${error.message}`);
  }
}
process.stdout.write(JSON.stringify({ results }));
