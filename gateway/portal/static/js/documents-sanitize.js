// Sanitizing in the browser before a document is sealed: the same rules as the Python
// sanitizer (vault/sanitize.py), so the authority's re-check (`revalidate_pdf`) finds nothing.
//
// PDF (pdf-lib, in memory up to MAX_PDF_BYTES; docs/adr/0006): actions are kept by an
// allow-list — GoTo to a destination inside the document and the Named actions NextPage,
// PrevPage, FirstPage, LastPage; every other action is removed wherever it hangs (catalog
// OpenAction, A of annotations, outline items and fields, inside /Next chains), additional
// actions (AA) go whole. Also removed: document JavaScript, embedded files, attachment and
// media annotations, XFA, portfolios, the document information dictionary, XMP metadata,
// private application data; then every object no longer reachable. Encrypted PDFs and PDFs
// pdf-lib cannot read are refused. JPEG and PNG (streamed: read a window at a time, any size):
// metadata segments and chunks are dropped losslessly, images above Pillow's 89.5 megapixel
// limit refused as Python refuses them. What was removed comes back as `removed`
// ({label: count}, Python's labels).
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFRef, PDFStream, PDFString } from "../vendor/pdf-lib/pdf-lib.esm.min.js";
import { release } from "./envelope-chunks.js";

export const PDF = "application/pdf";
export const JPEG = "image/jpeg";
export const PNG = "image/png";
export const MAX_PDF_BYTES = 100 * 1024 * 1024; // PDFs are parsed in memory
const EXTENSIONS = { ".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".jpe": JPEG, ".png": PNG };
const ALLOWED_NAMED = new Set(["/NextPage", "/PrevPage", "/FirstPage", "/LastPage"]);
const ACTION_TYPES = new Set([
  "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie",
  "/Hide", "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/SetOCGState",
  "/Rendition", "/Trans", "/GoTo3DView", "/JavaScript", "/RichMediaExecute",
]);
const ACTION_SLOTS = new Set(["/A", "/OpenAction", "/AA", "/Next"]);
const DROPPED_KEYS = [["Metadata", "XMP metadata"], ["EF", "embedded file"], ["PieceInfo", "private application data"]];
const BAD_ANNOTS = new Set(["/RichMedia", "/FileAttachment", "/Screen", "/Movie", "/Sound", "/3D"]);
const N = (name) => PDFName.of(name);

/** The one error of a file that cannot be sanitized; `code` names why (for translation). */
export class SanitizeError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SanitizeError";
    this.code = code;
  }
}

export function detectType(head) {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return JPEG;
  if ([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => head[i] === b)) return PNG;
  const text = String.fromCharCode(...head.subarray(0, 1024));
  return text.includes("%PDF-") ? PDF : null;
}

class Report {
  constructor(mediaType) {
    this.mediaType = mediaType;
    this.removed = {};
  }
  add(label, n = 1) {
    this.removed[label] = (this.removed[label] || 0) + n;
  }
  get empty() {
    return Object.keys(this.removed).length === 0;
  }
}

// ------------------------------------------------------------------------ PDF
class Cleaner {
  constructor(doc, report, fix) {
    this.ctx = doc.context;
    this.report = report;
    this.fix = fix;
    this.pages = new Set(doc.getPages().map((p) => p.ref.toString()));
    const root = doc.catalog;
    const dests = this.resolve(root.get(N("Dests")));
    this.namedDests = new Set(dests instanceof PDFDict ? dests.keys().map((k) => k.asString()) : []);
    const names = this.resolve(root.get(N("Names")));
    const tree = names instanceof PDFDict ? this.resolve(names.get(N("Dests"))) : null;
    this.stringDests = tree instanceof PDFDict ? this.nameTreeKeys(tree, 0) : null;
    this.reported = new Set();
  }

  resolve(obj) {
    return obj instanceof PDFRef ? this.ctx.lookup(obj) : obj;
  }

  nameTreeKeys(node, depth, out = new Set()) {
    if (depth > 32 || !(node instanceof PDFDict)) return out;
    const names = this.resolve(node.get(N("Names")));
    if (names instanceof PDFArray) {
      for (let i = 0; i < names.size(); i += 2) {
        const key = this.resolve(names.get(i));
        if (key instanceof PDFString || key instanceof PDFHexString) out.add(key.decodeText());
      }
    }
    const kids = this.resolve(node.get(N("Kids")));
    if (kids instanceof PDFArray) for (const kid of kids.asArray()) this.nameTreeKeys(this.resolve(kid), depth + 1, out);
    return out;
  }

