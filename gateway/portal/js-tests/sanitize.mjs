// Node harness of the browser sanitizer (static/js/documents-sanitize.js) for
// tests/gateway/portal/test_documents_sanitize.py: `node sanitize.mjs request.json` with
// {"files": [{"name", "path"}], "out": dir} writes each sanitized file to out/<index> and
// prints {"ok": true, "results": [{"mediaType", "removed"} | {"error": code} | null]}.
import { readFile, writeFile } from "node:fs/promises";
import { SanitizeError, sanitize } from "../static/js/documents-sanitize.js";

const request = JSON.parse(await readFile(process.argv[2], "utf8"));
const results = [];
for (const [index, file] of request.files.entries()) {
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
