// Shared by the cases, mailbox and access-log pages: the page's texts and public facts (the
// server-rendered JSON block #portal-data), small DOM helpers, dates in the page's language,
// and the applicant's vault key on this device (null while the vault is locked here).
import { IndexedDbKeyStore, unlocked } from "./keys.js";

const data = JSON.parse(document.getElementById("portal-data").textContent);
export const lang = data.lang;
export const texts = data.texts;
export const flows = data.flows;
export const authorities = data.authorities;
export const actions = data.actions;

/** A text of the page in its language: the catalogue's, or the {de, en} value's. */
export function inLanguage(value) {
  if (!value || typeof value === "string") return value || "";
  const base = lang.split("-")[0];
  return value[lang] || value[base] || value.en || value.de || Object.values(value)[0] || "";
}

export const flowTitle = (id) => inLanguage(flows[id]) || texts.unknown_flow;
export const authorityName = (id) => (id ? inLanguage(authorities[id]) || id : texts.not_chosen);

const dateFormat = new Intl.DateTimeFormat(lang.startsWith("ar") ? "en" : lang, {
  dateStyle: "long",
  timeStyle: "short",
});
export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateFormat.format(date);
}

/** An element with attributes and children (strings become text nodes: never HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function status(message) {
  const node = document.getElementById("cases-status");
  node.textContent = message;
  node.hidden = !message;
}

/** The vault key on this device, or null (then the page shows the unlock hint). */
export async function vaultIdentity() {
  try {
    return await unlocked(new IndexedDbKeyStore());
  } catch {
    return null;
  }
}

export function showLocked() {
  const hint = document.getElementById("vault-locked");
  if (hint) hint.hidden = false;
}

/** A download of `bytes` named `filename`, started by a click on a link. */
export function downloadLink(bytes, filename, mediaType, label) {
  const url = URL.createObjectURL(new Blob([bytes], { type: mediaType }));
  return el("a", { class: "kern-link", href: url, download: filename, text: label });
}