  inside(raw) {
    const dest = this.resolve(raw);
    if (dest instanceof PDFArray) {
      if (dest.size() === 0) return false;
      const page = dest.get(0);
      return page instanceof PDFRef && this.pages.has(page.toString());
    }
    if (dest instanceof PDFName) return this.namedDests.has(dest.asString());
    if (dest instanceof PDFString || dest instanceof PDFHexString) {
      return this.stringDests !== null && this.stringDests.has(dest.decodeText());
    }
    return false;
  }

  allowed(action) {
    if (!(action instanceof PDFDict)) return false;
    const kind = nameOf(action.get(N("S")));
    if (kind === "/GoTo") return this.inside(action.get(N("D")));
    if (kind === "/Named") return ALLOWED_NAMED.has(textOf(this.resolve(action.get(N("N")))));
    return false;
  }

  static label(action) {
    const kind = action instanceof PDFDict ? nameOf(action.get(N("S"))) : null;
    return kind && ACTION_TYPES.has(kind) ? `${kind.slice(1)} action` : "unknown action";
  }

  /** Report `raw` and its /Next chain; empty indirect ones (no other reference keeps them). */
  dropChain(raw, seen = new Set()) {
    const action = this.resolve(raw);
    if (!(action instanceof PDFDict) || seen.has(action)) return;
    if (raw instanceof PDFRef) {
      if (this.reported.has(raw.toString())) return;
      this.reported.add(raw.toString());
    }
    seen.add(action);
    this.report.add(Cleaner.label(action));
    const following = this.resolve(action.get(N("Next")));
    for (const item of following instanceof PDFArray ? following.asArray() : [action.get(N("Next"))]) {
      this.dropChain(item, seen);
    }
    if (this.fix && raw instanceof PDFRef) for (const key of action.keys()) action.delete(key);
  }

  keepOrDrop(raw, depth = 0) {
    const action = this.resolve(raw);
    if (depth > 64 || !this.allowed(action)) return false;
    const rawNext = action.get(N("Next"));
    if (rawNext === undefined) return true;
    const following = this.resolve(rawNext);
    if (following instanceof PDFArray) {
      const items = following.asArray();
      const flags = items.map((item) => this.keepOrDrop(item, depth + 1));
      items.forEach((item, i) => flags[i] || this.dropChain(item));
      if (this.fix && !flags.every(Boolean)) action.set(N("Next"), this.ctx.obj(items.filter((_, i) => flags[i])));
    } else if (!this.keepOrDrop(rawNext, depth + 1)) {
      this.dropChain(rawNext);
      if (this.fix) action.delete(N("Next"));
    }
    return true;
  }

  slot(parent, key, label = null) {
    const raw = parent.get(N(key));
    if (this.keepOrDrop(raw)) return;
    if (label !== null) this.report.add(label);
    this.dropChain(raw);
    if (this.fix) parent.delete(N(key));
  }

  /** Clean one dictionary (`ref`: its own reference if indirect) and its direct children. */
  visit(obj, ref = null) {
    for (const [key, label] of DROPPED_KEYS) {
      if (obj.has(N(key))) {
        this.report.add(label);
        if (this.fix) obj.delete(N(key));
      }
    }
    if (obj.has(N("AA"))) {
      this.report.add("additional actions");
      const triggers = this.resolve(obj.get(N("AA")));
      if (triggers instanceof PDFDict) for (const [, trigger] of triggers.entries()) this.dropChain(trigger);
      if (this.fix) obj.delete(N("AA"));
    }
    if (obj.has(N("OpenAction"))) {
      const opening = this.resolve(obj.get(N("OpenAction")));
      if (opening instanceof PDFArray) {
        if (!this.inside(opening)) {
          this.report.add("open action");
          if (this.fix) obj.delete(N("OpenAction"));
        }
      } else {
        this.slot(obj, "OpenAction", "open action");
      }
    }
    const action = this.resolve(obj.get(N("A")));
    if (action instanceof PDFDict && (action.has(N("S")) || action.has(N("Type")))) this.slot(obj, "A");
    if (this.looksLikeAction(obj) && !this.keepOrDrop(ref || obj)) this.dropChain(ref || obj);
    for (const [key, value] of obj.entries()) {
      if (!ACTION_SLOTS.has(key.asString())) this.descend(value);
    }
  }

  descend(value) {
    if (value instanceof PDFDict) this.visit(value);
    else if (value instanceof PDFArray) for (const item of value.asArray()) this.descend(item);
  }

