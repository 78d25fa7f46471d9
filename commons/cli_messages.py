"""What the command lines tell their users: every message in one place.

The device commands (``ozg-commons vault``, ``login``), the authority's client and the
DPO's ``audit verify`` take their advice and error lines from here, so that each situation
is worded once and a translation can wrap these literals later. Nothing here may contain
personal data or a secret: the values filled in are URLs, paths, ids and numbers.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- advice
LOG_IN_AGAIN = "log in again with: ozg-commons login"
VAULT_LOCKED = "the vault is locked: run `ozg-commons vault unlock`"
CASEWORKER_KEY_FILE = (
    "as a caseworker, give your authority's private key with --key-file "
    "(PEM or JWK); `ozg-commons vault unlock` is for applicants"
)
DPO_TOKEN_NEEDED = (
    "the server's audit log needs a DPO's bearer token: give --token or set OZG_AUDIT_TOKEN"
)
DPO_TOKEN_REFUSED = "the server refused the token ({status}): a DPO's bearer token is needed"

NAMES_NEED_KEY = (
    "names, types and sizes are decrypted on this device: unlock the vault "
    "(`ozg-commons vault unlock`), or as a caseworker give --key-file"
)
UNREADABLE_DOCUMENT = "cannot be opened with this key"

# --------------------------------------------------------------------------- safety
OUTPUT_EXISTS = "{path} exists; give --force to replace it"
NOT_INTERACTIVE = "{what}: not asked in a non-interactive session; give --yes to confirm"
CONFIRM_DELETE = "Delete document {doc_id} for good (it cannot be recovered)?"
NOT_DELETED = "nothing deleted"
WEAK_PASSPHRASE = "this passphrase is too easy to guess; choose a longer one"
PASSPHRASE_ADVICE = (
    "a good passphrase is four or more unrelated words, 16 characters or more, "
    "not a phrase from a song, book or your own life"
)

# --------------------------------------------------------------------------- key files
KEY_FILE_MISSING = "--key-file {path}: no such file"
KEY_FILE_UNREADABLE = "--key-file {path}: {reason}"
KEY_FILE_INVALID = "--key-file {path}: not a private key (PEM or JWK)"

# --------------------------------------------------------------------------- the network
CANNOT_REACH = "cannot reach the server at {url}"


def cannot_reach(url: object) -> str:
    """The line for a server that does not answer, naming the URL that was tried (without
    its query, which may carry a state or a code)."""
    text = str(url).split("?", 1)[0].split("#", 1)[0]
    return CANNOT_REACH.format(url=text)


def unreachable(exc: BaseException, fallback: object = "?") -> str:
    """:func:`cannot_reach` for a failed request (an ``httpx.TransportError``): the URL of
    the request that failed, else ``fallback`` (the server's base URL)."""
    try:
        tried = exc.request.url  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError if none is attached
        tried = fallback
    return cannot_reach(tried)
