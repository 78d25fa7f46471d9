// The applicant's unlocked vault key for any page of the portal.
//
//   const identity = await currentIdentity();   // {kid, publicJwk, privateKey} or null
//   if (!identity) location.assign(unlockUrl());  // /documents?unlock=1&next=<this page>
//
// The key is unlocked (and made) on /documents (documents.js); it stays in this browser's
// IndexedDB as a non-extractable CryptoKey until the user locks it there.
import { IndexedDbKeyStore, unlocked } from "./keys.js";

export const keyStore = () => new IndexedDbKeyStore();

/** The unlocked identity of this browser, or null (none, or IndexedDB unavailable). */
export async function currentIdentity(store = keyStore()) {
  try {
    return await unlocked(store);
  } catch {
    return null;
  }
}

/** Where to send the user to unlock the key and come back to `next` (default: this page). */
export function unlockUrl(next = location.pathname + location.search) {
  return "/documents?unlock=1&next=" + encodeURIComponent(next);
}
