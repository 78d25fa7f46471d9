// A flow's form on the device: validation against the flow's JSON Schema with messages per
// field (as gateway/client/flowdata/validation.py), the fee facts (as flowdata/facts.py),
// and JSON pointers. No DOM here, so Node can test it too.

import { Validator } from "../vendor/json-schema/esm/index.js";

// The keywords that only wrap their children's errors (the leaves are reported).
const WRAPPERS = new Set([
  "properties", "items", "prefixItems", "additionalItems", "$ref", "$dynamicRef", "allOf",
  "anyOf", "oneOf", "if", "then", "else", "not", "dependentSchemas", "unevaluatedProperties",
  "unevaluatedItems", "patternProperties", "contains", "false",
]);

export const escapeToken = (t) => String(t).replace(/~/g, "~0").replace(/\//g, "~1");
export const tokens = (pointer) =>
  pointer === "" ? [] : pointer.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));

/** The value at `pointer` in `doc`, or `fallback` when absent (commons.flows.resolve). */
export function resolve(doc, pointer, fallback = undefined) {
  let value = doc;
  for (const t of tokens(pointer)) {
    if (value && typeof value === "object" && !Array.isArray(value) && t in value) value = value[t];
    else if (Array.isArray(value) && /^\d+$/.test(t) && Number(t) < value.length) value = value[Number(t)];
    else return fallback;
  }
  return value;
}

/** The subschema describing the value at a data pointer (commons.flows.schema_at). */
export function schemaAt(schema, pointer) {
  let node = schema;
  for (const t of tokens(pointer)) {
    if (node.type === "array" && node.items && typeof node.items === "object") {
      if (!(/^\d+$/.test(t) || t === "-")) return null;
      node = node.items;
    } else if (node.properties && t in node.properties) node = node.properties[t];
    else return null;
  }
  return node;
}

function message(fieldSchema, keyword, lang, defaults) {
  const errors = (fieldSchema && fieldSchema["x-i18n"] && fieldSchema["x-i18n"].errors) || {};
  const chosen = errors[keyword] || errors["*"] || defaults[keyword] || defaults["*"];
  return chosen[lang] || chosen.en;
}

function quoted(text) {
  const found = /"((?:[^"\\]|\\.)*)"/.exec(text);
  return found ? found[1] : "";
}

/**
 * Every problem of `data` against `schema`: [{pointer, keyword, message}] one per field
 * and keyword, sorted by pointer; [] when valid. `defaults` is validation.py's
 * DEFAULT_MESSAGES (the page hands it over).
 */
export function validate(schema, data, lang, defaults) {
  const result = new Validator(schema, "2020-12", false).validate(data);
  const found = new Map();
  for (const error of result.errors) {
    if (WRAPPERS.has(error.keyword)) continue;
    let pointer = error.instanceLocation.replace(/^#/, "");
    if (error.keyword === "required" || error.keyword === "additionalProperties") {
      pointer += "/" + escapeToken(quoted(error.error));
    }
    const key = pointer + " " + error.keyword;
    if (found.has(key)) continue;
    found.set(key, {
      pointer,
      keyword: error.keyword,
      message: message(schemaAt(schema, pointer), error.keyword, lang, defaults),
    });
  }
  // by pointer, then in the order the field's schema names its keywords (as jsonschema does)
  const rank = (e) => Object.keys(schemaAt(schema, e.pointer) || {}).indexOf(e.keyword);
  return [...found.values()].sort((a, b) =>
    a.pointer < b.pointer ? -1 : a.pointer > b.pointer ? 1 : rank(a) - rank(b));
}

// ------------------------------------------------------------------------ fee facts
function age(born, today) {
  const parsed = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(born));
  const when = parsed && new Date(`${born}T00:00:00Z`);
  if (!when || Number.isNaN(when.getTime()) || when.getUTCDate() !== Number(parsed[3])) {
    throw new Error(`Invalid isoformat string: ${JSON.stringify(born)}`);
  }
  const [y, m, d] = parsed.slice(1).map(Number);
  const before = today.getUTCMonth() + 1 < m || (today.getUTCMonth() + 1 === m && today.getUTCDate() < d);
  return today.getUTCFullYear() - y - (before ? 1 : 0);
}

function derive(spec, value, today) {
  const how = spec.derive || "value";
  if (how === "value") return value;
  if (how === "age") return age(value, today);
  if (how === "age_band") {
    const years = age(value, today);
    for (const band of spec.bands) if (years < band.below) return band.value;
    return spec.otherwise;
  }
  if (how === "map") {
    if (!(value in spec.map)) throw new Error(`no fee fact for the answer at ${spec.from}`);
    return spec.map[value];
  }
  if (how === "equals") return value === spec.value;
  throw new Error(`unknown derivation ${how}`);
}

/**
 * The facts the flow declares for its fee quote, derived from the form here (without the
 * flow's fixed facts, which the server adds itself): what the applicant sees, then sends.
 */
export function feeFacts(flow, data, today = new Date()) {
  const facts = {};
  for (const [name, spec] of Object.entries((flow.fee && flow.fee.facts) || {})) {
    const value = resolve(data, spec.from);
    if (value === undefined || value === null) {
      if ("default" in spec) facts[name] = spec.default;
      continue;
    }
    facts[name] = derive(spec, value, today);
  }
  return facts;
}