  looksLikeAction(obj) {
    if (nameOf(obj.get(N("Type"))) === "/Action") return true;
    return !obj.has(N("Type")) && ACTION_TYPES.has(nameOf(obj.get(N("S"))));
  }
}

function nameOf(obj) {
  return obj instanceof PDFName ? obj.asString() : null;
}

/** A name, or a string's text (as Python's str() of either: N may be written as a string). */
function textOf(obj) {
  if (obj instanceof PDFString || obj instanceof PDFHexString) return obj.decodeText();
  return nameOf(obj);
}

function scan(doc, report, fix) {
  const root = doc.catalog;
  const ctx = doc.context;
  const resolve = (o) => (o instanceof PDFRef ? ctx.lookup(o) : o);
  const names = resolve(root.get(N("Names")));
  if (names instanceof PDFDict) {
    for (const [key, label] of [["JavaScript", "document JavaScript"], ["EmbeddedFiles", "embedded files"]]) {
      if (names.has(N(key))) {
        report.add(label);
        if (fix) names.delete(N(key));
      }
    }
  }
  const form = resolve(root.get(N("AcroForm")));
  if (form instanceof PDFDict && form.has(N("XFA"))) {
    report.add("XFA form");
    if (fix) {
      form.delete(N("XFA"));
      root.delete(N("NeedsRendering"));
    }
  }
  if (root.has(N("Collection"))) {
    report.add("portfolio");
    if (fix) root.delete(N("Collection"));
  }
  if (ctx.trailerInfo.Info) {
    report.add("document info");
    if (fix) ctx.trailerInfo.Info = undefined;
  }
  for (const page of doc.getPages()) {
    const annots = resolve(page.node.get(N("Annots")));
    if (!(annots instanceof PDFArray)) continue;
    const all = annots.asArray();
    const keep = all.filter((a) => {
      const annot = resolve(a);
      return annot instanceof PDFDict && !BAD_ANNOTS.has(nameOf(annot.get(N("Subtype"))));
    });
    if (keep.length !== all.length) {
      report.add("attachment or media annotation", all.length - keep.length);
      if (fix) page.node.set(N("Annots"), ctx.obj(keep));
    }
  }
  const cleaner = new Cleaner(doc, report, fix);
  for (const [ref, obj] of ctx.enumerateIndirectObjects()) {
    if (obj instanceof PDFStream) cleaner.visit(obj.dict);
    else if (obj instanceof PDFDict) cleaner.visit(obj, ref);
    else if (obj instanceof PDFArray) for (const item of obj.asArray()) cleaner.descend(item);
  }
}

/** Delete every indirect object the trailer no longer reaches (what was cut off above). */
function dropUnreachable(doc) {
  const ctx = doc.context;
  const seen = new Set();
  const stack = [ctx.trailerInfo.Root, ctx.trailerInfo.Encrypt].filter(Boolean);
  while (stack.length) {
    const item = stack.pop();
    if (item instanceof PDFRef) {
      if (seen.has(item.toString())) continue;
      seen.add(item.toString());
      const target = ctx.lookup(item);
      if (target) stack.push(target);
    } else if (item instanceof PDFStream) {
      stack.push(item.dict);
    } else if (item instanceof PDFDict) {
      for (const [, value] of item.entries()) stack.push(value);
    } else if (item instanceof PDFArray) {
      stack.push(...item.asArray());
    }
  }
  for (const [ref] of ctx.enumerateIndirectObjects()) if (!seen.has(ref.toString())) ctx.delete(ref);
}

async function loadPdf(bytes) {
  let doc;
  try {
    doc = await PDFDocument.load(bytes, { updateMetadata: false, ignoreEncryption: true, throwOnInvalidObject: true });
  } catch {
    throw new SanitizeError("damaged", "the PDF is damaged beyond repair");
  }
  if (doc.isEncrypted) throw new SanitizeError("encrypted", "the PDF is encrypted; upload an unprotected copy");
  return doc;
}

/** What sanitizing would remove from a PDF, without changing it (the re-check). */
export async function inspectPdf(bytes) {
  const report = new Report(PDF);
  try {
    scan(await loadPdf(bytes), report, false);
  } catch (e) {
    if (e instanceof SanitizeError) throw e;
    throw new SanitizeError("damaged", "the PDF is damaged beyond repair");
  }
  return report;
}

