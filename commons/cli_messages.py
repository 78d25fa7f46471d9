"""What the command lines tell their users: every message in one place.

The device commands (``ozg-commons vault``, ``login``), the authority's client and the
DPO's ``audit verify`` take their advice and error lines from here, so that each situation
is worded once. Each is marked with ``N_`` for the message catalogue (``make messages``)
and translated where it is shown, placeholders filled in after translation::

    print_error(_(msg.OUTPUT_EXISTS, path=output))

Nothing here may contain personal data or a secret: the values filled in are URLs, paths,
ids and numbers.
"""

from __future__ import annotations

from commons.i18n import N_, _

# --------------------------------------------------------------------------- advice
LOG_IN_AGAIN = N_("log in again with: ozg-commons login")
VAULT_LOCKED = N_("the vault is locked: run `ozg-commons vault unlock`")
CASEWORKER_KEY_FILE = N_(
    "as a caseworker, give your authority's private key with --key-file "
    "(PEM or JWK); `ozg-commons vault unlock` is for applicants"
)
DPO_TOKEN_NEEDED = N_(
    "GET {path} answered HTTP {status}: reading the audit log needs the token of a "
    "data-protection officer (role dpo): give --token or set OZG_AUDIT_TOKEN"
)

NAMES_NEED_KEY = N_(
    "names, types and sizes are decrypted on this device: unlock the vault "
    "(`ozg-commons vault unlock`), or as a caseworker give --key-file"
)
UNREADABLE_DOCUMENT = N_("cannot be opened with this key")
DOCUMENT_GONE = N_("deleted meanwhile")

# --------------------------------------------------------------------------- safety
OUTPUT_EXISTS = N_("{path} exists; give --force to replace it")
OUTPUT_IS_FOLDER = N_("{path} is a folder; give a file name")
NOT_INTERACTIVE = N_("not asked without a terminal; give --yes to confirm")
NOTHING_CHANGED = N_("nothing was changed")
CONFIRM_DELETE = N_("Delete document {doc_id} for good (it cannot be recovered)?")
NOT_DELETED = N_("nothing deleted")
WEAK_PASSPHRASE = N_("this passphrase is too easy to guess; choose a longer one")
PASSPHRASE_ADVICE = N_(
    "a good passphrase is four or more unrelated words, 16 characters or more, "
    "not a phrase from a song, book or your own life"
)

# --------------------------------------------------------------------------- the vault
PASSPHRASE_PROMPT = N_("Vault passphrase")
NEW_PASSPHRASE_PROMPT = N_("New vault passphrase")
RECOVERY_CODE_PROMPT = N_("Recovery code")
PASSWORD_PROMPT = N_("Password")
RECOVERY_CODE = N_("Your recovery code (shown once; write it down and keep it safe):")
VAULT_UNLOCKED = N_("vault unlocked")
VAULT_LOCKED_NOW = N_("vault locked")
PASSPHRASE_CHANGED = N_("passphrase changed")
UPLOADING = N_("uploading")
DOWNLOADING = N_("downloading")
REMOVED_BEFORE_ENCRYPTION = N_("removed before encryption: {removed}")
DOWNLOADED = N_("{name} ({type}, {size} bytes) -> {path}")
NO_TRUST_ANCHORS = N_(
    "OZG_VAULT_TRUST_ANCHORS is not set; the authority key is trusted on the server's word"
)
SHARED = N_("shared with {authority}")
UNSHARED = N_("no longer shared with {authority}")
SERVER_REFUSED = N_("the server refused ({status}): {detail}")
AUTHORITY_KEY_REFUSED = N_("the authority key was refused: {detail}")
CRL_FILES_NOT_A_LIST = N_("not a list of paths")
TABLE_HEADERS = (
    N_("name"),
    N_("type"),
    N_("size"),
    N_("uploaded (UTC)"),
    N_("shared with"),
    N_("id"),
)
"""The columns of ``vault ls`` (the ``--json`` keys stay English)."""

# --------------------------------------------------------------------------- login
LOGGED_IN = N_("logged in; your login is kept in {path} (readable by you only)")
LOGGED_IN_TOKEN = N_("logged in; the token is stored in {path} (it is not renewed)")
LOGGED_OUT = N_("logged out")
DEVICE_LOGIN = N_("open {uri} in a browser and enter the code {code}")
BROWSER_LOGIN = N_("open this address in your browser to log in:")

# --------------------------------------------------------------------------- key files
KEY_FILE_MISSING = N_("--key-file {path}: no such file")
KEY_FILE_UNREADABLE = N_("--key-file {path}: {reason}")
KEY_FILE_INVALID = N_("--key-file {path}: not a private key (PEM or JWK)")

# --------------------------------------------------------------------------- the network
CANNOT_REACH = N_("cannot reach the server at {url}")


def cannot_reach(url: object) -> str:
    """The line for a server that does not answer, naming the URL that was tried (without
    its query, which may carry a state or a code)."""
    text = str(url).split("?", 1)[0].split("#", 1)[0]
    return _(CANNOT_REACH, url=text)


def unreachable(exc: BaseException, fallback: object = "?") -> str:
    """:func:`cannot_reach` for a failed request (an ``httpx.TransportError``): the URL of
    the request that failed, else ``fallback`` (the server's base URL)."""
    try:
        tried = exc.request.url  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError if none is attached
        tried = fallback
    return cannot_reach(tried)
