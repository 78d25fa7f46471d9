"""The embedded default: three demo authorities in Brandenburg, with keys made at first start.

Without ``OZG_AUTHORITIES_FILE`` (development only) the registry holds Landkreis
Teltow-Fläming (``tf``), Landkreis Elbe-Elster (``ee``) and Landeshauptstadt Potsdam (``p``).
Their regional codes are real (Kreisschlüssel 12072 and 12062, Potsdam's
Gemeindeschlüssel 12054000); their portal data is **demo data** (addresses of the
authorities' offices, illustrative texts), not for real applications.

Each demo authority gets an RSA-4096 encryption key (``key_ops ["wrapKey"]``,
RSA-OAEP-256) and an RSA-4096 PS512 event-signing key, certified by the vault's demo CA
(:func:`gateway.authorities.vaultlink.demo_ca`) with the authority binding SAN URI
``urn:ozg-commons:authority:<id>``. They are generated once, under
``data_dir/authorities/demo/``, whatever the current directory: under a file lock (two
processes starting at once make one set) and written atomically (temporary file, then rename),
so a later start only reads them. The **private** keys stay in that directory (mode 0600)
so that ``ozg-commons demo`` and the tests can act as the authority; a production deployment
never holds an authority's private keys.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from commons.flows import Text
from commons.settings import Settings
from gateway.authorities.registry import (
    Address,
)
from gateway.authorities.vaultlink import demo_ca
from gateway.fitconnect.demo import make_demo_authority

#: The reference flows every demo authority accepts.
REFERENCE_FLOWS = (
    "employment",
    "extension",
    "settlement",
    "family",
    "training",
    "change-of-conditions",
)
#: Ten years, like the demo CA: a development data directory never sees its keys expire.
CERT_DAYS = 3650
_NAMESPACE = uuid.UUID("6f3d8a52-2b7e-4c1e-9a53-8d1f0c2b7a11")


def demo_destination_id(authority: str) -> str:
    """A fixed destination id per demo authority (UUID v5), the same in every deployment."""
    return str(uuid.uuid5(_NAMESPACE, f"urn:ozg-commons:demo-authority:{authority}"))


_DOCS = Text(
    de="<p>Gültiger Reisepass, biometrisches Lichtbild, Nachweis der Krankenversicherung, "
    "Mietvertrag oder Wohnungsgeberbestätigung sowie die Unterlagen, die der gewählte "
    "Antrag nennt.</p>",
    en="<p>Valid passport, biometric photo, proof of health insurance, tenancy agreement or "
    "landlord's confirmation, and the documents the chosen application lists.</p>",
)


def _info(office: str) -> Text:
    return Text(
        de=f"<p>Demo-Daten: {office}. Die Ausländerbehörde meldet sich nach Eingang des "
        "Antrags mit einem Termin zur Vorsprache (Fingerabdrücke, Unterschrift).</p>",
        en=f"<p>Demo data: {office}. After receiving the application the immigration office "
        "sends an appointment to appear in person (fingerprints, signature).</p>",
    )


@dataclass(frozen=True, slots=True)
class _Demo:
    id: str
    name: Text
    short_name: str
    ars: tuple[str, ...]
    ags: tuple[str, ...]
    address: Address
    website: str
    email: str


# Regional codes: Destatis Regionalschlüssel, Brandenburg's scheme (Land 12, Regierungsbezirk 0,
# Kreis 51-54 kreisfreie Städte / 60-73 Landkreise); Teltow-Fläming 12 0 72, Elbe-Elster
# 12 0 62, Potsdam 12 0 54 000 (see docs/authorities.md for the sources).
DEMO_AUTHORITIES = (
    _Demo(
        id="tf",
        name=Text(de="Landkreis Teltow-Fläming", en="Teltow-Fläming District"),
        short_name="Ausländerbehörde Teltow-Fläming",
        ars=("120720000000",),
        ags=("12072",),
        address=Address("Am Nuthefließ", "2", "14943", "Luckenwalde"),
        website="https://www.teltow-flaeming.de",
        email="auslaenderbehoerde@teltow-flaeming.de",
    ),
    _Demo(
        id="ee",
        name=Text(de="Landkreis Elbe-Elster", en="Elbe-Elster District"),
        short_name="Ausländerbehörde Elbe-Elster",
        ars=("120620000000",),
        ags=("12062",),
        address=Address("Ludwig-Jahn-Straße", "2", "04916", "Herzberg (Elster)"),
        website="https://www.lkee.de",
        email="auslaenderbehoerde@lkee.de",
    ),
    _Demo(
        id="p",
        name=Text(de="Landeshauptstadt Potsdam", en="City of Potsdam"),
        short_name="Migrationsamt Potsdam",
        ars=("120540000000",),
        ags=("12054000",),
        address=Address("Helene-Lange-Straße", "6/7", "14469", "Potsdam"),
        website="https://www.potsdam.de",
        email="mia@rathaus.potsdam.de",
    ),
)


def demo_dir(settings: Settings) -> Path:
    return settings.data_dir / "authorities" / "demo"


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_private(path: Path) -> rsa.RSAPrivateKey:
    return _parse_private(path.read_bytes(), path.name)


@functools.lru_cache(maxsize=64)
def _parse_private(pem: bytes, name: str) -> rsa.RSAPrivateKey:
    """Parse (and check) a demo key once per process: checking an RSA-4096 key costs tens of
    milliseconds, and every app start of a process (tests, workers) reads the same six."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{name} is not an RSA private key")
    return key


