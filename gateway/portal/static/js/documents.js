// The documents page (/documents): make, unlock and lock the vault key in this browser,
// then the documents (documents-list.js) and the upload (documents-upload.js).
//
// The key is made here (keys.js createVaultKey: P-256, wrapped under Argon2id of the
// passphrase and under a recovery code shown once) and registered with PUT /v1/vault/keys/me,
// the call `ozg-commons vault keygen` makes. Unlocked, it is a non-extractable CryptoKey in
// IndexedDB (vault-session.js). `?unlock=1&next=/path` sends the user back after unlocking.
import { api } from "./session.js";
import { WrongSecret, createVaultKey, keep, lock, unlock } from "./keys.js";
import { currentIdentity, keyStore } from "./vault-session.js";
import { showDocuments } from "./documents-list.js";
import { setUpUpload } from "./documents-upload.js";
import { $, saveFile, showError, showStatus, texts } from "./documents-ui.js";

const app = $("documents-app");
const STATES = ["state-loading", "state-create", "state-recovery", "state-unlock", "state-ready"];
export const MIN_SCORE = 3; // zxcvbn: 3 = "safely unguessable", ≥ 10^8 guesses

/** Show one state of the page; `focus` moves the keyboard focus to an element in it. */
function show(state, focus = null) {
  for (const id of STATES) $(id).hidden = id !== state;
  if (focus) $(focus).focus();
}

async function storedKey() {
  const response = await api("/v1/vault/keys/me");
  if (response.status === 404) return null;
  if (!response.ok) throw new Error("keys/me " + response.status);
  return response.json();
}

// ------------------------------------------------------------------------ strength
/** zxcvbn's verdict on `passphrase` as {ok, advice: [keys of #advice-texts]}. */
export function strength(passphrase) {
  const result = window.zxcvbn(passphrase);
  const advice = [];
  const warning = (result.feedback.warning || "").toLowerCase();
  if (passphrase.length < 16) advice.push("length");
  if (/common|top|dictionary|name|word|date|year|pattern|keyboard/.test(warning)) advice.push("common");
  if (/repeat|sequence|abc/.test(warning)) advice.push("repeat");
  if (!advice.includes("common")) advice.push("personal");
  return { ok: result.score >= MIN_SCORE, score: result.score, advice };
}

function renderStrength() {
  const passphrase = $("new-passphrase").value;
  const list = $("strength-advice");
  list.replaceChildren();
  if (!passphrase) {
    $("strength-text").textContent = "";
    return null;
  }
  const verdict = strength(passphrase);
  $("strength-text").textContent = verdict.ok ? texts.ok : texts.weak;
  if (!verdict.ok) {
    const template = $("advice-texts").content;
    for (const key of verdict.advice) {
      const item = template.querySelector(`[data-advice="${key}"]`);
      if (item) list.append(item.cloneNode(true));
    }
  }
  return verdict;
}

// ------------------------------------------------------------------------ flows
let stored = null;

async function ready(identity) {
  const next = app.dataset.next;
  if (app.dataset.unlockOnly === "true" && next) {
    location.assign(next);
    return;
  }
  show("state-ready");
  await showDocuments(identity);
}

async function create(event) {
  event.preventDefault();
  const passphrase = $("new-passphrase").value;
  const verdict = renderStrength();
  if (!verdict || !verdict.ok) {
    showError(texts.weak);
    $("new-passphrase").focus();
    return;
  }
  if ($("repeat-passphrase").value !== passphrase) {
    showError(texts.mismatch);
    $("repeat-passphrase").focus();
    return;
  }
  $("create-key").disabled = true;
  showStatus(texts.working);
  try {
    const made = await createVaultKey(passphrase);
    const response = await api("/v1/vault/keys/me", {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(made.register),
    });
    if (!response.ok) throw new Error("keys/me " + response.status);
    stored = await response.json();
    await keep(keyStore(), made.identity);
    $("create-form").reset();
    showStatus("");
    $("recovery-code").textContent = made.recoveryCode;
    show("state-recovery", "recovery-heading");
  } catch {
    showError(texts.failed);
  } finally {
    $("create-key").disabled = false;
  }
}

async function unlockWith(event, secrets, button) {
  event.preventDefault();
  $(button).disabled = true;
  showStatus(texts.working);
  try {
    stored = stored || (await storedKey());
    const identity = await unlock(stored, { ...secrets, store: keyStore() });
    $("unlock-form").reset();
    $("recover-form").reset();
    showStatus("");
    await ready(identity);
  } catch (e) {
    showError(e instanceof WrongSecret ? texts.wrongSecret : texts.failed);
  } finally {
    $(button).disabled = false;
  }
}

async function start() {
  $("new-passphrase").addEventListener("input", renderStrength);
  $("create-form").addEventListener("submit", create);
  $("unlock-form").addEventListener("submit", (e) =>
    unlockWith(e, { passphrase: $("unlock-passphrase").value }, "unlock-key"));
  $("recover-form").addEventListener("submit", (e) =>
    unlockWith(e, { recoveryCode: $("recovery-input").value }, "recover-key"));
  $("print-recovery").addEventListener("click", () => window.print());
  $("save-recovery").addEventListener("click", () => {
    const body = `${texts.recoveryFileText}\n\n${$("recovery-code").textContent}\n`;
    saveFile(texts.recoveryFile + ".txt", new Blob([body], { type: "text/plain" }));
  });
  $("recovery-kept").addEventListener("change", (e) => ($("recovery-done").disabled = !e.target.checked));
  $("recovery-done").addEventListener("click", async () => {
    $("recovery-code").textContent = ""; // shown once
    await ready(await currentIdentity());
  });
  $("lock-key").addEventListener("click", async () => {
    await lock(keyStore());
    show("state-unlock", "unlock-passphrase");
  });
  setUpUpload();
  try {
    stored = await storedKey();
  } catch {
    show("state-loading");
    showError(texts.failed);
    return;
  }
  if (!stored) {
    show("state-create");
    return;
  }
  const identity = await currentIdentity();
  if (identity && identity.kid === stored.kid) {
    await ready(identity);
    return;
  }
  if (identity) await lock(keyStore()); // another account's key: never use it here
  show("state-unlock");
}

start();
