// Keeps a working user's session alive and brings them back after it expired.
// - While the user types, clicks or scrolls, it calls POST /session/keepalive at most once a
//   minute (with the session's CSRF token), so a long form does not end the session.
// - api(path, options) calls the /v1 API with the session cookie and the CSRF token; on
//   "session expired" it goes to /session-expired?next=<this page>, and on RFC 9470's
//   insufficient_user_authentication it restarts the login with acr=hoch (step-up).
const meta = document.querySelector('meta[name="csrf-token"]');
const csrf = meta ? meta.content : "";
const here = () => location.pathname + location.search;

export function goExpired() {
  location.assign("/session-expired?next=" + encodeURIComponent(here()));
}

export function stepUp() {
  location.assign("/login?acr=hoch&next=" + encodeURIComponent(here()));
}

export async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (csrf) headers.set("X-CSRF-Token", csrf);
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (response.status === 401) {
    const challenge = response.headers.get("WWW-Authenticate") || "";
    if (challenge.includes("insufficient_user_authentication")) stepUp();
    else goExpired();
  }
  return response;
}

if (csrf) {
  let last = Date.now();
  const keepalive = async () => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    const response = await fetch("/session/keepalive", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf },
      credentials: "same-origin",
    });
    if (response.status === 401) goExpired();
  };
  for (const event of ["keydown", "pointerdown", "scroll"]) {
    addEventListener(event, keepalive, { passive: true });
  }
}
