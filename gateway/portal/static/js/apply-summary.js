// The PDF summary of an application on the device, laid out by the flow's summary.json
// (summary_layout): the same lines as gateway/client/flowdata/summary.py, drawn with pdf-lib
// in Helvetica (WinAnsi: letters the standard fonts lack print as their base letter, as in
// Python). The summary is for reading; the exact spelling travels in the form data.

import { PDFDocument, StandardFonts } from "../vendor/pdf-lib/pdf-lib.esm.min.js";
import { resolve, schemaAt } from "./apply-schema.js";

const PAGE = [595, 842];
const MARGIN = 56;
const STYLES = { title: [true, 16, 24], heading: [true, 12, 20], body: [false, 10, 14] };
const WRAP = { title: 60, heading: 80, body: 98 };
const YES_NO = { de: ["Ja", "Nein"], en: ["Yes", "No"] };
const ATTACHED = { de: "Beigefügte Dokumente", en: "Attached documents" };
const NONE_ATTACHED = { de: "Keine Dokumente beigefügt.", en: "No documents attached." };
const FOOTER = { de: "Seite {page} von {pages}", en: "Page {page} of {pages}" };

const text = (value, lang) =>
  value && typeof value === "object" ? String(value[lang] || value.en || "") : value == null ? "" : String(value);

function display(fieldSchema, value, lang) {
  if (typeof value === "boolean") return YES_NO[lang][value ? 0 : 1];
  const labels = fieldSchema?.["x-i18n"]?.enum || {};
  if (String(value) in labels) return text(labels[String(value)], lang);
  return String(value);
}

function label(schema, pointer, item, lang) {
  if ("label" in item) return text(item.label, lang);
  return text((schemaAt(schema, pointer) || {})["x-i18n"]?.title, lang) || pointer;
}

/** The summary as [style, text] lines before wrapping (summary.py _lines). */
export function summaryLines(flow, data, lang, attachments) {
  const { schema, summary_layout: layout } = flow;
  const lines = [["title", text(layout.title, lang)], ["body", text(flow.title, lang)]];
  for (const section of layout.sections) {
    lines.push(["heading", text(section.heading, lang)]);
    for (const item of section.fields) {
      const value = resolve(data, item.pointer);
      if (value === undefined || value === null || value === "") continue;
      const name = label(schema, item.pointer, item, lang);
      if ("each" in item && Array.isArray(value)) {
        value.forEach((entry, i) => {
          lines.push(["body", `${name} ${i + 1}:`]);
          for (const sub of item.each) {
            const subValue = resolve(entry, sub);
            if (subValue === undefined || subValue === null || subValue === "") continue;
            const at = `${item.pointer}/0${sub}`;
            lines.push(["body", `    ${label(schema, at, {}, lang)}: ${display(schemaAt(schema, at), subValue, lang)}`]);
          }
        });
        continue;
      }
      lines.push(["body", `${name}: ${display(schemaAt(schema, item.pointer), value, lang)}`]);
    }
  }
  lines.push(["heading", ATTACHED[lang]]);
  const titles = Object.fromEntries(flow.documents.map((d) => [d.type, text(d.title, lang)]));
  for (const [kind, filename] of attachments) lines.push(["body", `${titles[kind] || kind}: ${filename}`]);
  if (!attachments.length) lines.push(["body", NONE_ATTACHED[lang]]);
  return lines;
}

function wrap(line, width) {
  const out = [];
  let current = "";
  for (let word of line.split(" ")) {
    while ([...word].length > width) {
      if (current) { out.push(current); current = ""; }
      out.push([...word].slice(0, width).join(""));
      word = [...word].slice(width).join("");
    }
    const candidate = current ? `${current} ${word}` : word;
    if ([...candidate].length > width && current) { out.push(current); current = word; } else current = candidate;
  }
  out.push(current);
  return out;
}

const FALLBACK = { "\u0131": "i", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "ŀ": "l", "ə": "e" };
// cp1252's letters beyond Latin-1 (the rest of 0x80-0x9f is unassigned)
const CP1252_EXTRA = new Set("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ");
const printableChar = (c) => (c.codePointAt(0) < 0x80 || (c.codePointAt(0) >= 0xa0 && c.codePointAt(0) <= 0xff) || CP1252_EXTRA.has(c));

/** `value` with every character the standard fonts lack replaced (summary.py _printable). */
export function printable(value) {
  return [...value].map((c) => {
    if (printableChar(c)) return c;
    if (FALLBACK[c]) return FALLBACK[c];
    const base = c.normalize("NFKD").replace(/\p{M}/gu, "");
    return base && [...base].every(printableChar) ? base : "?";
  }).join("");
}

/** The summary PDF (A4, Helvetica), as bytes. */
export async function summaryPdf(flow, data, lang, attachments) {
  const pdf = await PDFDocument.create();
  const fonts = { false: await pdf.embedFont(StandardFonts.Helvetica), true: await pdf.embedFont(StandardFonts.HelveticaBold) };
  pdf.setTitle(printable(text(flow.summary_layout.title, lang)));
  pdf.setProducer("ozg-commons portal");
  pdf.setCreator("ozg-commons portal");
  const placed = [[]];
  let y = PAGE[1] - MARGIN;
  for (const [style, line] of summaryLines(flow, data, lang, attachments)) {
    const leading = STYLES[style][2];
    for (const part of wrap(line, WRAP[style])) {
      if (style === "heading") y -= 6;
      if (y - leading < MARGIN + 20) { placed.push([]); y = PAGE[1] - MARGIN; }
      y -= leading;
      placed.at(-1).push([style, y, part]);
    }
  }
  placed.forEach((lines, i) => {
    const page = pdf.addPage(PAGE);
    for (const [style, at, part] of lines) {
      const [bold, size] = STYLES[style];
      page.drawText(printable(part), { x: MARGIN, y: at, size, font: fonts[bold] });
    }
    const footer = FOOTER[lang].replace("{page}", i + 1).replace("{pages}", placed.length) + ` · ${flow.id} ${flow.version}`;
    page.drawText(footer, { x: MARGIN, y: MARGIN, size: 8, font: fonts.false });
  });
  return pdf.save({ useObjectStreams: false });
}
