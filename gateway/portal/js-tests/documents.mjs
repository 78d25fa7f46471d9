// Node harness of the documents page's modules for tests/gateway/portal/test_documents_node.py
// and test_documents_sanitize.py: `node documents.mjs COMMAND request.json`, JSON on stdout.
//   sanitize  {"files": [{"name", "path"}], "out": dir}: each sanitized file to out/<index>;
//             {"ok": true, "results": [{"mediaType", "removed"} | {"error": code} | null]}
//   sanitize-file  the same through sanitizeFile over a Blob (what the upload streams)
import { readFile, writeFile } from "node:fs/promises";
import { SanitizeError, sanitize, sanitizeFile } from "../static/js/documents-sanitize.js";

const [command, path] = process.argv.slice(2);
const request = JSON.parse(await readFile(path, "utf8"));
const results = [];
const streamed = command === "sanitize-file";
for (const [index, file] of streamed || command === "sanitize" ? request.files.entries() : []) {
  const bytes = new Uint8Array(await readFile(file.path));
  try {
    const done = streamed ? await sanitizeFile(new Blob([bytes]), file.name) : await sanitize(bytes, file.name);
    if (done === null) {
      results.push(null);
      continue;
    }
    await writeFile(`${request.out}/${index}`, streamed ? new Uint8Array(await done.blob.arrayBuffer()) : done.bytes);
    results.push({ mediaType: done.mediaType, removed: done.removed });
  } catch (e) {
    if (!(e instanceof SanitizeError)) throw e;
    results.push({ error: e.code, message: e.message });
  }
}
process.stdout.write(JSON.stringify({ ok: true, results }));
