// Encodings shared by the device-side modules: base64url without padding (RFC 4648 §5,
// strict: canonical trailing bits, no padding, nothing outside the alphabet), padded base64
// (RFC 4648 §4), hex, UTF-8, and big-endian integers. No dependencies.

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function tableFor(alphabet) {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const STD_T = tableFor(STD);
const URL_T = tableFor(URL);

function encode(bytes, alphabet, pad) {
  const b = toBytes(bytes);
  let out = "";
  let i = 0;
  // Strings built in pieces of 3 KiB keep this linear for large inputs.
  const parts = [];
  for (; i + 3 <= b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
    if (out.length >= 4096) {
      parts.push(out);
      out = "";
    }
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i] << 16;
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (b[i] << 16) | (b[i + 1] << 8);
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + (pad ? "=" : "");
  }
  parts.push(out);
  return parts.join("");
}

function decode(text, table, padded) {
  if (typeof text !== "string") throw new TypeError("base64 text must be a string");
  let s = text;
  if (padded) {
    if (s.length % 4) throw new SyntaxError("base64: length is not a multiple of 4");
    if (s.endsWith("==")) s = s.slice(0, -2);
    else if (s.endsWith("=")) s = s.slice(0, -1);
  }
  if (s.length % 4 === 1) throw new SyntaxError("base64: impossible length");
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? table[c] : -1;
    if (v < 0) throw new SyntaxError("base64: character outside the alphabet");
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= 0xff; // keep the accumulator small
  }
  if (bits && (acc & ((1 << bits) - 1))) throw new SyntaxError("base64: non-canonical trailing bits");
  return out;
}

export const b64urlEncode = (bytes) => encode(bytes, URL, false);
export const b64urlDecode = (text) => decode(text, URL_T, false);
export const b64Encode = (bytes) => encode(bytes, STD, true);
export const b64Decode = (text) => decode(text, STD_T, true);

export function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("expected bytes (Uint8Array, ArrayBuffer or a typed array)");
}

export function hexEncode(bytes) {
  const b = toBytes(bytes);
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

export function hexDecode(hex) {
  if (typeof hex !== "string" || hex.length % 2 || /[^0-9a-fA-F]/.test(hex)) {
    throw new SyntaxError("not hex");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { fatal: true });
export const utf8 = (text) => ENCODER.encode(text);
export const fromUtf8 = (bytes) => DECODER.decode(bytes);

export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The unsigned integer whose big-endian encoding is `bytes` (docs/envelope.md §1). */
export function bigIntFromBytes(bytes) {
  let n = 0n;
  for (const b of toBytes(bytes)) n = (n << 8n) | BigInt(b);
  return n;
}

/** `value` as exactly `length` big-endian bytes. */
export function bigIntToBytes(value, length) {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v) throw new RangeError("integer does not fit");
  return out;
}

/** Constant-time comparison of two byte strings of public length. */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