export async function sanitizePdf(bytes) {
  if (bytes.length > MAX_PDF_BYTES) throw new SanitizeError("too-large", "the PDF is larger than the browser can sanitize");
  const report = new Report(PDF);
  let out;
  try {
    const doc = await loadPdf(bytes);
    scan(doc, report, true);
    dropUnreachable(doc);
    out = await doc.save({ useObjectStreams: false, addDefaultPage: false, updateFieldAppearances: false });
  } catch (e) {
    if (e instanceof SanitizeError) throw e;
    throw new SanitizeError("damaged", "the PDF is damaged beyond repair");
  }
  const check = await inspectPdf(out);
  if (!check.empty) throw new SanitizeError("active", "the PDF still carries active content");
  return { bytes: out, report };
}

// ------------------------------------------------------------------------ images
const JPEG_DROP = new Set([0xe1, 0xed, 0xfe, 0xef, ...Array.from({ length: 10 }, (_, i) => 0xe3 + i)]);
const PNG_KEEP = new Set(["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "pHYs", "bKGD", "acTL", "fcTL", "fdAT"]);
const JPEG_FRAMES = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
// Pillow's decompression-bomb limit, which the Python sanitizer enforces (its warning is an error).
export const MAX_IMAGE_PIXELS = 89_478_485;
const WINDOW = 1048576; // bytes of a File read at once by the image walks

// The same walk as vault/sanitize.py _strip_jpeg: marker segments by an allow-list, the scans'
// entropy-coded data as it is (metadata between scans dropped), nothing after EOI.
const JPEG_KEEP = new Set([
  ...Array.from({ length: 16 }, (_, i) => 0xc0 + i), // SOF0-15, DHT, DAC
  0xdb, 0xdc, 0xdd, 0xde, 0xdf, // DQT, DNL, DRI, DHP, EXP
  0xda, 0xe0, 0xe2, 0xee, // SOS, JFIF, ICC profile, Adobe
]);

/**
 * Random access for the image walks to bytes or a Blob; a Blob is read a window at a time,
 * so a 200 MiB scan is never in memory whole. `at(pos, n)`: the bytes [pos, pos + n), fewer
 * at the end, as a view that is valid until the next call.
 */
class Cursor {
  constructor(source) {
    this.bytes = source instanceof Uint8Array ? source : null;
    this.blob = this.bytes ? null : source;
    this.size = this.bytes ? this.bytes.length : source.size;
    this.start = 0;
    this.window = this.bytes || new Uint8Array(0);
  }

  async at(pos, n) {
    const end = Math.min(pos + n, this.size);
    if (this.blob && (pos < this.start || end > this.start + this.window.length)) {
      release(this.window);
      this.start = pos;
      this.window = new Uint8Array(await this.blob.slice(pos, Math.max(end, pos + WINDOW)).arrayBuffer());
    }
    return this.window.subarray(pos - this.start, end - this.start);
  }
}

const u16 = (b, i) => (b[i] << 8) | b[i + 1];
const u32 = (b, i) => ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);

function checkPixels(width, height) {
  if (width * height > MAX_IMAGE_PIXELS) throw new SanitizeError("damaged", "the image cannot be decoded");
}

/** Add [start, end) to `ranges`, joined to the last one when they touch. */
function keep(ranges, start, end) {
  const last = ranges[ranges.length - 1];
  if (last && last[1] === start) last[1] = end;
  else ranges.push([start, end]);
}

/** Where the entropy-coded data from `pos` ends: the first marker that is not a stuffed zero or RST0-7. */
async function scanEnd(cursor, pos) {
  for (;;) {
    const w = await cursor.at(pos, WINDOW);
    if (w.length < 2) throw new SanitizeError("damaged", "the JPEG is truncated");
    let i = w.indexOf(0xff);
    while (i >= 0 && i + 1 < w.length) {
      const follower = w[i + 1];
      if (follower !== 0x00 && !(follower >= 0xd0 && follower <= 0xd7)) return pos + i;
      i = w.indexOf(0xff, i + 2);
    }
    pos += i < 0 ? w.length : i; // an 0xFF in the window's last byte: read on from it
  }
}

/** The byte ranges of a JPEG that stay, as [start, end) pairs. */
async function walkJpeg(cursor, report) {
  const ranges = [[0, 2]];
  let pos = 2;
  while (pos < cursor.size) {
    const head = await cursor.at(pos, 9);
    if (head[0] !== 0xff || pos + 1 >= cursor.size) throw new SanitizeError("damaged", "the JPEG is malformed");
    const marker = head[1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    if (marker === 0xd9) {
      keep(ranges, pos, pos + 2);
      return ranges;
    }
    if (!JPEG_KEEP.has(marker) && !JPEG_DROP.has(marker)) throw new SanitizeError("damaged", "the JPEG is malformed");
    if (pos + 4 > cursor.size) throw new SanitizeError("damaged", "the JPEG is truncated");
    const length = u16(head, 2);
    if (length < 2 || pos + 2 + length > cursor.size) throw new SanitizeError("damaged", "the JPEG is truncated");
    if (JPEG_FRAMES.has(marker) && length >= 7) checkPixels(u16(head, 7), u16(head, 5));
    const segment = pos;
    pos += 2 + length;
    if (JPEG_DROP.has(marker)) {
      report.add("EXIF/XMP/IPTC/comment segment");
      continue;
    }
    keep(ranges, segment, pos);
    if (marker === 0xda) {
      const end = await scanEnd(cursor, pos);
      keep(ranges, pos, end);
      pos = end;
    }
  }
  throw new SanitizeError("damaged", "the JPEG has no end of image");
}

/** The byte ranges of a PNG that stay: the signature and the allowed chunks. */
async function walkPng(cursor, report) {
  const ranges = [[0, 8]];
  let pos = 8;
  while (pos + 8 <= cursor.size) {
    const head = await cursor.at(pos, 16);
    const length = u32(head, 0);
    const type = String.fromCharCode(...head.subarray(4, 8));
    if (pos + 12 + length > cursor.size) throw new SanitizeError("damaged", "the PNG is truncated");
    if (type === "IHDR" && length >= 8) checkPixels(u32(head, 8), u32(head, 12));
    if (PNG_KEEP.has(type)) keep(ranges, pos, pos + 12 + length);
    else report.add(`PNG ${type} chunk`);
    pos += 12 + length;
    if (type === "IEND") return ranges;
  }
  throw new SanitizeError("damaged", "the PNG is truncated");
}

/** The image walk of `type` over `source` (bytes or a Blob): the ranges that stay. */
function walkImage(source, type, report) {
  const cursor = new Cursor(source);
  return type === JPEG ? walkJpeg(cursor, report) : walkPng(cursor, report);
}

function concatAll(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function checkImage(image, type) {
  if (typeof createImageBitmap !== "function") return; // Node: the structure check only
  try {
    (await createImageBitmap(image instanceof Blob ? image : new Blob([image], { type }))).close();
  } catch {
    throw new SanitizeError("damaged", "the image cannot be decoded");
  }
}

/** The type of a file from its first bytes, checked against its name's extension (null: not checked). */
function checkedType(head, name) {
  const type = detectType(head);
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 ? name.slice(dot).toLowerCase() : "";
  if (type !== null && ext && EXTENSIONS[ext] !== type) {
    throw new SanitizeError("mismatch", `the file is named ${ext} but its content is ${type}`);
  }
  return type;
}

/**
 * Sanitize a file's bytes (`name` for the extension check). Returns
 * {bytes, mediaType, removed: {label: count}}; other types come back as null (sealed as they are).
 */
export async function sanitize(bytes, name) {
  const type = checkedType(bytes.subarray(0, 1024), name);
  if (type === null) return null;
  if (type === PDF) {
    const { bytes: clean, report } = await sanitizePdf(bytes);
    return { bytes: clean, mediaType: PDF, removed: report.removed };
  }
  const report = new Report(type);
  const clean = concatAll((await walkImage(bytes, type, report)).map(([a, b]) => bytes.subarray(a, b)));
  await checkImage(clean, type);
  return { bytes: clean, mediaType: type, removed: report.removed };
}

/**
 * Sanitize a File (or Blob with `name`) as the upload needs it: a PDF in memory (up to
 * MAX_PDF_BYTES), a JPEG or PNG streamed: the walk reads it a window at a time and the
 * result is a Blob of slices of the file (nothing copied), decoded once as a check. Returns
 * {blob, mediaType, removed}; other types come back as null (sealed as they are).
 */
export async function sanitizeFile(file, name = file.name) {
  const type = checkedType(new Uint8Array(await file.slice(0, 1024).arrayBuffer()), name);
  if (type === null) return null;
  if (type === PDF) {
    if (file.size > MAX_PDF_BYTES) throw new SanitizeError("too-large", "the PDF is larger than the browser can sanitize");
    const { bytes, report } = await sanitizePdf(new Uint8Array(await file.arrayBuffer()));
    return { blob: new Blob([bytes], { type: PDF }), mediaType: PDF, removed: report.removed };
  }
  const report = new Report(type);
  const ranges = await walkImage(file, type, report);
  const blob = new Blob(ranges.map(([a, b]) => file.slice(a, b)), { type });
  await checkImage(blob, type);
  return { blob, mediaType: type, removed: report.removed };
}