@dataclass(frozen=True, slots=True)
class DemoKeys:
    """A demo authority's key pairs as stored under ``data_dir/authorities/demo/``."""

    authority: str
    encryption_key: rsa.RSAPrivateKey
    encryption_jwk: dict[str, Any]
    signing_key: rsa.RSAPrivateKey
    signing_jwk: dict[str, Any]


def key_paths(settings: Settings, authority: str) -> tuple[Path, Path, Path]:
    """(public JWKs, encryption private key, signing private key) of a demo authority."""
    directory = demo_dir(settings)
    return (
        directory / f"{authority}.json",
        directory / f"{authority}-encryption.key.pem",
        directory / f"{authority}-signing.key.pem",
    )


def ensure_demo_keys(settings: Settings, now: datetime | None = None) -> dict[str, DemoKeys]:
    """Every demo authority's keys, generated on first use (see the module doc)."""
    directory = demo_dir(settings)
    with locked(directory):
        ca = None
        found: dict[str, DemoKeys] = {}
        for demo in DEMO_AUTHORITIES:
            jwks, enc_path, sig_path = key_paths(settings, demo.id)
            if not jwks.exists():
                if ca is None:
                    ca = demo_ca(settings)
                made = make_demo_authority(
                    ca[0], ca[1], demo.id, now or datetime.now(UTC), days=CERT_DAYS
                )
                write_atomic(enc_path, _pem(made.encryption_key), 0o600)
                write_atomic(sig_path, _pem(made.signing_key), 0o600)
                public = {"encryption_jwk": made.encryption_jwk, "signing_jwk": made.signing_jwk}
                write_atomic(jwks, json.dumps(public, indent=2).encode())
            public = json.loads(jwks.read_text())
            found[demo.id] = DemoKeys(
                authority=demo.id,
                encryption_key=_load_private(enc_path),
                encryption_jwk=public["encryption_jwk"],
                signing_key=_load_private(sig_path),
                signing_jwk=public["signing_jwk"],
            )
        return found


def demo_entries(settings: Settings) -> list[dict[str, Any]]:
    """The embedded default as entries of the authorities file format (keys inline)."""
    keys = ensure_demo_keys(settings)
    entries = []
    for demo in DEMO_AUTHORITIES:
        k = keys[demo.id]
        entries.append(
            {
                "id": demo.id,
                "name": demo.name.as_json(),
                "destination_id": demo_destination_id(demo.id),
                "ars": list(demo.ars),
                "ags": list(demo.ags),
                "flows": list(REFERENCE_FLOWS),
                "metadata_versions": ["1.0.0"],
                "reply_channels": ["eMail"],
                "encryption_key": {"jwk": k.encryption_jwk},
                "signature_key": {"jwk": k.signing_jwk},
                "portal": {
                    "short_name": demo.short_name,
                    "demo": True,
                    "address": {
                        "street": demo.address.street,
                        "house_number": demo.address.house_number,
                        "postal_code": demo.address.postal_code,
                        "city": demo.address.city,
                    },
                    "email": demo.email,
                    "privacy_policy_url": f"{demo.website}/datenschutz",
                    "accessibility_url": f"{demo.website}/barrierefreiheit",
                    "imprint_url": f"{demo.website}/impressum",
                    "further_information": _info(demo.short_name).as_json(),
                    "required_documents": _DOCS.as_json(),
                    "processing_duration": {"min": 4, "max": 12, "unit": "weeks"},
                },
            }
        )
    return entries


__all__ = [
    "DEMO_AUTHORITIES",
    "REFERENCE_FLOWS",
    "DemoKeys",
    "demo_destination_id",
    "demo_entries",
    "ensure_demo_keys",
    "key_paths",
]
