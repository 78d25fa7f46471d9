// Drives the apply page's form logic (../static/js/apply-schema.js) under Node 20 for the
// parity tests with gateway/client/flowdata (tests/gateway/portal/test_apply_node.py):
//   node apply.mjs <request.json>   ->  one JSON object on stdout
// request: {flow, messages, today, cases: [{data, lang}]}; answer: {results: [{errors, facts}]}
// or {metadata: {version, dataText, ...build_metadata's arguments}}; answer: {metadata}
// or {summary: {flow, data, lang, attachments, out}}: the PDF to `out`; answer: {lines}

import { readFile, writeFile } from "node:fs/promises";
import { feeFacts, validate } from "../static/js/apply-schema.js";
import { buildMetadata, sha512Hex } from "../static/js/apply-metadata.js";
import { summaryLines, summaryPdf } from "../static/js/apply-summary.js";

const req = JSON.parse(await readFile(process.argv[2], "utf8"));
if (req.summary) {
  const { flow, data, lang, attachments, out } = req.summary;
  await writeFile(out, await summaryPdf(flow, data, lang, attachments));
  process.stdout.write(JSON.stringify({ lines: summaryLines(flow, data, lang, attachments) }));
  process.exit(0);
}
if (req.metadata) {
  const { version, dataText, ...rest } = req.metadata;
  const dataHash = await sha512Hex(new TextEncoder().encode(dataText));
  process.stdout.write(JSON.stringify({ metadata: buildMetadata(version, { ...rest, dataHash }) }));
  process.exit(0);
}
const today = new Date(req.today + "T12:00:00Z");
const results = req.cases.map(({ data, lang }) => {
  const errors = validate(req.flow.schema, data, lang, req.messages).map((e) => [e.pointer, e.message]);
  let facts;
  try {
    facts = feeFacts(req.flow, data, today);
  } catch (error) {
    facts = { error: String(error.message) };
  }
  return { errors, facts };
});
process.stdout.write(JSON.stringify({ results }));
