// The form's DOM on /apply/{flow}: read the answers into the form's JSON, fill saved
// answers back in, add and remove list entries, and show errors per field plus the summary
// at the top (KERN error styles). Every input carries its JSON pointer in data-pointer.

import { resolve, tokens } from "./apply-schema.js";

const RENAMED = ["id", "for", "aria-describedby", "data-pointer", "data-field", "data-items",
  "data-item-template", "data-add-item", "data-list", "data-object"];
const PLACEHOLDER = "__i__";
const fieldId = (pointer) => "f" + pointer.replace(/\//g, "-").replace(/~/g, "_");

function elementsIn(root) {
  const all = [root, ...root.querySelectorAll("*")];
  for (const t of root.querySelectorAll("template")) all.push(...elementsIn(t.content));
  return all.filter((e) => e.nodeType === 1);
}

function setAt(doc, pointer, value) {
  const parts = tokens(pointer);
  let node = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = Array.isArray(node) ? Number(parts[i]) : parts[i];
    if (node[key] === undefined) node[key] = /^\d+$/.test(parts[i + 1]) ? [] : {};
    node = node[key];
  }
  node[Array.isArray(node) ? Number(parts.at(-1)) : parts.at(-1)] = value;
}

function valueOf(input) {
  const type = input.dataset.type;
  if (type === "boolean") return input.checked;
  const text = input.value;
  if (text === "") return undefined;
  if (type === "integer" && /^-?\d+$/.test(text.trim())) return Number(text.trim());
  if (type === "number" && /^-?\d+([.,]\d+)?$/.test(text.trim())) return Number(text.trim().replace(",", "."));
  return text;
}

/** The answers as the form's JSON: groups and lists exist even when empty (so a missing
 * answer is reported at its own field), empty inputs are left out. */
export function collect(form) {
  const data = {};
  for (const el of form.querySelectorAll("[data-object], [data-items], [data-pointer]")) {
    if (el.dataset.object !== undefined && el.dataset.object !== "") setAt(data, el.dataset.object, resolve(data, el.dataset.object) ?? {});
    else if (el.dataset.items !== undefined) setAt(data, el.dataset.items, resolve(data, el.dataset.items) ?? []);
    else if (el.dataset.pointer) {
      const value = valueOf(el);
      if (value !== undefined) setAt(data, el.dataset.pointer, value);
    }
  }
  return data;
}

/** Put saved answers back into the inputs (adding list entries as needed). */
export function fill(form, data) {
  for (let i = 0; ; i++) {
    const lists = form.querySelectorAll("[data-items]");
    if (i >= lists.length) break;
    const saved = resolve(data, lists[i].dataset.items);
    const want = Array.isArray(saved) ? saved.length : 0;
    while (lists[i].children.length < want) addItem(form, lists[i].dataset.items, false);
  }
  for (const input of form.querySelectorAll("[data-pointer]")) {
    const value = resolve(data, input.dataset.pointer);
    if (input.dataset.type === "boolean") input.checked = value === true;
    else input.value = value === undefined || value === null ? "" : String(value);
  }
}

