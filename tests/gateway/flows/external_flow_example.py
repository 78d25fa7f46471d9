"""An external flow over HTTP (docs/flows.md, section 9, shows this file verbatim).

Two halves. ``FlowServer`` runs on the flow's own servers with a client-credentials token:
it sees states, fee facts and sealed bytes, never a form value. ``run`` plays the flow's
front end on the applicant's device: with the applicant's own token and the gateway's client
code (``gateway.client``) it validates the form, seals it to the applicant's vault key,
derives the fee facts and pays; it hands the server only what the server may see.
"""

from __future__ import annotations

from typing import Any

import httpx

from gateway.client.applicant import ApplicantClient
from vault.client import keys

FLOW_ID = "employment"
LEIKA = "urn:de:fim:leika:leistung:99010003001000"


def flow_token(
    http: httpx.Client, issuer: str, client_id: str, secret: str, scope: str | None = None
) -> str:
    """A flow client's access token (client credentials, RFC 6749 §4.4). ``scope`` narrows
    the grant to the scopes named (space-separated), e.g. ``"cases:read cases:write"``."""
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope:
        data["scope"] = scope
    response = http.post(f"{issuer}/protocol/openid-connect/token", data=data)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


class FlowServer:
    """The flow's server: it acts only within cases the applicant allowed it into."""

    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http = http
        self.auth = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, headers=self.auth, **kwargs)
        response.raise_for_status()  # a refusal is problem+json: its detail says why
        return response

    def cases(self) -> list[dict[str, Any]]:
        """The cases this flow may act in, newest first (cases:read)."""
        cases: list[dict[str, Any]] = self._call("GET", "/v1/cases").json()
        return cases

    def case(self, case_id: str) -> dict[str, Any]:
        """State, applicant-facing status and timeline (cases:read)."""
        case: dict[str, Any] = self._call("GET", f"/v1/cases/{case_id}").json()
        return case

    def store_sealed_draft(self, case_id: str, sealed: bytes) -> None:
        """Relay the draft the device sealed; the server checks it is sealed to the
        applicant's key and cannot open it (cases:write)."""
        headers = {**self.auth, "Content-Type": "application/octet-stream"}
        response = self.http.put(f"/v1/cases/{case_id}/draft", content=sealed, headers=headers)
        response.raise_for_status()

    def choose_authority(self, case_id: str, authority: str) -> None:
        """The authority the device chose from the public routing endpoint (cases:write)."""
        self._call("PUT", f"/v1/cases/{case_id}/authority", json={"authority": authority})

    def declare_fee_facts(self, case_id: str, facts: dict[str, Any]) -> dict[str, Any]:
        """The fee facts the device derived and showed the applicant -> a quote (cases:write)."""
        body = {"facts": facts, "waiver_requested": False}
        answer = self._call("PUT", f"/v1/cases/{case_id}/fee-facts", json=body).json()
        quote: dict[str, Any] = answer["quote"]
        return quote


def run(
    http: httpx.Client,
    applicant_token: str,
    server: FlowServer,
    form: dict[str, Any],
    *,
    passphrase: str,
    client_id: str = "demo-flow",
    ars: str = "120720000000",
    public_url: str | None = None,
) -> dict[str, Any]:
    """The flow's whole part in one application, up to the paid draft; returns the case as
    the flow's server last saw it."""
    device = ApplicantClient(str(http.base_url), applicant_token, http=http, public_url=public_url)
    # The applicant's vault key pair is made on the device (once per applicant); the
    # server keeps only wrapped copies. ARGON2_MINIMUM keeps the example fast.
    device.vault.keygen(passphrase, keys.ARGON2_MINIMUM)
    key = device.vault.unlock(passphrase)

    # 1. The applicant starts the case in the flow's front end and allows the flow into it
    #    (an existing case: device.allow_flow(case_id, client_id)).
    case_id: str = device.start_case(FLOW_ID, allow_client=client_id)["id"]
    assert case_id in [c["id"] for c in server.cases()]

    # 2. The form is validated and sealed on the device; the flow's server relays bytes.
    flow = device.flow(FLOW_ID)
    errors = device.validate(flow, form, "en")
    if errors:
        raise ValueError(f"the form does not validate: {errors}")
    server.store_sealed_draft(case_id, device.seal_draft(form, key))

    # 3. The device routes by the (sealed) address; the server learns only the authority.
    route = device.route(LEIKA, ars)
    server.choose_authority(case_id, route["customParameters"]["authorityId"])

    # 4. The device derives the fee facts, shows them to the applicant, and the flow's
    #    server declares exactly those; the applicant pays on the device.
    facts = device.fee_facts(flow, form)
    quote = server.declare_fee_facts(case_id, facts)
    device.pay_in_sandbox(case_id, quote["id"])

    # 5. The applicant resumes on any device: the draft opens only with their key.
    if device.load_draft(case_id, key) != form:
        raise ValueError("the resumed draft differs from the form")
    seen = server.case(case_id)

    # 6. The applicant may take the permission back at any time.
    device.revoke_flow(case_id)
    assert case_id not in [c["id"] for c in server.cases()]
    return seen
