// Small helpers shared by the documents page's modules: its texts (rendered by the server
// in the user's language), the page's error and status messages, saving a Blob as a file.
export const $ = (id) => document.getElementById(id);
export const texts = Object.fromEntries(
  [...$("documents-texts").content.querySelectorAll("[data-key]")].map((e) => [e.dataset.key, e.textContent]),
);

export function showError(text) {
  $("page-status").hidden = true;
  $("page-error-text").textContent = text;
  $("page-error").hidden = !text;
}

export function showStatus(text) {
  $("page-error").hidden = true;
  $("page-status-text").textContent = text;
  $("page-status").hidden = !text;
}

/** A translated text with {name} placeholders filled in. */
export function format(text, values) {
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}

/** Save `blob` as a file through a Blob link (nothing leaves the browser). */
export function saveFile(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