// ------------------------------------------------------------------------ lists
function renumber(item, list, from, to) {
  const pointerOld = new RegExp(`${escapeRegExp(list)}/${from}(?=/|$|\\s)`, "g");
  const idOld = new RegExp(`${escapeRegExp(fieldId(list))}-${from}(?=-|$|\\s)`, "g");
  for (const el of elementsIn(item)) {
    for (const name of RENAMED) {
      const value = el.getAttribute(name);
      if (value === null) continue;
      const next = from === PLACEHOLDER
        ? value.replace(PLACEHOLDER, String(to))
        : value.replace(pointerOld, `${list}/${to}`).replace(idOld, `${fieldId(list)}-${to}`);
      el.setAttribute(name, next);
    }
  }
  item.dataset.index = String(to);
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function items(form, list) {
  return form.querySelector(`[data-items="${CSS.escape(list)}"]`);
}

export function addItem(form, list, focus = true) {
  const container = items(form, list);
  const template = form.querySelector(`[data-item-template="${CSS.escape(list)}"]`);
  const max = Number(container.closest("[data-list]").dataset.maxItems || Infinity);
  if (container.children.length >= max) return null;
  const item = template.content.firstElementChild.cloneNode(true);
  renumber(item, list, PLACEHOLDER, container.children.length);
  container.append(item);
  if (focus) item.querySelector("input, select")?.focus();
  return item;
}

export function removeItem(form, item) {
  const container = item.parentElement;
  const list = container.dataset.items;
  item.remove();
  [...container.children].forEach((other, k) => {
    if (Number(other.dataset.index) !== k) renumber(other, list, other.dataset.index, k);
  });
  form.querySelector(`[data-add-item="${CSS.escape(list)}"]`)?.focus();
}

// ------------------------------------------------------------------------ errors
function clearErrors(form) {
  for (const el of form.querySelectorAll(".kern-error[data-error]")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.classList.remove("kern-form-input__input--error", "kern-form-input__select--error", "kern-form-check__checkbox--error");
    const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && !x.endsWith("-error"));
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  for (const el of form.querySelectorAll(".kern-form-input--error, .kern-form-check--error, .kern-fieldset--error")) {
    el.classList.remove("kern-form-input--error", "kern-form-check--error", "kern-fieldset--error");
  }
}

/** The element an error at `pointer` belongs to: its input, else its group or list. */
export function targetOf(form, pointer) {
  const id = fieldId(pointer);
  return form.querySelector(`#${CSS.escape(id)}`) || form.querySelector(`[data-object="${CSS.escape(pointer)}"], [data-list="${CSS.escape(pointer)}"]`);
}

function errorElement(id, text) {
  const p = document.createElement("p");
  p.className = "kern-error";
  p.id = id;
  p.dataset.error = "";
  const body = document.createElement("span");
  body.className = "kern-body";
  body.textContent = text;
  p.append(body);
  return p;
}

function markInput(input, errorId) {
  input.setAttribute("aria-invalid", "true");
  const kind = input.tagName === "SELECT" ? "kern-form-input__select--error"
    : input.type === "checkbox" ? "kern-form-check__checkbox--error" : "kern-form-input__input--error";
  input.classList.add(kind);
  const ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  input.setAttribute("aria-describedby", [...ids, errorId].join(" "));
}

/** Show `errors` ([{pointer, message}]) at their fields and in the summary; returns the
 * summary's entries ({pointer, message, target}) for navigation. */
export function showErrors(form, summary, errors, labelOf) {
  clearErrors(form);
  const list = summary.querySelector("#error-list");
  list.replaceChildren();
  const shown = [];
  const byTarget = new Map();
  const order = [...form.querySelectorAll("[data-pointer], [data-object], [data-list]")];
  const place = (error) => {
    const target = targetOf(form, error.pointer);
    return target ? order.indexOf(target) : order.length;
  };
  for (const error of [...errors].sort((a, b) => place(a) - place(b))) {
    const target = targetOf(form, error.pointer);
    const key = target || error.pointer;
    if (byTarget.has(key)) continue; // one message per field: the first
    byTarget.set(key, error);
    shown.push({ ...error, target });
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.className = "kern-link";
    link.href = target && target.id ? `#${target.id}` : "#apply-form";
    link.dataset.errorFor = error.pointer;
    link.textContent = `${labelOf(error.pointer)}: ${error.message}`;
    li.append(link);
    list.append(li);
    if (!target) continue;
    const errorId = `${fieldId(error.pointer)}-error`;
    const wrapper = target.closest(".apply-field");
    if (wrapper && target.dataset.pointer) {
      wrapper.classList.add(target.type === "checkbox" ? "kern-form-check--error" : "kern-form-input--error");
      const anchor = target.type === "checkbox" ? target : target.closest(".kern-form-input__select-wrapper") || target;
      anchor.before(errorElement(errorId, error.message));
      markInput(target, errorId);
    } else {
      target.classList.add("kern-fieldset--error");
      target.querySelector("legend").after(errorElement(errorId, error.message));
    }
  }
  summary.hidden = shown.length === 0;
  return shown;
}
