"""The authority's client, on the authority's own machine: fetch, decrypt, check and
acknowledge submissions (:mod:`gateway.client.authority_fetch`), and move cases on.

The authority's private keys never leave the authority: they are read from files on its
machine (``--key-file``, ``--signing-key-file``), and everything that needs them happens
here: JWE decryption, the signed acknowledgement, sealing messages and decision letters to
the applicant's vault key. The server gets ciphertext, signed events and sealed envelopes.

httpx only: no web framework, no database (an import-linter contract); it talks to the
server over the same HTTP API that any other authority software uses (docs/authority.md).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from commons.cli_messages import unreachable
from commons.clock import Clock, SystemClock
from commons.encoding import b64url_encode
from commons.errors import OzgError
from commons.i18n import N_, _, accept_language
from gateway.fitconnect import kid_for
from vault import public_jwk, public_key_from_jwk, seal

MIN_RSA_BITS = 4096
ENCRYPTION_SUFFIX = "-encryption.key.pem"
SIGNING_SUFFIX = "-signing.key.pem"
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
PARALLEL_DOWNLOADS = 2  # the attachments a fetch downloads at once (see AuthorityClient)
LANGUAGES = ("de", "en")


class AuthorityClientError(OzgError):
    """Something the authority's client cannot do; the message is one line that says what
    to fix (the command line prints it without a traceback)."""

    status = 400
    code = "authority-client"
    title = "Authority client error"


class KeyFileError(AuthorityClientError):
    code = "key-file"
    title = "Unusable key file"


class ServerError(AuthorityClientError):
    """The server refused a request: ``status`` and the problem document it sent."""

    code = "server-refused"
    title = "The server refused the request"

    def __init__(self, what: str, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        detail = body.get("detail") if isinstance(body, dict) else None
        super().__init__(f"{what}: HTTP {response.status_code}" + (f": {detail}" if detail else ""))
        self.status_code = response.status_code
        self.problem = body if isinstance(body, dict) else {}


# --------------------------------------------------------------------------- keys
def load_rsa_private_key(path: Path, what: str = N_("key file")) -> rsa.RSAPrivateKey:
    """An RSA private key (PEM, PKCS#8 or PKCS#1, unencrypted) of at least 4096 bits from
    ``path``; :class:`KeyFileError` with a one-line reason otherwise (in the command line's
    language; ``what`` is a marked message such as ``N_("key file")``)."""
    what = _(what)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(_("{what} {path} does not exist", what=what, path=path)) from None
    except IsADirectoryError:
        raise KeyFileError(
            _("{what} {path} is a directory, not a PEM file", what=what, path=path)
        ) from None
    except OSError as exc:
        raise KeyFileError(
            _("{what} {path} cannot be read: {reason}", what=what, path=path, reason=exc.strerror)
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(
            _("{what} {path} is password-protected; give an unencrypted PEM", what=what, path=path)
        ) from None
    except ValueError:
        raise KeyFileError(
            _("{what} {path} is not a PEM private key", what=what, path=path)
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(_("{what} {path} is not an RSA key", what=what, path=path))
    if key.key_size < MIN_RSA_BITS:
        raise KeyFileError(
            _(
                "{what} {path} has {bits} bits; FIT-Connect needs ≥ 4096",
                what=what,
                path=path,
                bits=key.key_size,
            )
        )
    return key


def default_signing_key_file(key_file: Path) -> Path | None:
    """The signing key beside an encryption key in the demo authorities' layout
    (``<id>-encryption.key.pem`` → ``<id>-signing.key.pem``), if the name fits."""
    if key_file.name.endswith(ENCRYPTION_SUFFIX):
        return key_file.with_name(key_file.name[: -len(ENCRYPTION_SUFFIX)] + SIGNING_SUFFIX)
    return None


def key_kid(key: rsa.RSAPrivateKey) -> str:
    """The RFC 7638 thumbprint of the public half: our destinations' ``kid``."""
    return kid_for(public_jwk(key.public_key()))


# --------------------------------------------------------------------------- tokens
@dataclass
class ClientCredentials:
    """OAuth 2.0 client credentials (RFC 6749 §4.4) against ``token_url``, cached until
    shortly before the token expires."""

    token_url: str
    client_id: str
    client_secret: str
    clock: Clock = field(default_factory=SystemClock)
    _token: str | None = field(default=None, repr=False)
    _expires: float = 0.0

    def __call__(self) -> str:
        now = self.clock.now().timestamp()
        if self._token is None or now >= self._expires:
            try:
                response = httpx.post(
                    self.token_url,
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                    },
                    timeout=TIMEOUT,
                )
            except httpx.HTTPError as exc:
                raise AuthorityClientError(f"token endpoint {self.token_url}: {exc}") from None
            if response.status_code != 200:
                raise ServerError(f"token for client {self.client_id}", response)
            body = response.json()
            self._token = str(body["access_token"])
            self._expires = now + max(int(body.get("expires_in", 60)) - 30, 1)
        return self._token


TokenSource = Callable[[], str] | str | None


