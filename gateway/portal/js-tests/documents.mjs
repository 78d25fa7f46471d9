// Node harness of the documents page's modules for tests/gateway/portal/test_documents_node.py
// and test_documents_sanitize.py: `node documents.mjs COMMAND request.json`, JSON on stdout.
//   sanitize  {"files": [{"name", "path"}], "out": dir}: each sanitized file to out/<index>;
//             {"ok": true, "results": [{"mediaType", "removed"} | {"error": code} | null]}
import { readFile, writeFile } from "node:fs/promises";
import { SanitizeError, sanitize } from "../static/js/documents-sanitize.js";

const [command, path] = process.argv.slice(2);
const request = JSON.parse(await readFile(path, "utf8"));
const results = [];
for (const [index, file] of command === "sanitize" ? request.files.entries() : []) {
  const bytes = new Uint8Array(await readFile(file.path));
  try {
    const done = await sanitize(bytes, file.name);
    if (done === null) {
      results.push(null);
      continue;
    }
    await writeFile(`${request.out}/${index}`, done.bytes);
    results.push({ mediaType: done.mediaType, removed: done.removed });
  } catch (e) {
    if (!(e instanceof SanitizeError)) throw e;
    results.push({ error: e.code, message: e.message });
  }
}
process.stdout.write(JSON.stringify({ ok: true, results }));
