"""The portal's one authority-key check (static/js/authority-key.js with the vendored
@peculiar/x509, under Node 20) accepts and refuses exactly what the Python references do:
for a submission's destination key gateway.fitconnect.validate_destination_key, for sharing a
document vault.pki.validate_authority_jwk with the vault's revocation check (the chain to the
pinned roots, the CRL, the binding to the authority and the JWK members)."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.fitconnect import InvalidDestinationKey, validate_destination_key
from gateway.fitconnect.demo import make_demo_authority
from gateway.fitconnect.keys import authority_urn
from tests.gateway.fitconnect.conftest import AUTHORITY, NOW, Pki
from tests.gateway.portal.jsharness import NODE, ROOT, require_node
from vault import RevocationChecker
from vault.errors import InvalidKey
from vault.pki import issue_authority_key, make_ca, make_crl, validate_authority_jwk
from vault.recipients import MIN_RSA_BITS

HARNESS = ROOT / "gateway" / "portal" / "js-tests" / "destination.mjs"


@pytest.fixture(scope="module")
def pki() -> Pki:
    """A test CA and an authority's keys under it, as tests/gateway/fitconnect makes them."""
    ca_key, ca_cert = make_ca("FIT-Connect test CA", NOW)
    authority = make_demo_authority(ca_key, ca_cert, AUTHORITY, NOW)
    return Pki(ca_key, ca_cert, authority, rsa.generate_private_key(65537, 4096))


def _pem(item: Any) -> str:
    return str(item.public_bytes(Encoding.PEM).decode())


def _cases(pki: Pki) -> dict[str, tuple[dict[str, Any], str]]:
    good = pki.authority.encryption_jwk
    issue = issue_authority_key
    other_ca = make_ca("another CA", NOW)
    revoked = issue(pki.ca_key, pki.ca_cert, AUTHORITY, NOW)[1]
    return {
        "good": (good, AUTHORITY),
        "another authority": (good, "lk-potsdam-mittelmark"),
        "revoked": (revoked, AUTHORITY),
        "another CA": (issue(*other_ca, AUTHORITY, NOW)[1], AUTHORITY),
        "expired": (
            issue(pki.ca_key, pki.ca_cert, AUTHORITY, NOW - timedelta(days=400))[1],
            AUTHORITY,
        ),
        "no binding": (issue(pki.ca_key, pki.ca_cert, AUTHORITY, NOW, san_uris=[])[1], AUTHORITY),
        "two authorities": (
            issue(
                pki.ca_key,
                pki.ca_cert,
                AUTHORITY,
                NOW,
                san_uris=[authority_urn(AUTHORITY), authority_urn("other")],
            )[1],
            AUTHORITY,
        ),
        "short key": (issue(pki.ca_key, pki.ca_cert, AUTHORITY, NOW, bits=2048)[1], AUTHORITY),
        "no key encipherment": (
            issue(pki.ca_key, pki.ca_cert, AUTHORITY, NOW, key_encipherment=False)[1],
            AUTHORITY,
        ),
        "leaf only, another key": ({**good, "n": pki.authority.signing_jwk["n"]}, AUTHORITY),
        "key_ops encrypt": ({**good, "key_ops": ["encrypt"]}, AUTHORITY),
        "private": ({**good, "d": "AAAA"}, AUTHORITY),
        "root swapped": ({**good, "x5c": [good["x5c"][0], _b64der(other_ca[1])]}, AUTHORITY),
    }


def _browser(request: dict[str, Any], tmp_path: Path) -> list[str | None]:
    """The harness's verdict per case: None (accepted) or the refusal."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    proc = subprocess.run(
        [NODE, str(HARNESS), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    results: list[str | None] = json.loads(proc.stdout)["results"]
    return results


def _b64der(cert: Any) -> str:
    import base64

    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def _revoking(
    pki: Pki, cases: dict[str, tuple[dict[str, Any], str]], options: dict[str, Any]
) -> tuple[RevocationChecker, dict[str, Any]]:
    """The CA's current CRL revoking the "revoked" case, as Python's checker and as the
    harness's request for every case (with ``options``, e.g. minBits)."""
    crl = make_crl(pki.ca_key, pki.ca_cert, [_serial(cases["revoked"][0])], NOW)
    request = {
        "trust": {"anchors": [_pem(pki.ca_cert)], "crls": [_pem(crl)]},
        "now": NOW.isoformat(),
        "cases": [{"jwk": jwk, "authority": who, **options} for jwk, who in cases.values()],
    }
    return RevocationChecker(crls=[crl], anchors=[pki.ca_cert]), request


def test_the_browser_accepts_and_refuses_destination_keys_as_python_does(
    pki: Pki, tmp_path: Path
) -> None:
    require_node()
    cases = _cases(pki)
    revocation, request = _revoking(pki, cases, {})
    results = _browser(request, tmp_path)
    for (name, (jwk, who)), browser in zip(cases.items(), results, strict=True):
        try:
            validate_destination_key(
                jwk, authority=who, anchors=[pki.ca_cert], revocation=revocation, now=NOW
            )
            python = None
        except InvalidDestinationKey as exc:
            python = str(exc)
        assert (browser is None) == (python is None), (name, browser, python)
    assert results[0] is None
    assert "revoked" in (results[2] or "")
    assert "another authority" in (results[1] or "")


def test_without_a_current_crl_nothing_is_accepted(pki: Pki, tmp_path: Path) -> None:
    """Fail closed: a CRL out of date (or none) refuses even the good key."""
    require_node()
    stale = make_crl(pki.ca_key, pki.ca_cert, [], NOW - timedelta(days=30))
    request = {
        "trust": {"anchors": [_pem(pki.ca_cert)], "crls": [_pem(stale)]},
        "now": NOW.isoformat(),
        "cases": [{"jwk": pki.authority.encryption_jwk, "authority": AUTHORITY}],
    }
    [result] = _browser(request, tmp_path)
    assert result is not None
    assert "revocation list" in result


def test_sharing_a_document_checks_the_key_as_the_vault_does(pki: Pki, tmp_path: Path) -> None:
    """documents-list.js shares only to a key the vault would register: the same chain, CRL
    and binding checks, with the vault's minimum key size (3072 bits, not 4096)."""
    require_node()
    cases = _cases(pki)
    cases["3072 bits"] = (
        issue_authority_key(pki.ca_key, pki.ca_cert, AUTHORITY, NOW, bits=3072)[1],
        AUTHORITY,
    )
    revocation, request = _revoking(pki, cases, {"minBits": MIN_RSA_BITS})
    results = _browser(request, tmp_path)
    for (name, (jwk, who)), browser in zip(cases.items(), results, strict=True):
        try:
            validated = validate_authority_jwk(jwk, [pki.ca_cert], NOW, authority=who)
            revocation.check_chain(validated.chain, NOW)
            python = None
        except (InvalidKey, ValueError) as exc:
            python = str(exc)
        assert (browser is None) == (python is None), (name, browser, python)
    assert results[-1] is None  # 3072 bits: enough to share, not for a submission
    assert "revoked" in (results[2] or "")
    assert "another authority" in (results[1] or "")


def _serial(jwk: dict[str, Any]) -> int:
    import base64

    from cryptography import x509

    return x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0])).serial_number