# --------------------------------------------------------------------------- the client
class AuthorityClient:
    """The authority's HTTP client: the FIT-Connect Submission API (``/fit-connect/v1``)
    and the cases' authority operations (``/v1/authority/cases``).

    ``http`` may be any httpx-style client whose base URL is the server (a FastAPI
    ``TestClient`` in tests); otherwise an ``httpx.Client`` is made for ``base_url``.
    ``downloads`` is how many attachments the fetch downloads at once: by default
    :data:`PARALLEL_DOWNLOADS` on the client made here (httpx's pool is thread-safe, and
    keeps a connection alive for each), one on an injected client, whose safety for
    requests from several threads at once is not known.
    """

    def __init__(
        self,
        base_url: str = "",
        *,
        token: TokenSource = None,
        http: Any = None,
        clock: Clock | None = None,
        downloads: int | None = None,
    ) -> None:
        if downloads is not None and downloads < 1:
            raise ValueError("downloads must be at least 1")
        self.downloads = downloads or (PARALLEL_DOWNLOADS if http is None else 1)
        self._owns_http = http is None
        # The server's problem details in the caseworker's language (LANG), else English;
        # an injected client is the caller's, configured by them.
        self.http: httpx.Client = http or httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=TIMEOUT,
            headers={"Accept-Language": accept_language()},
        )
        self.token = token
        self.clock: Clock = clock or SystemClock()

    def close(self) -> None:
        """Close the HTTP client if this object made it (an injected one stays open)."""
        if self._owns_http:
            self.http.close()

    # -- plumbing
    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        result = dict(extra or {})
        token = self.token() if callable(self.token) else self.token
        if token:
            result["Authorization"] = f"Bearer {token}"
        return result

    def request(
        self, method: str, path: str, what: str, *, ok: tuple[int, ...] = (200,), **kw: Any
    ) -> httpx.Response:
        try:
            response = self.http.request(
                method, path, headers=self.headers(kw.pop("headers", None)), **kw
            )
        except httpx.HTTPError as exc:
            raise AuthorityClientError(f"{what}: {unreachable(exc, self.http.base_url)}") from None
        if response.status_code not in ok:
            raise ServerError(what, response)
        return response

    def get_json(self, path: str, what: str, **kw: Any) -> Any:
        return self.request("GET", path, what, **kw).json()

    @contextmanager
    def stream(self, path: str, what: str) -> Iterator[httpx.Response]:
        try:
            with self.http.stream("GET", path, headers=self.headers()) as response:
                if response.status_code != 200:
                    response.read()
                    raise ServerError(what, response)
                yield response
        except httpx.HTTPError as exc:
            raise AuthorityClientError(f"{what}: {unreachable(exc, self.http.base_url)}") from None

    # -- the FIT-Connect Submission API
    def destination_of(self, authority: str) -> str:
        """The destination id of ``authority`` (``GET /v1/authorities/{id}``)."""
        body = self.get_json(f"/v1/authorities/{authority}", f"authority {authority}")
        destination = body.get("destinationId") if isinstance(body, dict) else None
        if not isinstance(destination, str):
            raise AuthorityClientError(
                _("the server names no destination for {authority}", authority=authority)
            )
        return destination

    def destination(self, destination_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get_json(
            f"/fit-connect/v1/destinations/{destination_id}", f"destination {destination_id}"
        )
        return body

    def has_destination_key(self, destination_id: str, kid: str) -> bool:
        try:
            self.request("GET", f"/fit-connect/v1/destinations/{destination_id}/keys/{kid}", "key")
        except ServerError as exc:
            if exc.status_code == 404:
                return False
            raise
        return True

    def submissions(self, destination_id: str, page: int = 500) -> list[dict[str, Any]]:
        """Every submission of the destination ready to fetch, oldest first (all pages)."""
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            body = self.get_json(
                "/fit-connect/v1/submissions",
                "list submissions",
                params={"destinationId": destination_id, "offset": offset, "limit": page},
            )
            batch = body.get("submissions", [])
            found += batch
            offset += len(batch)
            if not batch or offset >= int(body.get("totalCount", 0)):
                return found

    def submission(self, submission_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get_json(
            f"/fit-connect/v1/submissions/{submission_id}", f"submission {submission_id}"
        )
        return body

    @contextmanager
    def attachment(self, submission_id: str, attachment_id: str) -> Iterator[Iterator[bytes]]:
        """The attachment's JWE as it arrives, in the blocks the connection delivers
        them (no re-chunking copy: :func:`gateway.fitconnect.decrypt_stream` gathers them
        into steps and decrypts on the way, in constant memory)."""
        with self.stream(
            f"/fit-connect/v1/submissions/{submission_id}/attachments/{attachment_id}",
            f"attachment {attachment_id}",
        ) as response:
            yield response.iter_raw()

    def post_event(self, case_id: str, token: str) -> int:
        """Post a signed SET to the case's event log; returns the HTTP status (204, or 409
        when the submission was already acknowledged)."""
        response = self.request(
            "POST",
            f"/fit-connect/v1/cases/{case_id}/events",
            f"acknowledge case {case_id}",
            ok=(204, 409),
            content=token.encode("ascii"),
            headers={"Content-Type": "application/jose"},
        )
        return response.status_code

    # -- flows
    def flow(self, flow_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get_json(f"/v1/flows/{flow_id}", f"flow {flow_id}")
        return body

    def flows(self) -> list[dict[str, Any]]:
        body = self.get_json("/v1/flows", "flows")
        return list(body.get("flows", []))

    # -- the authority's case operations
    def cases(self, state: str | None = None) -> list[dict[str, Any]]:
        params = {"state": state} if state else {}
        result: list[dict[str, Any]] = self.get_json(
            "/v1/authority/cases", "list cases", params=params
        )
        return result

    def case(self, case_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get_json(f"/v1/authority/cases/{case_id}", f"case {case_id}")
        return body

    def processing(self, case_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.request(
            "POST", f"/v1/authority/cases/{case_id}/processing", f"case {case_id}"
        ).json()
        return body

    def seal_for_applicant(
        self, case_id: str, data: bytes, *, filename: str, media_type: str
    ) -> str:
        """Seal ``data`` here, on the authority's device, to the applicant's vault key (as
        the server names it for this case); the base64url envelope text."""
        key = self.get_json(
            f"/v1/authority/cases/{case_id}/applicant-key", f"applicant key of case {case_id}"
        )
        recipient = public_key_from_jwk(key["public_jwk"])
        out = io.BytesIO()
        seal(data, out, [recipient], filename=filename, media_type=media_type)
        return b64url_encode(out.getvalue())

    def request_documents(
        self, case_id: str, document_types: list[str], message: str, lang: str = "de"
    ) -> dict[str, Any]:
        """Ask for more documents with ``message`` (in the applicant's language ``lang``),
        sealed to the applicant's key."""
        if lang not in LANGUAGES:
            raise AuthorityClientError(
                _("--lang must be one of {languages}", languages=", ".join(LANGUAGES))
            )
        if not message.strip():
            raise AuthorityClientError(_("the message is empty"))
        sealed = self.seal_for_applicant(
            case_id,
            message.encode("utf-8"),
            filename=f"message.{lang}.txt",
            media_type="text/plain",
        )
        body: dict[str, Any] = self.request(
            "POST",
            f"/v1/authority/cases/{case_id}/request-documents",
            f"case {case_id}",
            json={"document_types": document_types, "message": sealed},
        ).json()
        return body

    def decide(self, case_id: str, outcome: str, letter: bytes) -> dict[str, Any]:
        """Decide with the decision letter (PDF bytes), sealed to the applicant's key."""
        if outcome not in ("approved", "rejected"):
            raise AuthorityClientError(_("the outcome is approved or rejected"))
        if not letter.startswith(b"%PDF-"):
            raise AuthorityClientError(_("the decision letter must be a PDF"))
        sealed = self.seal_for_applicant(
            case_id, letter, filename="decision.pdf", media_type="application/pdf"
        )
        body: dict[str, Any] = self.request(
            "POST",
            f"/v1/authority/cases/{case_id}/decision",
            f"case {case_id}",
            json={"outcome": outcome, "letter": sealed},
        ).json()
        return body

    def decide_waiver(self, case_id: str, decision: str) -> dict[str, Any]:
        body: dict[str, Any] = self.request(
            "POST",
            f"/v1/authority/cases/{case_id}/waiver",
            f"case {case_id}",
            json={"decision": decision},
        ).json()
        return body


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by this user only (0600): the authority's decrypted files."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


_LETTER = {
    ("de", "approved"): (
        "Bescheid",
        "Ihrem Antrag wird stattgegeben.",
        "Den Aufenthaltstitel erhalten Sie nach Terminvereinbarung bei der Behörde.",
    ),
    ("de", "rejected"): (
        "Bescheid",
        "Ihr Antrag wird abgelehnt.",
        "Die Begründung und die Rechtsbehelfsbelehrung erhalten Sie gesondert.",
    ),
    ("en", "approved"): (
        "Decision",
        "Your application is approved.",
        "You receive the residence title at an appointment with the authority.",
    ),
    ("en", "rejected"): (
        "Decision",
        "Your application is rejected.",
        "The reasons and the information on legal remedies follow separately.",
    ),
}


def _pdf_text(value: str) -> bytes:
    raw = value.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def decision_letter_pdf(case_id: str, authority: str, outcome: str, lang: str, day: date) -> bytes:
    """A plain one-page decision letter (A4, Helvetica), for when the caseworker gives none:
    the authority, the date, the case id and the outcome in ``lang``."""
    import pikepdf

    if (lang, outcome) not in _LETTER:
        raise AuthorityClientError(_("a letter is de or en, approved or rejected"))
    title, verdict, next_step = _LETTER[(lang, outcome)]
    case_label = "Vorgang" if lang == "de" else "Case"
    lines = [authority, day.isoformat(), "", title, f"{case_label}: {case_id}", "", verdict,
             next_step]  # fmt: skip
    stream = (
        b"BT /F1 12 Tf 16 TL 72 770 Td "
        + b" ".join(b"(" + _pdf_text(line) + b") Tj T*" for line in lines)
        + b" ET"
    )
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(stream),
    )
    pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
